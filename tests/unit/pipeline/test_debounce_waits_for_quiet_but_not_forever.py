"""Debouncing gathers a burst into one round, but never holds a change past max_delay."""

from __future__ import annotations

import asyncio

import pytest

from lucid.pipeline.debounce import DebounceConfig, Debouncer

SAFETY = 10.0  # a hang guard, not an assertion on timing


async def test_a_burst_becomes_one_group() -> None:
    debouncer: Debouncer[int] = Debouncer(DebounceConfig(quiet=0.2, max_delay=5.0))
    for batch in ([1], [2, 3], [4]):
        debouncer.put(batch)
    got = await asyncio.wait_for(debouncer.next(), SAFETY)
    assert got is not None and got[0] == [1, 2, 3, 4]


async def test_a_steady_trickle_is_cut_at_max_delay() -> None:
    debouncer: Debouncer[int] = Debouncer(DebounceConfig(quiet=0.2, max_delay=0.3))

    async def trickle() -> None:
        for number in range(1_000_000):  # never quiet for 0.2 s
            debouncer.put([number])
            await asyncio.sleep(0.01)

    feeding = asyncio.create_task(trickle())
    try:
        got = await asyncio.wait_for(debouncer.next(), SAFETY)
    finally:
        feeding.cancel()
    assert got is not None and got[0][0] == 0


async def test_nothing_within_the_idle_timeout_is_none() -> None:
    debouncer: Debouncer[int] = Debouncer(DebounceConfig())
    assert await debouncer.next(idle_timeout=0.01) is None


def test_a_quiet_period_longer_than_the_cap_is_refused() -> None:
    with pytest.raises(ValueError):
        DebounceConfig(quiet=1.0, max_delay=0.5)
