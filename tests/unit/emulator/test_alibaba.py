"""The emulator's foas API over real HTTP, driven by the provider's own client and signer."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from airflow_provider_flinkcloud.clients.alibaba import RealtimeComputeClient
from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import (
    ApiCall,
    RetryPolicy,
    SyncTransport,
    build_url,
    host_header,
)
from airflow_provider_flinkcloud.emulator import (
    ALIBABA_ACCESS_KEY,
    ALIBABA_SECRET_KEY,
    ALIBABA_STS_ACCESS_KEY,
    ALIBABA_STS_SECRET_KEY,
    ALIBABA_STS_TOKEN,
    Emulator,
    EmulatorControl,
)
from airflow_provider_flinkcloud.emulator.alibaba import DEFAULT_PROJECT

FAST_TIMINGS = True
STREAM_JOB, BATCH_JOB = "orders-enrichment", "daily-rollup"


def blink(
    emulator: Emulator,
    access_key: str = ALIBABA_ACCESS_KEY,
    secret_key: str = ALIBABA_SECRET_KEY,
    token: str | None = None,
) -> RealtimeComputeClient:
    settings = AccessKeySettings(
        conn_id="blink",
        endpoint=emulator.url,
        retry=RetryPolicy(max_attempts=1),
        access_key=access_key,
        secret_key=secret_key,
        region="cn-hangzhou",
        security_token=token,
    )
    return RealtimeComputeClient(settings)


def send(client: RealtimeComputeClient, call: ApiCall[Any]) -> Any:
    return SyncTransport(client).execute(call)


def refused(client: RealtimeComputeClient, call: ApiCall[Any]) -> FlinkCloudApiError:
    with pytest.raises(FlinkCloudApiError) as info:
        send(client, call)
    return info.value


def state_of(client: RealtimeComputeClient, job: str, instance_id: str, wanted: str) -> Any:
    deadline = time.monotonic() + 5
    while True:
        instance = send(client, client.get_instance_call(DEFAULT_PROJECT, job, instance_id)).instance
        if instance.actual_state == wanted or time.monotonic() > deadline:
            return instance
        time.sleep(0.02)


def start(client: RealtimeComputeClient, job: str, parameters: str | None = None) -> str:
    return send(client, client.start_job_call(DEFAULT_PROJECT, job, parameters)).instance_id


def test_a_stream_instance_runs_until_stopped(emulator: Emulator, control: EmulatorControl) -> None:
    client = blink(emulator)
    instance_id = start(client, STREAM_JOB, '{"startOffset":"0"}')
    assert state_of(client, STREAM_JOB, instance_id, "RUNNING").actual_state == "RUNNING"
    current = send(client, client.get_instance_call(DEFAULT_PROJECT, STREAM_JOB, "-1")).instance
    assert current.id == instance_id
    send(client, client.stop_instance_call(DEFAULT_PROJECT, STREAM_JOB, instance_id, trigger_checkpoint=True))
    stopping = send(client, client.get_instance_call(DEFAULT_PROJECT, STREAM_JOB, instance_id)).instance
    assert (stopping.actual_state, stopping.expect_state) == ("RUNNING", "TERMINATED")
    assert state_of(client, STREAM_JOB, instance_id, "TERMINATED").end_time
    again = refused(
        client, client.stop_instance_call(DEFAULT_PROJECT, STREAM_JOB, instance_id, trigger_checkpoint=False)
    )
    assert (again.http_status, again.code) == (400, "InvalidInstance.State")
    assert control.counters()["alibaba"]["stops_by_name"] == {STREAM_JOB: 1}


def test_a_job_keeps_one_live_instance(emulator: Emulator, control: EmulatorControl) -> None:
    client = blink(emulator)
    first = start(client, STREAM_JOB)
    second = refused(client, client.start_job_call(DEFAULT_PROJECT, STREAM_JOB, None))
    assert (second.http_status, second.code) == (400, "InvalidInstance.State")
    assert first in second.message
    send(client, client.stop_instance_call(DEFAULT_PROJECT, STREAM_JOB, first, trigger_checkpoint=False))
    state_of(client, STREAM_JOB, first, "TERMINATED")
    newer = start(client, STREAM_JOB)
    listed = send(client, client.list_instances_call(DEFAULT_PROJECT, STREAM_JOB, "FLINK_STREAM", 1))
    # The older instance is archived once the job starts again.
    assert [i.id for i in listed.instances] == [newer]
    assert control.counters()["alibaba"]["starts_by_name"] == {STREAM_JOB: 2}


def test_a_batch_instance_succeeds_or_fails_with_the_injected_text(
    emulator: Emulator, control: EmulatorControl
) -> None:
    client = blink(emulator)
    done = start(client, BATCH_JOB)
    assert state_of(client, BATCH_JOB, done, "SUCCESS").expect_state == "SUCCESS"
    control.fail_job(BATCH_JOB, "java.lang.OutOfMemoryError: Java heap space", platform="alibaba")
    failed = state_of(client, BATCH_JOB, start(client, BATCH_JOB), "FAILED")
    assert failed.last_error_message == "java.lang.OutOfMemoryError: Java heap space"
    current = refused(client, client.get_instance_call(DEFAULT_PROJECT, BATCH_JOB, "-1"))
    assert (current.http_status, current.code) == (404, "InvalidInstance.NotFound")


def test_a_missing_job_and_a_missing_parameter(emulator: Emulator, control: EmulatorControl) -> None:
    client = blink(emulator)
    missing = refused(client, client.get_job_call(DEFAULT_PROJECT, "no-such-job"))
    assert (missing.http_status, missing.code) == (404, "InvalidJob.NotFound")
    call = client.list_instances_call(DEFAULT_PROJECT, STREAM_JOB, "", 1)
    no_type = refused(client, call)
    assert (no_type.http_status, no_type.code) == (400, "MissingJobType")
    bad = refused(client, client.start_job_call(DEFAULT_PROJECT, STREAM_JOB, "[1]"))
    assert bad.code == "InvalidParameter" and "parameterJson" in bad.message


@pytest.mark.parametrize(
    ("credentials", "status", "code"),
    [
        ({"access_key": "LTAInobody"}, 404, "InvalidAccessKeyId.NotFound"),
        ({"secret_key": "wrong"}, 400, "SignatureDoesNotMatch"),
        (
            {"access_key": ALIBABA_STS_ACCESS_KEY, "secret_key": ALIBABA_STS_SECRET_KEY},
            400,
            "MissingSecurityToken",
        ),
        (
            {"access_key": ALIBABA_STS_ACCESS_KEY, "secret_key": ALIBABA_STS_SECRET_KEY, "token": "other"},
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
        ),
    ],
)
def test_the_gateway_refuses_bad_credentials(
    emulator: Emulator, control: EmulatorControl, credentials: dict[str, str], status: int, code: str
) -> None:
    client = blink(emulator, **credentials)
    error = refused(client, client.probe_call())
    assert (error.http_status, error.code) == (status, code)


def test_sts_credentials_with_their_token_work(emulator: Emulator, control: EmulatorControl) -> None:
    client = blink(emulator, ALIBABA_STS_ACCESS_KEY, ALIBABA_STS_SECRET_KEY, ALIBABA_STS_TOKEN)
    assert send(client, client.probe_call()).total_count == 1


def test_a_signature_mismatch_quotes_the_server_string_to_sign(
    emulator: Emulator, control: EmulatorControl
) -> None:
    error = refused(
        blink(emulator, secret_key="wrong"), blink(emulator).get_job_call(DEFAULT_PROJECT, STREAM_JOB)
    )
    assert "server string to sign is:GET\napplication/json\n\n\n" in error.message
    assert f"/api/v2/projects/{DEFAULT_PROJECT}/jobs/{STREAM_JOB}?RegionId=cn-hangzhou" in error.message


def raw(client: RealtimeComputeClient, call: ApiCall[Any], now: datetime, **header_changes: str) -> Any:
    request = call.request
    headers = client.sign(request, host_header(client.base_url), now)
    headers.update(header_changes)
    return requests.request(
        request.method,
        build_url(client.base_url, request),
        headers=headers,
        data=request.body or None,
        timeout=5,
    )


def test_a_stale_date_and_a_wrong_body_digest_are_refused(
    emulator: Emulator, control: EmulatorControl
) -> None:
    client = blink(emulator)
    stale = raw(client, client.probe_call(), datetime.now(timezone.utc) - timedelta(minutes=20))
    assert (stale.status_code, stale.json()["Code"]) == (400, "InvalidTimeStamp.Expired")
    start_call = client.start_job_call(DEFAULT_PROJECT, STREAM_JOB, "{}")
    tampered = replace(start_call.request, body=b'{"parameterJson":"{\\"x\\":1}"}')
    reply = raw(
        client, ApiCall(tampered, start_call.parse), datetime.now(timezone.utc), **{"Content-MD5": "AAAA"}
    )
    assert (reply.status_code, reply.json()["Code"]) == (400, "ContentMD5NotMatched")
    body = reply.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert control.counters()["alibaba"].get("starts_by_name", {}) == {}


def test_pause_and_resume(emulator: Emulator, control: EmulatorControl) -> None:
    client = blink(emulator)
    instance_id = start(client, STREAM_JOB)
    state_of(client, STREAM_JOB, instance_id, "RUNNING")
    path = f"/api/v2/projects/{DEFAULT_PROJECT}/jobs/{STREAM_JOB}/instances/{instance_id}/expectstate"
    for expect in ("PAUSED", "RUNNING"):
        call = client.roa(
            "ModifyInstanceState", "PUT", path, lambda r: r.json(), body={"expectState": expect}
        )
        send(client, call)
        assert state_of(client, STREAM_JOB, instance_id, expect).actual_state == expect


def test_a_documented_operation_that_is_not_modelled_answers_501(
    emulator: Emulator, control: EmulatorControl
) -> None:
    client = blink(emulator)
    call = client.roa(
        "ValidateJob", "GET", f"/api/v2/projects/{DEFAULT_PROJECT}/jobs/{STREAM_JOB}/validate", lambda r: r
    )
    error = refused(client, call)
    assert (error.http_status, error.code) == (501, "NotImplemented")
    unknown = refused(client, client.roa("Nope", "GET", "/api/v2/projects/x/nothing/here", lambda r: r))
    assert (unknown.http_status, unknown.code) == (404, "InvalidApi.NotFound")
