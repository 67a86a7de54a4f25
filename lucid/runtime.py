"""Process settings of `lucid serve`: how Python's garbage collector is paced.

A translation round allocates hundreds of thousands of short-lived objects (protobuf
wrappers, tuples, dataclasses). With CPython's default threshold (a collection every 700
net allocations) the collector runs hundreds of times per round, and each older-generation
pass walks every live object: the mesh state, the cached resources, the models. That is
about a tenth of a full translation of a 1,000-service mesh, for garbage that reference
counting frees anyway (translation makes few cycles).

So the server collects less often (`GC_THRESHOLDS`), and freezes what exists once start-up
is done (modules, descriptor pools, schemas: `gc.freeze`), so no pass ever walks them
again. Memory stays bounded: cycles are still found, just in larger batches.
`benchmarks/translate.py` runs with the same settings, as the server does.
"""

from __future__ import annotations

import gc
from typing import Final

# Young generation: collect after 20,000 net allocations instead of 700; the two older
# generations after 20 younger passes each (CPython also waits for a full pass until the
# long-lived objects have grown by a quarter).
GC_THRESHOLDS: Final = (20_000, 20, 20)


def tune_gc() -> None:
    """Apply the server's collector settings to this process (idempotent)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
