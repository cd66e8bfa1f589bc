"""Typed errors, the retry policy, and both transports against the emulator over real HTTP
(with the Volcengine client as the platform)."""

from __future__ import annotations

import asyncio
import pickle
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest

from airflow_provider_flinkcloud.clients.volcengine import PLATFORM
from airflow_provider_flinkcloud.core import transport
from airflow_provider_flinkcloud.core.errors import (
    AuthError,
    ConnectionFailedError,
    FlinkCloudApiError,
    JobFailedError,
    PermissionDeniedError,
    ThrottledError,
    TransientError,
)
from airflow_provider_flinkcloud.core.transport import (
    ApiCall,
    ApiRequest,
    ApiResponse,
    AsyncTransport,
    RetryPolicy,
    SyncTransport,
    parse_retry_after,
    shared_async_session,
)
from airflow_provider_flinkcloud.emulator import EmulatorControl
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
from airflow_provider_flinkcloud.models.volcengine import (
    StartApplicationInstanceRequest,
    VolcengineFlinkApp,
)
from support.fixtures import PROJECT_ID

FAST_RETRY = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05)


def api_error(cls: type[FlinkCloudApiError] = FlinkCloudApiError, **kwargs: Any) -> FlinkCloudApiError:
    return cls(platform=PLATFORM, operation="GetApplicationInstance", message="m", **kwargs)


# -- parse_retry_after --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5", 5.0), (" 2.5 ", 2.5), ("0", 0.0), ("-3", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_parse_retry_after_seconds_and_garbage(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_parse_retry_after_http_date() -> None:
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60.0
    assert (
        parse_retry_after(format_datetime(datetime(2015, 10, 21, 7, 27, 30, tzinfo=timezone.utc)), now)
        == 30.0
    )
    # A date in the past means "now".
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0


# -- RetryPolicy ------------------------------------------------------------------------------------


def test_not_retried_when_not_retryable_or_exhausted() -> None:
    policy = RetryPolicy(max_attempts=3)
    error = api_error(TransientError)
    assert policy.next_delay(1, error, retryable=False) is None
    assert policy.next_delay(3, error, retryable=True) is None
    assert policy.next_delay(4, error, retryable=True) is None
    assert policy.next_delay(2, error, retryable=True) is not None
    # Even a platform that asks to come back later is not retried when the call may not be repeated.
    assert policy.next_delay(1, api_error(ThrottledError, retry_after=1.0), retryable=False) is None


def test_single_attempt_policy_never_retries() -> None:
    assert RetryPolicy(max_attempts=1).next_delay(1, api_error(TransientError), retryable=True) is None


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 7, 12])
def test_backoff_is_exponential_with_jitter_within_bounds(attempt: int) -> None:
    policy = RetryPolicy(max_attempts=100, base_delay=0.5, max_delay=20.0)
    ceiling = min(20.0, 0.5 * 2 ** (attempt - 1))
    delays = [policy.next_delay(attempt, api_error(TransientError), retryable=True) for _ in range(300)]
    assert all(d is not None and ceiling / 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 1  # jittered, not a fixed sleep


def test_backoff_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(max_attempts=100, base_delay=1.0, max_delay=3.0)
    delays = [policy.next_delay(30, api_error(TransientError), retryable=True) for _ in range(100)]
    assert all(d is not None and 1.5 <= d <= 3.0 for d in delays)


def test_retry_after_is_honoured_over_backoff() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=20.0)
    delays = [
        policy.next_delay(1, api_error(ThrottledError, retry_after=7.0), retryable=True) for _ in range(100)
    ]
    assert all(d is not None and 7.0 <= d <= 7.1 for d in delays)


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_attempts=5, max_retry_after=120.0)
    delays = [
        policy.next_delay(1, api_error(ThrottledError, retry_after=3600.0), retryable=True) for _ in range(50)
    ]
    assert all(d is not None and 120.0 <= d <= 120.1 for d in delays)


# -- FlinkCloudApiError ----------------------------------------------------------------------------


