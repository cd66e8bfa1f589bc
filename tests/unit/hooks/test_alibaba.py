"""The Blink hook against the emulator: connection test, job types, reattach lookups, the commit check."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.clients import alibaba as alibaba_client
from airflow_provider_flinkcloud.emulator import (
    ALIBABA_SECRET_KEY,
    ALIBABA_STS_ACCESS_KEY,
    ALIBABA_STS_SECRET_KEY,
    ALIBABA_STS_TOKEN,
    EmulatorControl,
)
from airflow_provider_flinkcloud.emulator.alibaba import DEFAULT_PROJECT
from airflow_provider_flinkcloud.hooks.alibaba import BlinkJobNotStartableError, RealtimeComputeHook
from airflow_provider_flinkcloud.links.alibaba import RealtimeComputeConsoleLink, blink_console_url
from airflow_provider_flinkcloud.models.alibaba import RealtimeComputeStartSpec
from support.platforms.alibaba import blink_connections

STREAM_JOB, BATCH_JOB = "orders-enrichment", "daily-rollup"
blink_conn = pytest.fixture(blink_connections)


def spec(job: str) -> RealtimeComputeStartSpec:
    return RealtimeComputeHook().validate_spec({"project_name": DEFAULT_PROJECT, "job_name": job})


def test_default_connection_id_and_type() -> None:
    hook = RealtimeComputeHook()
    assert hook.conn_id == "alibaba_realtime_compute_default"
    assert hook.conn_type == "alibaba_realtime_compute"


def test_test_connection_lists_one_project(
    blink_conn: Any, emulator: EmulatorControl, emulator_server: Any
) -> None:
    ok, message = RealtimeComputeHook().test_connection()
    assert ok is True and emulator_server.url in message
    assert emulator.counters()["alibaba"]["calls"] == {"ListProject": 1}


def test_test_connection_with_a_wrong_secret_names_the_error_not_the_secret(
    blink_conn: Any, emulator: EmulatorControl
) -> None:
    wrong = "wr0ng-bl1nk-s3cret"
    ok, message = RealtimeComputeHook(conn_id=blink_conn("blink_wrong", password=wrong)).test_connection()
    assert ok is False
    assert "SignatureDoesNotMatch" in message and "HTTP 400" in message
    assert wrong not in message and ALIBABA_SECRET_KEY not in message


def test_the_sts_token_never_shows_in_a_signature_error(blink_conn: Any, emulator: EmulatorControl) -> None:
    conn_id = blink_conn(
        "blink_sts",
        login=ALIBABA_STS_ACCESS_KEY,
        password="not-" + ALIBABA_STS_SECRET_KEY,
        extra={"security_token": ALIBABA_STS_TOKEN},
    )
    ok, message = RealtimeComputeHook(conn_id=conn_id).test_connection()
    assert ok is False and "server string to sign is:" in message
    assert ALIBABA_STS_TOKEN not in message and "x-acs-security-token:***" in message


def test_the_job_type_decides_what_a_start_waits_for(blink_conn: Any, emulator: EmulatorControl) -> None:
    hook = RealtimeComputeHook()
    assert hook.default_wait_for(spec(BATCH_JOB)) == "SUCCESS"
    assert hook.default_wait_for(spec(STREAM_JOB)) == "RUNNING"
    assert hook.default_wait_for(spec(STREAM_JOB)) == "RUNNING"
    assert emulator.counters()["alibaba"]["calls"] == {"GetJob": 2}


def test_an_instance_being_stopped_is_not_reattached_to(blink_conn: Any, emulator: EmulatorControl) -> None:
    emulator.set_timings(starting_seconds=0, cancelling_seconds=30)
    hook = RealtimeComputeHook()
    ref = hook.start(spec(STREAM_JOB))
    assert hook.find_active(spec(STREAM_JOB)) == ref
    hook.cancel(ref)
    status = hook.call(hook.status_call(ref))
    assert (status.state.value, status.native_state) == ("STOPPING", "RUNNING")
    assert hook.find_active(spec(STREAM_JOB)) is None


def test_a_job_that_is_not_committed_is_not_started(blink_conn: Any, emulator: EmulatorControl) -> None:
    hook = RealtimeComputeHook()
    body = {"jobName": "draft", "jobType": "FLINK_STREAM", "apiType": "SQL", "code": "SELECT 1"}
    path = f"/api/v2/projects/{DEFAULT_PROJECT}/jobs"
    hook.call(hook.client.roa("CreateJob", "POST", path, lambda r: r.json(), body=body))
    with pytest.raises(BlinkJobNotStartableError, match="draft of project flinkcloud_test is not committed"):
        hook.start(spec("draft"))
    assert "StartJob" not in emulator.counters()["alibaba"]["calls"]


def test_the_console_link_names_the_region_project_job_and_instance() -> None:
    params = {"region": "cn-shanghai", "project_name": "p 1", "job_name": "作业", "instance_id": "42"}
    url = blink_console_url(params)
    assert url.startswith("https://stream.console.aliyun.com/#/cn-shanghai/project/p%201/job/")
    assert url.endswith("?instanceId=42") and "%E4%BD%9C" in url
    assert RealtimeComputeConsoleLink.format_link(params) == url


def test_a_stopped_instance_says_it_was_stopped(blink_conn: Any, emulator: EmulatorControl) -> None:
    emulator.set_timings(starting_seconds=0, cancelling_seconds=0)
    hook = RealtimeComputeHook()
    ref = hook.start(spec(STREAM_JOB))
    hook.cancel(ref)
    status = hook.call(hook.status_call(ref))
    assert (status.state.value, status.native_state) == ("CANCELED", "TERMINATED")
    assert "stopped (TERMINATED) by a stop request" in hook.failure_text(status)


def test_instances_are_read_across_pages_the_server_caps(
    blink_conn: Any, emulator: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.set_timings(starting_seconds=0, batch_seconds=0)
    hook = RealtimeComputeHook()
    for _ in range(3):
        hook.start(spec(BATCH_JOB))
    # Pages of two: the instances are counted, not the pages computed from the size asked for.
    monkeypatch.setattr(alibaba_client, "LIST_PAGE_SIZE", 2)
    ids = [i.id for i in hook.instances(DEFAULT_PROJECT, BATCH_JOB)]
    assert len(set(ids)) == 3
    assert emulator.counters()["alibaba"]["calls"]["ListInstance"] == 2
