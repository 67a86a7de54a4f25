"""The end-to-end harness: real processes on free ports, torn down by PID.

`processes` (child processes, ports, waiting), `envoy` (local or Docker Envoy and its
admin interface), `upstreams` (the controllable HTTP and gRPC apps), `lucid` (`lucid
serve` and the CLI), `mesh` (all of them wired into a mesh). No pytest in here: the
tests and `scripts/demo.py` both use it.
"""
