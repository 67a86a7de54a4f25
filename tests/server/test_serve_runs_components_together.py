"""Components share one loop: when one stops (or fails), every other is asked to stop."""

from __future__ import annotations

import asyncio

import pytest

from lucid.server import ServeError, is_loopback, listen, run_components


class Component:
    def __init__(self, name: str, *, lifetime: float | None = None, fail: bool = False):
        self.name = name
        self._lifetime = lifetime
        self._fail = fail
        self._stopped = asyncio.Event()
        self.stop_calls = 0

    async def run(self) -> None:
        if self._lifetime is not None:
            await asyncio.sleep(self._lifetime)
            if self._fail:
                raise RuntimeError(f"{self.name} broke")
            return
        await self._stopped.wait()

    def stop(self) -> None:
        self.stop_calls += 1
        self._stopped.set()


async def test_when_one_component_ends_the_others_are_stopped():
    api, xds = Component("api", lifetime=0.01), Component("xds")

    await asyncio.wait_for(run_components([api, xds]), timeout=5)

    assert xds.stop_calls == 1


async def test_a_failing_component_stops_the_rest_and_is_reported():
    broken, healthy = Component("xds", lifetime=0.01, fail=True), Component("api")

    with pytest.raises(ServeError, match="xds failed: xds broke"):
        await asyncio.wait_for(run_components([broken, healthy]), timeout=5)

    assert healthy.stop_calls == 1


@pytest.mark.parametrize(
    ("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("0.0.0.0", False)]
)
def test_the_bound_address_tells_whether_other_machines_can_connect(host, loopback):
    sock = listen(host, 0)
    try:
        assert is_loopback(sock) is loopback
        assert sock.getsockname()[1] != 0
    finally:
        sock.close()
