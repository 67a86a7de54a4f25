"""The xDS side of Lucid Mesh: resource types, the versioned cache and the gRPC servers.

This package file stays empty on purpose: `lucid.translators` may use `lucid.xds.resources`
(type URLs and ordering carry no state), and importing the package must not pull in the
cache or the gRPC servers, which sit above the translators in the import layering.
"""
