"""The round-trip runs over every store backend, like the store contract suite."""

from tests.store.conftest import store  # noqa: F401  (the parametrised backend fixture)
