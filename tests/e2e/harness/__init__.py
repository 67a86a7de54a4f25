"""The end-to-end harness: real processes on free ports, torn down by PID.

`processes` (child processes, ports, waiting), `envoy` and `envoy_docker` (a local or
Docker Envoy and its admin interface), `upstreams` (the controllable HTTP and gRPC apps),
`lucid` (`lucid serve` and the CLI), `instance` and `mesh` (all of them wired into a
mesh), `load` (a steady request stream for live updates). No pytest in here: the tests
and `scripts/demo.py` both use it.
"""
