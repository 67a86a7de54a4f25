"""The change feed as an async iterator, for the push pipeline's event loop.

Stores block (`Store.wait` sleeps on a condition, a poll or a change stream), so the loop
must never call them directly: `follow` runs each call in a worker thread and yields the
changes in batches, oldest first. Cancelling the consuming task stops it at once; the
worker thread still sleeps out its current `wait`, which is why `poll` bounds that wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator

from lucid.store.base import Change, Store

log = logging.getLogger(__name__)

DEFAULT_POLL = 1.0  # seconds a single wait may block its worker thread
GAP_BACKOFF = 0.05  # seconds to pause when the revision moved but its changes are not visible


async def follow(
    store: Store, *, since: int, poll: float = DEFAULT_POLL, limit: int = 1000
) -> AsyncGenerator[list[Change], None]:
    """Yield every change with a revision above `since`, in order, as they are written.

    A batch holds at most `limit` changes; the next batch continues after the last one, so
    a consumer that falls behind catches up without missing or repeating a change.
    """
    stalled = False
    while True:
        batch = await asyncio.to_thread(store.changes, since=since, limit=limit)
        if batch:
            since, stalled = batch[-1].revision, False
            yield batch
            continue
        if stalled:
            # The revision moved but its changes are not visible yet (a standalone MongoDB
            # write in flight, or an undone batch): look again shortly, skip nothing.
            log.debug("revision above %d has no visible changes yet", since)
            await asyncio.sleep(min(poll, GAP_BACKOFF))
        stalled = await asyncio.to_thread(store.wait, since=since, timeout=poll) > since
