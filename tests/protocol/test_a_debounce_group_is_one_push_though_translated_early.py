"""The pipeline translates the first change of a debounce group at once, while the
debouncer still waits for quiet; whatever arrives before quiet is translated on top, and
the group still goes out as one push with every change in it. If the early translation
fails, the whole group is translated again (a later change may mend the failure)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lucid.pipeline import DebounceConfig
from lucid.resources import Resources
from lucid.xds.resources import CLUSTER
from tests.protocol.conftest import (
    READ_TIMEOUT,
    SotwClient,
    Xds,
    names_in,
    registration,
    start_xds,
    stop_xds,
)

# Long enough that the second change surely lands inside the group on a loaded machine.
GROUP = DebounceConfig(quiet=1.0, max_delay=10.0)


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READ_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "the pipeline never started the round"
        await asyncio.sleep(0.005)


async def register(xds: Xds, name: str, number: int) -> None:
    await asyncio.to_thread(Resources(xds.store).apply, [registration(name, number)])


async def burst_reaches_one_push(xds: Xds) -> None:
    pipeline = xds.parts.pipeline
    async with xds.channel() as channel:
        client = SotwClient.ads(channel)
        await client.request(CLUSTER)
        await client.ack(await client.response())
        rounds = pipeline.rounds
        await register(xds, "billing", 10)
        await until(lambda: pipeline.busy)  # translating "billing" alone already
        await register(xds, "refunds", 11)
        pushed = await client.response()
        clusters = names_in(pushed)
        assert any("billing" in name for name in clusters), clusters
        assert any("refunds" in name for name in clusters), clusters
        assert await client.barrier() == []  # no push with "billing" alone, before or after
        assert pipeline.rounds == rounds + 1
        await client.close()


async def test_a_change_during_the_debounce_joins_the_push_of_the_first(
    tmp_path: Path,
) -> None:
    xds, tasks = await start_xds(tmp_path, debounce=GROUP)
    try:
        await burst_reaches_one_push(xds)
    finally:
        await stop_xds(xds, tasks)


async def test_a_failed_early_translation_is_retried_with_the_whole_group(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    xds, tasks = await start_xds(tmp_path, debounce=GROUP)
    pipeline = xds.parts.pipeline
    compute = pipeline._compute
    calls: list[int] = []

    def failing_first(changes: Any, *args: Any) -> Any:
        calls.append(len(changes))
        if len(calls) == 1:
            raise RuntimeError("the early translation broke")
        return compute(changes, *args)

    pipeline._compute = failing_first  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.ERROR, logger="lucid.pipeline.pipeline"):
            await burst_reaches_one_push(xds)
        assert len(calls) == 2 and calls[1] > calls[0], calls  # first alone, then the group
        assert "translating the first change(s) failed" in caplog.text
    finally:
        await stop_xds(xds, tasks)
