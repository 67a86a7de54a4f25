"""The parts of `make demo` (`scripts/demo.py`): `topology` starts the example services as a
local mesh, `checks` drives traffic through it and judges each policy, `procs` reads the
demo's child processes from `/proc`."""
