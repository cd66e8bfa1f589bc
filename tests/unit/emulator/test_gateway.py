"""The emulator's shared gateway module, its registry-driven platform list and the reply-losing faults."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from airflow_provider_flinkcloud import registry
from airflow_provider_flinkcloud.emulator import (
    DLI_ACCESS_KEY,
    DLI_PROJECT_ID,
    DLI_SECRET_KEY,
    VOLCENGINE_ACCESS_KEY,
    VOLCENGINE_SECRET_KEY,
    VOLCENGINE_STS_TOKEN,
    Emulator,
    EmulatorControl,
    EmulatorControlError,
)
from airflow_provider_flinkcloud.emulator.gateway import (
    Credential,
    CredentialTable,
    EmulatorBackend,
    FailureQueue,
    load_backends,
    signed_header_values,
    within_clock_skew,
)
from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ControlError, FailureSpec
from airflow_provider_flinkcloud.emulator.server import EmulatorCore
from airflow_provider_flinkcloud.signers.volcengine import VolcengineCredentials, sign

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
NOON = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()


# -- clock skew and signed headers --------------------------------------------------------------------


def test_clock_skew_window_is_inclusive_on_both_sides() -> None:
    stamp = "20260301T120000Z"
    assert within_clock_skew(stamp, STAMP_FORMAT, NOON)
    assert within_clock_skew(stamp, STAMP_FORMAT, NOON + 900)
    assert within_clock_skew(stamp, STAMP_FORMAT, NOON - 900)
    assert not within_clock_skew(stamp, STAMP_FORMAT, NOON + 901)
    assert not within_clock_skew(stamp, STAMP_FORMAT, NOON - 901)
    assert within_clock_skew(stamp, STAMP_FORMAT, NOON + 50, max_skew_seconds=60)
    assert not within_clock_skew(stamp, STAMP_FORMAT, NOON + 61, max_skew_seconds=60)


def test_clock_skew_refuses_unparseable_stamps() -> None:
    for stamp in ("", "2026-03-01T12:00:00Z", "20260301T120000", "yesterday"):
        assert not within_clock_skew(stamp, STAMP_FORMAT, NOON)


def _request(headers: dict[str, str]) -> ApiRequest:
    return ApiRequest("GET", "/", "", {k.lower(): v for k, v in headers.items()}, b"", "127.0.0.1")


def test_signed_header_values_collects_or_gives_up() -> None:
    request = _request({"Host": "h:1", "X-Date": "d", "Content-Type": "t"})
    assert signed_header_values(request, ["host", "x-date"]) == {"host": "h:1", "x-date": "d"}
    assert signed_header_values(request, []) == {}
    assert signed_header_values(request, ["host", "x-security-token"]) is None


# -- credentials ----------------------------------------------------------------------------------


def test_credential_table_lookup_and_control_payloads() -> None:
    table = CredentialTable([Credential("AK1", "sk1"), Credential("AK2", "sk2", "tok")])
    assert table.access_keys() == ["AK1", "AK2"]
    assert table.get("AK1") == Credential("AK1", "sk1")
    assert table.get("nobody") is None
    added = table.add_from_payload({"access_key": "AK0", "secret_key": "sk0", "session_token": "t0"})
    assert added == Credential("AK0", "sk0", "t0")
    assert table.access_keys() == ["AK0", "AK1", "AK2"]
    # A key added again replaces the old secret.
    table.add_from_payload({"access_key": "AK1", "secret_key": "new"})
    assert table.get("AK1") == Credential("AK1", "new")
    for payload in (
        {"secret_key": "s"},
        {"access_key": "A"},
        {"access_key": "", "secret_key": "s"},
        {"access_key": "A", "secret_key": "s", "session_token": ""},
        {"access_key": "A", "secret_key": "s", "session_token": 5},
    ):
        with pytest.raises(ControlError):
            table.add_from_payload(payload)
    assert table.access_keys() == ["AK0", "AK1", "AK2"]


def test_credential_tokens_and_banner() -> None:
    permanent = Credential("AK", "sk")
    temporary = Credential("TK", "tsk", "tok", label="STS", extras=(("project id", "p1"),))
    assert permanent.token_matches(None) and permanent.token_matches("anything")
    assert temporary.token_matches("tok")
    assert not temporary.token_matches(None)
    assert not temporary.token_matches("forged")
    assert permanent.banner("demo") == "demo access key: AK  secret key: sk"
    assert temporary.banner("demo") == (
        "demo STS access key: TK  secret key: tsk  session token: tok  project id: p1"
    )


def test_dli_credentials_refuse_bad_project_without_adding(control: EmulatorControl) -> None:
    with pytest.raises(EmulatorControlError):
        control.add_credentials("BADPROJ", "s", platform="huawei_dli", project_id="not-a-project!")
    assert "BADPROJ" not in control.state()["huawei_dli"]["access_keys"]


# -- failure queue --------------------------------------------------------------------------------


def test_failure_queue_takes_the_oldest_match_once() -> None:
    queue = FailureQueue()
    first, second = FailureSpec(job="orders", error="one"), FailureSpec(job="orders", error="two")
    other = FailureSpec(job="42", error="by id", phase="running", after_seconds=1.5)
    for failure in (first, other, second):
        queue.add(failure)
    assert queue.take({"payments"}) is None
    assert queue.take(["orders", "17"]) is first
    assert queue.take(("42",)) is other
    assert queue.as_list() == [{"job": "orders", "error": "two", "phase": "startup", "after_seconds": 0.0}]
    assert queue.take({"orders"}) is second
    assert queue.take({"orders"}) is None
    queue.add(first)
    queue.clear()
    assert queue.as_list() == []


# -- registry -------------------------------------------------------------------------------------


def test_server_platforms_are_exactly_the_registry() -> None:
    core = EmulatorCore()
    assert list(core.platforms) == list(registry.PLATFORMS)
    assert list(core.backends) == list(registry.PLATFORMS)
    for name, backend in load_backends().items():
        assert isinstance(backend, EmulatorBackend)
        assert backend.name == name == core.platforms[name].name
        assert registry.platform(name).load(registry.platform(name).emulator_backend_path) is backend
    assert set(core.counters()) == set(registry.PLATFORMS)


def test_connection_matches_the_test_fixtures() -> None:
    control = EmulatorControl("http://127.0.0.1:8765")
    assert control.connection("volcengine") == {
        "conn_type": "volcengine_flink",
        "login": VOLCENGINE_ACCESS_KEY,
        "password": VOLCENGINE_SECRET_KEY,
        "extra": {
            "endpoint": "http://127.0.0.1:8765",
            "region": "cn-beijing",
            "project_id": "flinkcloud-test",
        },
    }
    dli = control.connection("huawei_dli", extra={"retry_base_delay": 0.05, "region": "eu-de"}, login="X")
    assert dli == {
        "conn_type": "huaweicloud_dli",
        "login": "X",
        "password": DLI_SECRET_KEY,
        "extra": {
            "endpoint": "http://127.0.0.1:8765",
            "region": "eu-de",
            "project_id": DLI_PROJECT_ID,
            "retry_base_delay": 0.05,
        },
    }
    # Each call is a fresh copy.
    dli["extra"]["region"] = "changed"
    assert control.connection("huawei_dli")["extra"]["region"] == "cn-north-4"
    assert control.connection("huawei_dli")["login"] == DLI_ACCESS_KEY
    with pytest.raises(KeyError):
        control.connection("nowhere")


def test_banner_lists_every_backend_credential() -> None:
    lines = [line for backend in load_backends().values() for line in backend.banner()]
    assert lines[0] == f"volcengine access key: {VOLCENGINE_ACCESS_KEY}  secret key: {VOLCENGINE_SECRET_KEY}"
    assert any(VOLCENGINE_STS_TOKEN in line and "session token" in line for line in lines)
    assert any(line.startswith(f"huawei_dli access key: {DLI_ACCESS_KEY}") for line in lines)
    assert all(f"project id: {DLI_PROJECT_ID}" in line for line in lines if line.startswith("huawei_dli"))


# -- faults that lose or delay the reply of a call carried out -----------------------------------------


def _start(url: str, job: str, timeout: float = 10.0) -> requests.Response:
    app = {
        "UniqueKey": job,
        "ProjectId": "proj-1",
        "JobName": job,
        "JobType": "FLINK_STREAMING_SQL",
        "SqlText": "INSERT INTO sink SELECT * FROM src",
    }
    pairs = [("Action", "StartApplicationInstance"), ("Version", "2025-01-01")]
    body = json.dumps({"App": app}).encode()
    headers = sign(
        method="POST",
        path="/",
        query=pairs,
        headers={"Host": urlsplit(url).netloc, "Content-Type": "application/json"},
        body=body,
        credentials=VolcengineCredentials(VOLCENGINE_ACCESS_KEY, VOLCENGINE_SECRET_KEY),
        region="cn-beijing",
        service="flink",
        now=datetime.now(timezone.utc),
    )
    return requests.post(f"{url}/?{urlencode(pairs)}", headers=headers, data=body, timeout=timeout)


def _starts(control: EmulatorControl) -> dict[str, Any]:
    return dict(control.counters()["volcengine"]["starts_by_name"])


def test_lose_response_carries_the_call_out_then_drops_the_connection(
    emulator: Emulator, control: EmulatorControl
) -> None:
    control.inject_fault("lose_response", platform="volcengine", operation="StartApplicationInstance")
    with pytest.raises(requests.ConnectionError):
        _start(emulator.url, "lost")
    # Carried out exactly once, though the client saw no reply.
    assert _starts(control) == {"lost": 1}
    assert len(control.state()["volcengine"]["instances"]) == 1
    assert control.counters()["volcengine"]["faults_fired"] == 1
    # The fault is spent: the next start is answered (and starts a second instance).
    assert _start(emulator.url, "lost").status_code == 200
    assert _starts(control) == {"lost": 2}


def test_late_response_takes_effect_at_once_and_answers_after_the_delay(
    emulator: Emulator, control: EmulatorControl
) -> None:
    fault = control.inject_fault(
        "late_response", platform="volcengine", operation="StartApplicationInstance", delay_seconds=0.6
    )
    assert fault["kind"] == "late_response" and fault["delay_seconds"] == 0.6
    replies: list[requests.Response] = []
    begun = time.monotonic()
    caller = threading.Thread(target=lambda: replies.append(_start(emulator.url, "late")))
    caller.start()
    deadline = time.monotonic() + 0.5
    while _starts(control) != {"late": 1} and time.monotonic() < deadline:
        time.sleep(0.02)
    # The start is visible while its reply is still on its way.
    assert _starts(control) == {"late": 1}
    assert caller.is_alive()
    caller.join(timeout=10)
    (reply,) = replies
    assert time.monotonic() - begun >= 0.6
    assert reply.status_code == 200
    assert reply.json()["Result"]["Success"] is True
    # Carried out once; the reply is that of the start that happened.
    assert _starts(control) == {"late": 1}
    assert reply.json()["Result"]["InstanceId"] == control.state()["volcengine"]["instances"][0]["Id"]


def test_late_response_a_client_that_gives_up_still_started_the_job(
    emulator: Emulator, control: EmulatorControl
) -> None:
    control.inject_fault("late_response", operation="StartApplicationInstance", delay_seconds=0.5)
    with pytest.raises(requests.Timeout):
        _start(emulator.url, "impatient", timeout=0.2)
    assert _starts(control) == {"impatient": 1}


def test_late_response_needs_a_delay(control: EmulatorControl) -> None:
    with pytest.raises(EmulatorControlError, match="delay_seconds"):
        control.inject_fault("late_response")