def full_error(cls: type[FlinkCloudApiError] = ThrottledError) -> FlinkCloudApiError:
    return cls(
        platform=PLATFORM,
        operation="StartApplicationInstance",
        http_status=429,
        code="RequestLimitExceeded",
        message="Request limit exceeded, please try again later.",
        request_id="2024102808220301ABCDEF",
        retry_after=2.0,
    )


def test_error_text_carries_every_detail() -> None:
    text = str(full_error())
    for part in (
        PLATFORM,
        "StartApplicationInstance",
        "HTTP 429",
        "RequestLimitExceeded",
        "Request limit exceeded, please try again later.",
        "2024102808220301ABCDEF",
    ):
        assert part in text
    assert text == (
        "Volcengine Flink StartApplicationInstance failed (HTTP 429, RequestLimitExceeded): "
        "Request limit exceeded, please try again later. [request id 2024102808220301ABCDEF]"
    )


def test_error_text_without_status_or_code() -> None:
    error = FlinkCloudApiError(platform="P", operation="Op", message="no response")
    assert str(error) == "P Op failed: no response"


@pytest.mark.parametrize("cls", [ThrottledError, AuthError, PermissionDeniedError, ConnectionFailedError])
def test_error_pickles_round_trip(cls: type[FlinkCloudApiError]) -> None:
    error = full_error(cls)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert copy.args == error.args
    for name in ("platform", "operation", "http_status", "code", "message", "request_id", "retry_after"):
        assert getattr(copy, name) == getattr(error, name)


def test_job_failed_error_pickles_with_its_result() -> None:
    error = JobFailedError("instance 1 ended FAILED: boom", result={"state": "FAILED", "instance_id": "1"})
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is JobFailedError
    assert str(copy) == "instance 1 ended FAILED: boom"
    assert copy.result == {"state": "FAILED", "instance_id": "1"}


# -- transports against the emulator ------------------------------------------------------------


def calls(emulator: EmulatorControl, action: str) -> int:
    return emulator.counters().get("volcengine", {}).get("calls", {}).get(action, 0)


def started(emulator: EmulatorControl) -> int:
    return sum(emulator.counters().get("volcengine", {}).get("starts_by_app", {}).values())


@pytest.fixture
def hook(volcengine_conn: Any) -> VolcengineFlinkHook:
    return VolcengineFlinkHook()


def start_request() -> StartApplicationInstanceRequest:
    app = VolcengineFlinkApp(
        job_type="FLINK_STREAMING_SQL",
        job_name="orders",
        unique_key="orders-key",
        project_id=PROJECT_ID,
        sql_text="INSERT INTO sink SELECT * FROM orders;",
    )
    return StartApplicationInstanceRequest(app=app)


def inject_flaky_reads(emulator: EmulatorControl) -> None:
    emulator.inject_fault("status", operation="ListGWSApplication", status=503, count=2)
    emulator.inject_fault("status", operation="ListGWSApplication", status=429, retry_after=0.1, count=1)


