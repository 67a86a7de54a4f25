"""Pure functions from an immutable `MeshState` to Envoy v3 resources, one module per kind.

No I/O, no clock, no logging: identical input gives byte-identical output, because
resource versions are hashes of the serialized bytes.
"""
