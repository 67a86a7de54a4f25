"""How checks are run: retries inside one check, bounded concurrency, spread start times."""

from __future__ import annotations

import asyncio

from lucid.models import ServiceRegistration
from lucid.registry.checker import HealthChecker, phase
from tests import builders
from tests.registry.conftest import upstream_registration, wait_for


def registration(number: int, port: int, **health) -> ServiceRegistration:
    return ServiceRegistration.model_validate(upstream_registration(number, port, **health))


async def ignore(registration, result) -> None:
    return None


async def test_a_check_passes_when_a_retry_passes(http_upstream):
    checker = HealthChecker(ignore)
    http_upstream.fail_next = 1
    loop = asyncio.get_running_loop()
    try:
        result = await checker.check(
            registration(1, http_upstream.port, retries=3), until=loop.time() + 5
        )
    finally:
        await checker.close()

    assert result.passed and result.attempts == 2


async def test_a_check_fails_when_every_attempt_fails(http_upstream):
    checker = HealthChecker(ignore)
    http_upstream.answer = 503
    loop = asyncio.get_running_loop()
    try:
        result = await checker.check(
            registration(1, http_upstream.port, retries=3, timeout=1), until=loop.time() + 5
        )
    finally:
        await checker.close()

    assert not result.passed and result.attempts == 3
    assert result.error == "HTTP 503, expected 200"


async def test_retries_never_run_into_the_next_check(http_upstream):
    checker = HealthChecker(ignore)
    http_upstream.answer = 503
    http_upstream.delay = 1.0  # each attempt takes a second; the next check is due in 5
    loop = asyncio.get_running_loop()
    try:
        result = await checker.check(
            registration(1, http_upstream.port, retries=10, timeout=2), until=loop.time() + 5
        )
    finally:
        await checker.close()

    assert result.attempts < 10


async def test_no_more_checks_run_at_once_than_the_concurrency_allows(http_upstream):
    checked: list[str] = []

    async def count(registration, result) -> None:
        checked.append(registration.serviceId)

    http_upstream.delay = 0.2
    checker = HealthChecker(count, concurrency=2)
    try:
        for number in range(1, 7):
            checker.schedule(registration(number, http_upstream.port))

        async def all_checked() -> bool:
            return len(set(checked)) == 6

        await wait_for(all_checked, what="six checks")
    finally:
        await checker.close()

    assert http_upstream.max_in_flight == 2


def test_start_up_checks_are_spread_evenly_over_the_interval():
    interval = 30
    offsets = [phase(builders.numbered_service_id(n), interval) for n in range(1000)]
    buckets = [0] * 10
    for offset in offsets:
        assert 0 <= offset < interval
        buckets[int(offset // 3)] += 1

    assert min(buckets) > 70 and max(buckets) < 130  # 100 each if perfectly even