def test_sync_transport_recovers_from_503s_and_a_429(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    inject_flaky_reads(emulator)
    result = SyncTransport(hook.client, retry=FAST_RETRY).execute(hook.client.probe_call())
    assert result.total == 0
    assert calls(emulator, "ListGWSApplication") == 4
    assert emulator.counters()["volcengine"]["faults_fired"] == 3


async def test_async_transport_recovers_from_503s_and_a_429(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    inject_flaky_reads(emulator)
    result = await AsyncTransport(hook.client, retry=FAST_RETRY).execute(hook.client.probe_call())
    assert result.total == 0
    assert calls(emulator, "ListGWSApplication") == 4
    assert emulator.counters()["volcengine"]["faults_fired"] == 3


def test_hook_call_retries_with_the_connection_policy(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    inject_flaky_reads(emulator)
    assert hook.call(hook.client.probe_call()).total == 0
    assert calls(emulator, "ListGWSApplication") == 4


async def test_hook_acall_retries_with_the_connection_policy(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    inject_flaky_reads(emulator)
    assert (await hook.acall(hook.client.probe_call())).total == 0
    assert calls(emulator, "ListGWSApplication") == 4


def test_sync_transport_gives_up_after_max_attempts(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    emulator.inject_fault("status", operation="ListGWSApplication", status=503, count=10)
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
    with pytest.raises(TransientError) as info:
        SyncTransport(hook.client, retry=policy).execute(hook.client.probe_call())
    assert info.value.http_status == 503 and info.value.code == "ServiceUnavailable"
    assert info.value.operation == "ListGWSApplication" and info.value.request_id
    assert calls(emulator, "ListGWSApplication") == 3


async def test_async_transport_gives_up_after_max_attempts(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    emulator.inject_fault("status", operation="ListGWSApplication", status=429, retry_after=0, count=10)
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)
    with pytest.raises(ThrottledError) as info:
        await AsyncTransport(hook.client, retry=policy).execute(hook.client.probe_call())
    assert info.value.http_status == 429 and info.value.code == "RequestLimitExceeded"
    assert info.value.retry_after == 0.0
    assert calls(emulator, "ListGWSApplication") == 2


def test_auth_error_is_not_retried(volcengine_conn: Any, emulator: EmulatorControl) -> None:
    bad = VolcengineFlinkHook(conn_id=volcengine_conn("volc_wrong", password="wr0ng"))
    with pytest.raises(AuthError) as info:
        SyncTransport(bad.client, retry=FAST_RETRY).execute(bad.client.probe_call())
    assert info.value.code == "SignatureDoesNotMatch" and info.value.http_status == 401
    assert calls(emulator, "ListGWSApplication") == 1


def test_sync_start_is_not_retried_on_503(hook: VolcengineFlinkHook, emulator: EmulatorControl) -> None:
    emulator.inject_fault("status", operation="StartApplicationInstance", status=503, count=1)
    call = hook.client.start_call(start_request())
    assert call.request.idempotent is False
    with pytest.raises(TransientError):
        SyncTransport(hook.client, retry=FAST_RETRY).execute(call)
    assert calls(emulator, "StartApplicationInstance") == 1
    assert started(emulator) == 0
    # The fault is spent: the same call now goes through, once.
    assert SyncTransport(hook.client, retry=FAST_RETRY).execute(call).instance_id
    assert calls(emulator, "StartApplicationInstance") == 2 and started(emulator) == 1


async def test_async_start_is_not_retried_on_503(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    emulator.inject_fault("status", operation="StartApplicationInstance", status=503, count=1)
    with pytest.raises(TransientError):
        await AsyncTransport(hook.client, retry=FAST_RETRY).execute(hook.client.start_call(start_request()))
    assert calls(emulator, "StartApplicationInstance") == 1
    assert started(emulator) == 0


def test_sync_dropped_connection_is_connection_failed(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    emulator.inject_fault("drop", operation="ListGWSApplication", count=10)
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)
    with pytest.raises(ConnectionFailedError) as info:
        SyncTransport(hook.client, retry=policy).execute(hook.client.probe_call())
    assert info.value.http_status is None
    assert "no response from 127.0.0.1" in info.value.message
    assert calls(emulator, "ListGWSApplication") == 2


async def test_async_dropped_connection_is_connection_failed(
    hook: VolcengineFlinkHook, emulator: EmulatorControl
) -> None:
    emulator.inject_fault("drop", operation="ListGWSApplication", count=10)
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)
    with pytest.raises(ConnectionFailedError) as info:
        await AsyncTransport(hook.client, retry=policy).execute(hook.client.probe_call())
    assert "no response from 127.0.0.1" in info.value.message
    assert calls(emulator, "ListGWSApplication") == 2


def test_one_dropped_read_is_retried(hook: VolcengineFlinkHook, emulator: EmulatorControl) -> None:
    emulator.inject_fault("drop", operation="ListGWSApplication", count=1)
    assert SyncTransport(hook.client, retry=FAST_RETRY).execute(hook.client.probe_call()).total == 0
    assert calls(emulator, "ListGWSApplication") == 2


def test_dropped_start_is_not_retried(hook: VolcengineFlinkHook, emulator: EmulatorControl) -> None:
    emulator.inject_fault("drop", operation="StartApplicationInstance", count=1)
    with pytest.raises(ConnectionFailedError):
        SyncTransport(hook.client, retry=FAST_RETRY).execute(hook.client.start_call(start_request()))
    assert calls(emulator, "StartApplicationInstance") == 1


async def test_async_session_is_shared_across_calls_and_hooks(
    volcengine_conn: Any, emulator: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[aiohttp.ClientSession] = []
    original = aiohttp.ClientSession.request

    def spy(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> Any:
        used.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "request", spy)
    first, second = VolcengineFlinkHook(), VolcengineFlinkHook()
    await first.acall(first.client.probe_call())
    await second.acall(second.client.probe_call())
    await first.acall(first.client.probe_call())
    assert len(used) == 3
    assert used[0] is used[1] is used[2]
    assert used[0] is await shared_async_session()
    assert calls(emulator, "ListGWSApplication") == 3


def test_async_session_is_closed_with_its_event_loop(volcengine_conn: Any, emulator: EmulatorControl) -> None:
    # asyncio.run (the triggerer's loop, and every trigger dag.test() runs) closes the session itself,
    # so no "Unclosed client session" is reported when the loop ends.
    async def poll() -> aiohttp.ClientSession:
        hook = VolcengineFlinkHook()
        await hook.acall(hook.client.probe_call())
        return await shared_async_session()

    session = asyncio.run(poll())
    assert session.closed
    assert calls(emulator, "ListGWSApplication") == 1


def test_the_sync_transport_passes_verify_ssl_to_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import requests

    from airflow_provider_flinkcloud.clients.dinky import DinkyClient, DinkySettings

    client = DinkyClient(
        replace(DinkySettings(conn_id="d", endpoint="https://dinky.local"), verify_ssl=False)
    )
    seen: dict[str, Any] = {}

    def fake(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise requests.ConnectionError("no network in this test")

    monkeypatch.setattr(requests.Session, "request", fake)
    with pytest.raises(ConnectionFailedError):
        SyncTransport(client, retry=RetryPolicy(max_attempts=1)).execute(client.version_call())
    assert seen["verify"] is False


def test_then_turns_the_parsed_reply_without_a_closure() -> None:
    reads: list[bytes] = []

    def read_number(response: ApiResponse) -> int:
        reads.append(response.body)
        return int(response.json()["n"])

    call = ApiCall(ApiRequest("Get", "GET", "/n"), read_number)
    doubled = call.then(lambda factor, n: factor * n, 2)
    assert doubled.request is call.request
    assert doubled.parse(ApiResponse(200, {}, b'{"n": 21}')) == 42 and reads == [b'{"n": 21}']
    # What a triggerer holds per watched job is a small object, not a function with closure cells.
    assert not hasattr(doubled.parse, "__closure__") and not hasattr(doubled.parse, "__dict__")


def test_a_reply_is_decoded_from_json_once() -> None:
    response = ApiResponse(200, {}, b'{"Result": {"State": "RUNNING"}}')
    assert response.json() is response.json()
    assert response.json() == {"Result": {"State": "RUNNING"}}


async def test_a_burst_beyond_the_pool_waits_unsigned_for_a_free_connection(
    volcengine_conn: Any, emulator: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a pause of the triggerer's loop, the polls due during it come at once: those beyond the pool
    # wait before they are signed or built (a future each), so each is signed when it is sent.
    monkeypatch.setattr(transport, "ASYNC_POOL_SIZE", 2)
    emulator.inject_fault("delay", operation="ListGWSApplication", delay_seconds=0.3, count=6)
    hook = VolcengineFlinkHook()
    client = await hook.async_client()
    signing, in_flight, most = client.sign, [0], [0]

    def sign(*args: Any) -> dict[str, str]:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        return signing(*args)

    monkeypatch.setattr(client, "sign", sign)
    original = AsyncTransport.send_once

    async def send_once(self: AsyncTransport, request: ApiRequest) -> ApiResponse:
        try:
            return await original(self, request)
        finally:
            in_flight[0] -= 1

    monkeypatch.setattr(AsyncTransport, "send_once", send_once)
    results = await asyncio.gather(*(hook.acall(client.probe_call()) for _ in range(6)))
    assert len(results) == 6 and most[0] == 2
    assert calls(emulator, "ListGWSApplication") == 6


# -- the read timeout: one timer per loop, not one per request ------------------------------------------


def with_read_timeout(volcengine_conn: Any, seconds: float) -> VolcengineFlinkHook:
    """A hook whose connection sets ``read_timeout``, as a user sets it (the connection's extra)."""
    return VolcengineFlinkHook(
        conn_id=volcengine_conn(f"volc_read_{seconds:g}", extra={"read_timeout": seconds})
    )


async def test_a_reply_later_than_the_read_timeout_is_no_response_and_retried(
    volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    emulator.inject_fault("delay", operation="ListGWSApplication", delay_seconds=2, count=10)
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)
    began = asyncio.get_running_loop().time()
    with pytest.raises(ConnectionFailedError) as info:
        hook = with_read_timeout(volcengine_conn, 0.3)
        await AsyncTransport(hook.client, retry=policy).execute(hook.client.probe_call())
    assert info.value.code == "TimeoutError" and "no reply within 0.3s" in info.value.message
    assert calls(emulator, "ListGWSApplication") == 2
    # Each attempt gave up at its timeout, not at the reply's 2 s (the loop looks every TICK seconds).
    assert asyncio.get_running_loop().time() - began < 2 * (0.3 + transport._ReplyDeadlines.TICK) + 0.5


async def test_a_cancelled_request_stays_cancelled_and_is_not_taken_for_a_timeout(
    volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    # The triggerer cancels a trigger (its task was killed or it moved): that is not a timeout to retry.
    emulator.inject_fault("delay", operation="ListGWSApplication", delay_seconds=1, count=1)
    hook = with_read_timeout(volcengine_conn, 0.3)
    request = asyncio.ensure_future(hook.acall(hook.client.probe_call()))
    await asyncio.sleep(0.1)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert calls(emulator, "ListGWSApplication") == 1


async def test_a_cancel_that_comes_with_the_timeout_is_kept(
    volcengine_conn: Any, emulator: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.inject_fault("delay", operation="ListGWSApplication", delay_seconds=1, count=1)
    hook = with_read_timeout(volcengine_conn, 0.1)
    request = asyncio.ensure_future(hook.acall(hook.client.probe_call()))
    deadlines = (await transport._loop_pool()).deadlines
    look = deadlines._look

    def look_then_cancel() -> None:
        # The deadline cancels the task; a cancel of its own arrives before the task runs again.
        look()
        if any(deadline.expired for deadline in deadlines.pending):
            request.cancel()

    monkeypatch.setattr(deadlines, "_look", look_then_cancel)
    with pytest.raises(asyncio.CancelledError):
        await request


async def test_requests_leave_no_timers_behind_in_the_loop(hook: VolcengineFlinkHook) -> None:
    # aiohttp's own read timeout arms a timer for each read and cancels it; the dead handles stay in the
    # loop's heap (each with a copy of the task's context) until their time, and a triggerer at 667 polls/s
    # would hold tens of thousands of them. The loop's reply deadlines use one timer while any is pending.
    loop = asyncio.get_running_loop()
    await hook.acall(hook.client.probe_call())
    for _ in range(40):
        await hook.acall(hook.client.probe_call())
    scheduled: list[asyncio.TimerHandle] = loop._scheduled  # type: ignore[attr-defined]
    # The deadlines' tick, the connector's keep-alive cleanup and at most one dead handle; not one per read.
    assert sum(handle.cancelled() for handle in scheduled) <= 1
    assert len(scheduled) <= 3
