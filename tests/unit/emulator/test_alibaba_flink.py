"""The ververica emulator over raw HTTP: the gateway's ACS3 checks and the job state machine."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from airflow_provider_flinkcloud.emulator import (
    ALIBABA_FLINK_ACCESS_KEY,
    ALIBABA_FLINK_SECRET_KEY,
    ALIBABA_FLINK_WORKSPACE,
    Emulator,
    EmulatorControl,
)
from airflow_provider_flinkcloud.signers.alibaba_flink import AlibabaCredentials, sign
from support.platforms.alibaba_flink import deployment

FAST_TIMINGS = True
NS = "/api/v2/namespaces/default-namespace"


def send(
    emulator: Emulator,
    method: str,
    path: str,
    body: Any = None,
    *,
    action: str,
    query: tuple[tuple[str, str], ...] = (),
    secret: str = ALIBABA_FLINK_SECRET_KEY,
    nonce: str | None = None,
    now: datetime | None = None,
    workspace: str | None = ALIBABA_FLINK_WORKSPACE,
) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(body).encode() if body is not None else b""
    headers = {"host": f"127.0.0.1:{emulator.port}", "x-acs-action": action, "x-acs-version": "2022-07-18"}
    if workspace is not None:
        headers["workspace"] = workspace
    if raw:
        headers["content-type"] = "application/json; charset=utf-8"
    signed = sign(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=raw,
        credentials=AlibabaCredentials(ALIBABA_FLINK_ACCESS_KEY, secret),
        now=now or datetime.now(timezone.utc),
        nonce=nonce or f"{time.time_ns()}",
    )
    url = f"{emulator.url}{path}" + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
    response = requests.request(method, url, headers=signed, data=raw or None, timeout=10)
    return response.status_code, response.json()


def test_a_job_runs_and_stops_through_its_states(emulator: Emulator, control: EmulatorControl) -> None:
    status, created = send(emulator, "POST", f"{NS}/deployments", deployment("d1"), action="CreateDeployment")
    assert status == 200 and created["success"] is True
    deployment_id = created["data"]["deploymentId"]
    start = {"deploymentId": deployment_id, "restoreStrategy": {"kind": "NONE"}}
    _, job = send(emulator, "POST", f"{NS}/jobs%3Astart", start, action="StartJobWithParams")
    job_id = job["data"]["jobId"]
    assert job["data"]["status"]["currentJobStatus"] == "STARTING"
    time.sleep(0.2)
    _, again = send(emulator, "POST", f"{NS}/jobs%3Astart", start, action="StartJobWithParams")
    assert again["success"] is False and "already has job" in again["errorMessage"]
    _, got = send(emulator, "GET", f"{NS}/jobs/{job_id}", action="GetJob")
    assert got["data"]["status"]["currentJobStatus"] == "RUNNING"
    _, stopped = send(
        emulator, "POST", f"{NS}/jobs/{job_id}%3Astop", {"stopStrategy": "NONE"}, action="StopJob"
    )
    assert stopped["data"]["status"]["currentJobStatus"] == "CANCELLING"
    time.sleep(0.2)
    _, listed = send(
        emulator, "GET", f"{NS}/jobs", action="ListJobs", query=(("deploymentId", deployment_id),)
    )
    assert [j["status"]["currentJobStatus"] for j in listed["data"]] == ["CANCELLED"]


def test_an_injected_failure_ends_the_job_failed_with_its_text(
    emulator: Emulator, control: EmulatorControl
) -> None:
    _, created = send(emulator, "POST", f"{NS}/deployments", deployment("d2"), action="CreateDeployment")
    control.fail_job("d2", "boom: table not found", platform="alibaba_flink")
    start = {"deploymentId": created["data"]["deploymentId"]}
    _, job = send(emulator, "POST", f"{NS}/jobs%3Astart", start, action="StartJobWithParams")
    time.sleep(0.2)
    _, got = send(emulator, "GET", f"{NS}/jobs/{job['data']['jobId']}", action="GetJob")
    assert got["data"]["status"]["currentJobStatus"] == "FAILED"
    assert got["data"]["status"]["failure"]["message"] == "boom: table not found"


def test_the_gateway_refuses_what_it_should(emulator: Emulator, control: EmulatorControl) -> None:
    path = f"{NS}/deployments"
    status, body = send(emulator, "GET", path, action="ListDeployments", secret="wrong")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in body["Message"]
    old = datetime.now(timezone.utc) - timedelta(minutes=20)
    assert (
        send(emulator, "GET", path, action="ListDeployments", now=old)[1]["Code"]
        == "InvalidTimeStamp.Expired"
    )
    assert send(emulator, "GET", path, action="ListDeployments", nonce="n-1")[0] == 200
    assert (
        send(emulator, "GET", path, action="ListDeployments", nonce="n-1")[1]["Code"] == "SignatureNonceUsed"
    )
    assert (
        send(emulator, "GET", path, action="ListDeployments", workspace=None)[1]["Code"] == "Missingworkspace"
    )
    status, body = send(emulator, "GET", path, action="ListDeployments", workspace="other")
    assert (status, body["Code"]) == (403, "Forbidden.RAM")
    status, body = send(emulator, "GET", path, action="GetDeployment")
    assert (status, body["Code"]) == (404, "InvalidApi.NotFound")


def test_an_unknown_id_is_990301_in_the_envelope(emulator: Emulator, control: EmulatorControl) -> None:
    status, body = send(emulator, "GET", f"{NS}/jobs/58718c99-3b29-4c5e-93bb-c9fc4ec6a1b2", action="GetJob")
    assert status == 200 and body["success"] is False and body["errorCode"] == "990301"


def test_list_deployments_matches_names_loosely(emulator: Emulator, control: EmulatorControl) -> None:
    for name in ("orders", "orders-v2"):
        send(emulator, "POST", f"{NS}/deployments", deployment(name), action="CreateDeployment")
    _, body = send(
        emulator, "GET", f"{NS}/deployments", action="ListDeployments", query=(("name", "orders"),)
    )
    assert sorted(d["name"] for d in body["data"]) == ["orders", "orders-v2"] and body["totalSize"] == 2
