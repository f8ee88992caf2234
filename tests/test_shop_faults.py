"""What every connector does when the shop fails: transient errors are retried with growing, jittered
waits that obey Retry-After; permanent ones surface at once, typed and naming the shop.
"""

from __future__ import annotations

import random

import pytest

from cloud_bridge.connectors import StockChange
from cloud_bridge.connectors.http import retry_after
from cloud_bridge.errors import RateLimited, ShopAuthError, ShopTimeout, TransientShopError
from cloud_bridge.retry import Retrier, RetryPolicy
from simulators.shops import ManualClock
from tests.shop_helpers import PLATFORMS, WRONG_CREDENTIALS, running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_errors_are_retried_with_growing_waits(platform: str, clock: ManualClock) -> None:
    with running(platform, clock) as (sim, connector):
        sim.fail_next(503, times=2)
        assert connector.get_stock(["OIL-1L"])["OIL-1L"].quantity == 24
        assert sim.total_calls >= 3
        first, second = clock.sleeps
        assert 0.25 <= first <= 0.5 <= second <= 1.0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_429_waits_at_least_the_retry_after(platform: str, clock: ManualClock) -> None:
    with running(platform, clock) as (sim, connector):
        sim.fail_next(429, retry_after="7")
        assert connector.set_stock([StockChange("BREAD", 4)])[0].ok
        assert sim.stock("BREAD") == 4
        assert clock.sleeps and clock.sleeps[0] >= 7


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_retry_after_too_long_to_wait_in_line_is_handed_back(platform: str, clock: ManualClock) -> None:
    with running(platform, clock) as (sim, connector):
        sim.fail_next(429, retry_after="3600")
        with pytest.raises(RateLimited) as caught:
            connector.get_stock(["OIL-1L"])
        assert caught.value.retry_after == 3600 and clock.sleeps == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_bad_credentials_fail_at_once_naming_the_shop(platform: str, clock: ManualClock) -> None:
    with running(platform, clock, **WRONG_CREDENTIALS[platform]) as (sim, connector):
        with pytest.raises(ShopAuthError, match=r"shop 'demo-.*credentials rejected"):
            connector.set_stock([StockChange("OIL-1L", 1)])
        assert sim.total_calls == 1 and clock.sleeps == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_slow_answer_times_out_and_is_retried(platform: str, clock: ManualClock) -> None:
    with running(platform, clock, timeout=0.2) as (sim, connector):
        sim.slow_next(0.6)
        assert connector.get_stock(["MILK-1L"])["MILK-1L"].quantity == 48
        assert len(clock.sleeps) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_dropped_connection_is_retried(platform: str, clock: ManualClock) -> None:
    with running(platform, clock) as (sim, connector):
        sim.drop_next()
        assert connector.get_stock(["MILK-1L"])["MILK-1L"].quantity == 48


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_shop_that_stays_down_ends_in_a_transient_error(platform: str, clock: ManualClock) -> None:
    with running(platform, clock) as (sim, connector):
        sim.fail_next(502, times=10)
        with pytest.raises(TransientShopError, match="502"):
            connector.get_stock(["OIL-1L"])
        assert sim.total_calls == 4 and len(clock.sleeps) == 3


def test_a_batch_write_failing_for_good_reports_every_item_and_leaves_stock_alone(clock: ManualClock) -> None:
    with running("woocommerce", clock) as (sim, connector):
        connector.get_stock(["OIL-1L", "BREAD"])
        sim.fail_next(500, times=4, match="batch")
        results = connector.set_stock([StockChange("OIL-1L", 1), StockChange("BREAD", 2)])
        assert all(isinstance(r.error, TransientShopError) for r in results)
        assert (sim.stock("OIL-1L"), sim.stock("BREAD")) == (24, 15)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("12") == 12.0
    assert retry_after("Wed, 21 Oct 2015 07:28:30 GMT") == 0.0  # in the past
    assert retry_after("soon") is None and retry_after(None) is None


def test_timeouts_are_typed_as_timeouts() -> None:
    clock = ManualClock()
    retrier = Retrier(RetryPolicy(attempts=2), clock, random.Random(1))
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ShopTimeout("s", "no answer")
        return 5

    assert retrier.run(flaky, "read") == 5 and len(clock.sleeps) == 1
    assert isinstance(ShopTimeout("s", "x"), TimeoutError)
