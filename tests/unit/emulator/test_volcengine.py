"""The emulator's Volcengine Flink API, driven over real HTTP with the provider's own signer."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from airflow_provider_flinkcloud.emulator import (
    VOLCENGINE_ACCESS_KEY,
    VOLCENGINE_SECRET_KEY,
    VOLCENGINE_STS_ACCESS_KEY,
    VOLCENGINE_STS_SECRET_KEY,
    VOLCENGINE_STS_TOKEN,
    Emulator,
    EmulatorControl,
    EmulatorControlError,
)
from airflow_provider_flinkcloud.emulator.__main__ import main
from airflow_provider_flinkcloud.signers.volcengine import VolcengineCredentials, sign

VERSION = "2025-01-01"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your Secret Access Key and signing method. Consult the service documentation for details."
)
AUTH_CODES = {
    "MissingAuthenticationToken",
    "InvalidAuthorization",
    "InvalidCredential",
    "InvalidAccessKey",
    "MissingRequestInfo",
    "InvalidTimestamp",
    "InvalidSecretToken",
    "SignatureDoesNotMatch",
}
VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "volcengine_v4.json").read_text())["vectors"]


FAST_TIMINGS = True


class Volc:
    """A minimal signed client, as the provider's hook will be."""

    def __init__(
        self,
        url: str,
        access_key: str = VOLCENGINE_ACCESS_KEY,
        secret_key: str = VOLCENGINE_SECRET_KEY,
        session_token: str | None = None,
    ) -> None:
        self.url = url
        self.credentials = VolcengineCredentials(access_key, secret_key, session_token)

    def prepare(
        self,
        action: str,
        body: dict[str, Any] | None = None,
        *,
        version: str = VERSION,
        method: str = "POST",
        query: Sequence[tuple[str, str]] = (),
        now: datetime | None = None,
        service: str = "flink",
        host: str | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        pairs = [("Action", action), ("Version", version), *query]
        payload = b"" if body is None else json.dumps(body).encode()
        headers = {"Host": host or urlsplit(self.url).netloc}
        if method != "GET":
            headers["Content-Type"] = "application/json"
        signed = sign(
            method=method,
            path="/",
            query=pairs,
            headers=headers,
            body=payload,
            credentials=self.credentials,
            region="cn-beijing",
            service=service,
            now=now or datetime.now(timezone.utc),
        )
        return f"{self.url}/?{urlencode(pairs)}", signed, payload

    def call(self, action: str, body: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        method = kwargs.get("method", "POST")
        url, headers, payload = self.prepare(action, body, **kwargs)
        return requests.request(method, url, headers=headers, data=payload, timeout=10)

    def ok(self, action: str, body: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        response = self.call(action, body, **kwargs)
        envelope = response.json()
        assert response.status_code == 200, envelope
        assert "Error" not in envelope["ResponseMetadata"], envelope
        assert envelope["ResponseMetadata"]["Action"] == action
        assert envelope["ResponseMetadata"]["Service"] == "flink"
        return envelope["Result"]


def error_of(response: requests.Response) -> dict[str, Any]:
    envelope = response.json()
    assert "Result" not in envelope
    return envelope["ResponseMetadata"]["Error"]


@pytest.fixture
def volc(emulator: Emulator, control: EmulatorControl) -> Volc:
    return Volc(emulator.url)


def sql_app(
    unique_key: str, name: str | None = None, job_type: str = "FLINK_STREAMING_SQL"
) -> dict[str, Any]:
    return {
        "UniqueKey": unique_key,
        "ProjectId": "proj-1",
        "JobName": name or unique_key,
        "JobType": job_type,
        "EngineVersion": "FLINK_VERSION_1_17",
        "SqlText": "INSERT INTO sink SELECT * FROM src",
        "DeployRequest": {"Queue": "q-1", "SchedulePolicy": "GANG", "Priority": "5"},
        "Conf": json.dumps({"parallelism.default": "2"}),
    }


def wait_for_state(volc: Volc, instance_id: str, state: str, timeout: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        result = volc.ok("GetApplicationInstance", {"InstanceId": instance_id})
        if result["State"] == state or time.monotonic() > deadline:
            assert result["State"] == state
            return result
        time.sleep(0.02)


# -- authentication -------------------------------------------------------------------------------


def test_signed_request_is_accepted(volc: Volc) -> None:
    result = volc.ok("ListApplicationInstance", {"PageNum": "1", "PageSize": "10"})
    assert result == {"Total": 0, "Size": 10, "Current": 1, "Records": []}


def test_missing_authorization(volc: Volc) -> None:
    url, headers, body = volc.prepare("ListApplicationInstance", {})
    del headers["Authorization"]
    response = requests.post(url, headers=headers, data=body, timeout=10)
    assert response.status_code == 401
    assert error_of(response) == {
        "CodeN": 100003,
        "Code": "MissingAuthenticationToken",
        "Message": "Request is missing Authentication Token.",
    }


def test_malformed_authorization(volc: Volc) -> None:
    url, headers, body = volc.prepare("ListApplicationInstance", {})
    headers["Authorization"] = "Bearer abc"
    response = requests.post(url, headers=headers, data=body, timeout=10)
    assert response.status_code == 400
    assert error_of(response)["Code"] == "InvalidAuthorization"


def test_credential_scope_for_another_service(volc: Volc) -> None:
    response = volc.call("ListApplicationInstance", {}, service="iam")
    assert response.status_code == 400
    assert error_of(response)["Code"] == "InvalidCredential"


def test_unknown_access_key(emulator: Emulator, control: EmulatorControl) -> None:
    response = Volc(emulator.url, "AKLTnobody", "x").call("ListApplicationInstance", {})
    assert response.status_code == 401
    assert error_of(response) == {
        "CodeN": 100009,
        "Code": "InvalidAccessKey",
        "Message": "The accesskey [AKLTnobody] included in the request is invalid.",
    }


def test_missing_x_date(volc: Volc) -> None:
    url, headers, body = volc.prepare("ListApplicationInstance", {})
    del headers["X-Date"]
    response = requests.post(url, headers=headers, data=body, timeout=10)
    assert response.status_code == 400
    assert error_of(response)["Code"] == "MissingRequestInfo"


@pytest.mark.parametrize("skew", [timedelta(minutes=-20), timedelta(minutes=16)])
def test_stale_or_future_x_date(volc: Volc, skew: timedelta) -> None:
    response = volc.call("ListApplicationInstance", {}, now=datetime.now(timezone.utc) + skew)
    assert response.status_code == 400
    assert error_of(response)["Code"] == "InvalidTimestamp"


def test_x_date_within_the_window_is_accepted(volc: Volc) -> None:
    volc.ok("ListApplicationInstance", {}, now=datetime.now(timezone.utc) - timedelta(minutes=10))


def test_wrong_secret(emulator: Emulator, control: EmulatorControl) -> None:
    response = Volc(emulator.url, VOLCENGINE_ACCESS_KEY, "not-the-secret").call("ListApplicationInstance", {})
    assert response.status_code == 401
    assert error_of(response) == {
        "CodeN": 100010,
        "Code": "SignatureDoesNotMatch",
        "Message": SIGNATURE_MISMATCH,
    }


def test_tampered_body(volc: Volc) -> None:
    url, headers, _body = volc.prepare("GetApplicationInstance", {"InstanceId": "1"})
    response = requests.post(url, headers=headers, data=b'{"InstanceId": "2"}', timeout=10)
    assert response.status_code == 401
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"


def test_tampered_body_with_matching_content_hash(volc: Volc) -> None:
    url, headers, _body = volc.prepare("GetApplicationInstance", {"InstanceId": "1"})
    forged = b'{"InstanceId": "2"}'
    headers["X-Content-Sha256"] = hashlib.sha256(forged).hexdigest()
    response = requests.post(url, headers=headers, data=forged, timeout=10)
    assert response.status_code == 401
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"


def test_missing_content_hash(volc: Volc) -> None:
    url, headers, body = volc.prepare("ListApplicationInstance", {})
    del headers["X-Content-Sha256"]
    response = requests.post(url, headers=headers, data=body, timeout=10)
    assert response.status_code == 401
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"


def test_tampered_query(volc: Volc) -> None:
    url, headers, body = volc.prepare("ListApplicationInstance", {})
    response = requests.post(url + "&ProjectId=other", headers=headers, data=body, timeout=10)
    assert response.status_code == 401
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"


def test_host_port_is_part_of_the_signature(volc: Volc) -> None:
    # Signed for another port than the one the request reaches.
    url, headers, body = volc.prepare("ListApplicationInstance", {}, host="127.0.0.1:1")
    headers.pop("Host")
    response = requests.post(url, headers=headers, data=body, timeout=10)
    assert response.status_code == 401
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"


def test_host_must_be_signed(volc: Volc) -> None:
    pairs = [("Action", "ListApplicationInstance"), ("Version", VERSION)]
    headers = sign(
        method="POST",
        path="/",
        query=pairs,
        headers={"Content-Type": "application/json"},
        body=b"{}",
        credentials=volc.credentials,
        region="cn-beijing",
        service="flink",
        now=datetime.now(timezone.utc),
    )
    assert "host" not in headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    response = requests.post(f"{volc.url}/?{urlencode(pairs)}", headers=headers, data=b"{}", timeout=10)
    assert response.status_code == 401
    assert error_of(response)["Code"] == "SignatureDoesNotMatch"


def test_get_with_fields_in_the_query_and_plus_for_space(volc: Volc) -> None:
    url, headers, _body = volc.prepare(
        "ListApplicationInstance", None, method="GET", query=[("JobName", "my job/1"), ("PageSize", "5")]
    )
    assert "my+job%2F1" in url
    response = requests.get(url, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["Result"]["Size"] == 5


def test_sts_credentials(emulator: Emulator, control: EmulatorControl) -> None:
    good = Volc(emulator.url, VOLCENGINE_STS_ACCESS_KEY, VOLCENGINE_STS_SECRET_KEY, VOLCENGINE_STS_TOKEN)
    good.ok("ListApplicationInstance", {})
    without = Volc(emulator.url, VOLCENGINE_STS_ACCESS_KEY, VOLCENGINE_STS_SECRET_KEY)
    response = without.call("ListApplicationInstance", {})
    assert response.status_code == 401
    assert error_of(response)["Code"] == "InvalidSecretToken"
    wrong = Volc(emulator.url, VOLCENGINE_STS_ACCESS_KEY, VOLCENGINE_STS_SECRET_KEY, "other-token")
    response = wrong.call("ListApplicationInstance", {})
    assert response.status_code == 401
    assert error_of(response)["Code"] == "InvalidSecretToken"


def test_added_credentials(emulator: Emulator, control: EmulatorControl) -> None:
    client = Volc(emulator.url, "AKLTmine", "my-secret")
    assert error_of(client.call("ListApplicationInstance", {}))["Code"] == "InvalidAccessKey"
    control.add_credentials("AKLTmine", "my-secret")
    client.ok("ListApplicationInstance", {})


def test_wrong_version_and_unknown_action(volc: Volc) -> None:
    response = volc.call("GetApplicationInstance", {"InstanceId": "1"}, version="2021-06-01")
    assert response.status_code == 404
    assert error_of(response) == {
        "CodeN": 100008,
        "Code": "InvalidActionOrVersion",
        "Message": "Could not find operation GetApplicationInstance for version 2021-06-01",
    }
    response = volc.call("GetGWSApplication", {"Id": "1"})
    assert response.status_code == 404
    assert (
        error_of(response)["Message"] == f"Could not find operation GetGWSApplication for version {VERSION}"
    )


def test_missing_version(volc: Volc) -> None:
    response = volc.call("GetApplicationInstance", {"InstanceId": "1"}, version="")
    assert response.status_code == 400
    assert error_of(response)["Code"] == "MissingParameter"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vendor_signed_vectors_pass_authentication(vector: dict[str, Any]) -> None:
    """Every request the vendor SDK signed passes the emulator's checks, its clock set to the vector's."""
    inputs, outputs = vector["inputs"], vector["outputs"]
    signed_at = datetime(2024, 10, 28, 8, 20, 3, tzinfo=timezone.utc).timestamp()
    if "sdk_call" in inputs:
        method, body = outputs["method"], (outputs["body"] or "").encode()
        query = parse_qsl(urlsplit(outputs["url"]).query) + [
            tuple(p) for p in outputs.get("get_fields") or []
        ]
    else:
        method, body = inputs["method"], inputs["body"].encode()
        query = [tuple(pair) for pair in inputs["query_list"]]
    with Emulator(clock=lambda: signed_at) as emu:
        emu.control.add_credentials(inputs["ak"], inputs["sk"])
        # urlencode() writes spaces as '+', as the SDK's urllib3 does on the wire.
        response = requests.request(
            method, f"{emu.url}/?{urlencode(query)}", headers=outputs["headers"], data=body, timeout=10
        )
    metadata = response.json()["ResponseMetadata"]
    assert metadata.get("Error", {}).get("Code") not in AUTH_CODES, metadata


# -- jobs and instances ---------------------------------------------------------------------------


def test_streaming_lifecycle(volc: Volc, emulator: Emulator) -> None:
    started = volc.ok("StartApplicationInstance", {"App": sql_app("stream-1")})
    assert started["Success"] is True
    assert started["Id"].isdigit() and len(started["Id"]) == 19
    instance_id = started["InstanceId"]
    assert instance_id.isdigit() and len(instance_id) == 19
    first = volc.ok("GetApplicationInstance", {"InstanceId": instance_id})
    assert first["State"] == "STARTING"
    assert first["JobId"] == started["Id"]
    assert first["JobName"] == "stream-1"
    assert first["ApplicationId"].startswith("s-") and len(first["ApplicationId"]) == 21
    assert first["RestUrl"] == f"{emulator.url}/_flink/volcengine/{instance_id}"
    assert first["CompleteRestUrl"] == first["RestUrl"]
    assert json.loads(first["Conf"]) == {"parallelism.default": "2"}
    assert first["DeployRequest"]["SchedulePolicy"] == "GANG"
    assert abs(int(first["StartTime"]) / 1000 - time.time()) < 5
    assert first["EndTime"] == ""
    wait_for_state(volc, instance_id, "RUNNING")
    time.sleep(0.3)
    assert volc.ok("GetApplicationInstance", {"InstanceId": instance_id})["State"] == "RUNNING"
    cancelled = volc.ok("CancelApplicationInstance", {"InstanceId": instance_id})
    assert cancelled == {"InstanceId": instance_id, "Success": True, "Id": started["Id"]}
    assert volc.ok("GetApplicationInstance", {"InstanceId": instance_id})["State"] == "CANCELLING"
    stopped = wait_for_state(volc, instance_id, "STOPPED")
    assert int(stopped["EndTime"]) >= int(stopped["StartTime"])
    again = volc.call("CancelApplicationInstance", {"InstanceId": instance_id})
    assert again.status_code == 400
    assert error_of(again)["Code"] == "InvalidState"
    assert "STOPPED" in error_of(again)["Message"]


def test_batch_job_succeeds(volc: Volc) -> None:
    started = volc.ok("StartApplicationInstance", {"App": sql_app("batch-1", job_type="FLINK_BATCH_SQL")})
    instance_id = started["InstanceId"]
    wait_for_state(volc, instance_id, "RUNNING")
    done = wait_for_state(volc, instance_id, "SUCCEEDED")
    assert done["EndTime"] != ""


def test_conf_may_be_an_object(volc: Volc) -> None:
    app = {**sql_app("conf-object"), "Conf": {"k": "v"}}
    started = volc.ok("StartApplicationInstance", {"App": app})
    got = volc.ok("GetApplicationInstance", {"InstanceId": started["InstanceId"]})
    assert isinstance(got["Conf"], str)
    assert json.loads(got["Conf"]) == {"k": "v"}


def test_start_by_unique_key_then_by_id_reuses_the_app(volc: Volc, control: EmulatorControl) -> None:
    first = volc.ok("StartApplicationInstance", {"App": sql_app("reuse", name="reuse-job")})
    second = volc.ok("StartApplicationInstance", {"Id": first["Id"]})
    third = volc.ok("StartApplicationInstance", {"App": sql_app("reuse", name="reuse-job")})
    assert first["Id"] == second["Id"] == third["Id"]
    assert len({first["InstanceId"], second["InstanceId"], third["InstanceId"]}) == 3
    # Starting while an instance is active is allowed, and counted.
    volc_counters = control.counters()["volcengine"]
    assert volc_counters["starts_by_app"] == {first["Id"]: 3}
    assert volc_counters["starts_by_name"] == {"reuse-job": 3}
    # The vendor SDK sends JobId as an integer.
    listed = volc.ok(
        "ListApplicationInstance",
        {
            "ProjectId": "proj-1",
            "JobId": int(first["Id"]),
            "State": "STARTING",
            "PageNum": "1",
            "PageSize": "2",
        },
    )
    assert listed["Total"] == 3
    assert listed["Size"] == 2
    assert [r["Id"] for r in listed["Records"]] == [third["InstanceId"], second["InstanceId"]]
    page2 = volc.ok("ListApplicationInstance", {"JobId": first["Id"], "PageNum": 2, "PageSize": 2})
    assert [r["Id"] for r in page2["Records"]] == [first["InstanceId"]]
    ascending = volc.ok("ListApplicationInstance", {"JobId": first["Id"], "SortOrder": "asc"})
    assert ascending["Records"][0]["Id"] == first["InstanceId"]
    assert volc.ok("ListApplicationInstance", {"JobId": first["Id"], "State": "RUNNING"})["Total"] == 0


def test_start_by_id_updates_the_stored_spec(volc: Volc) -> None:
    first = volc.ok("StartApplicationInstance", {"App": sql_app("update-me")})
    second = volc.ok(
        "StartApplicationInstance", {"Id": first["Id"], "App": {"SqlText": "INSERT INTO b SELECT 1"}}
    )
    got = volc.ok("GetApplicationInstance", {"InstanceId": second["InstanceId"]})
    assert got["SqlText"] == "INSERT INTO b SELECT 1"
    assert got["JobName"] == "update-me"
    old = volc.ok("GetApplicationInstance", {"InstanceId": first["InstanceId"]})
    assert old["SqlText"] == "INSERT INTO sink SELECT * FROM src"


@pytest.mark.parametrize(
    "body",
    [
        {"Id": "1234567890123456789"},
        {"App": {"JobName": "no-unique-key", "JobType": "FLINK_STREAMING_SQL", "SqlText": "x"}},
        {},
    ],
    ids=["unknown-id", "no-unique-key", "empty"],
)
def test_unknown_app_is_an_http_200_business_error(volc: Volc, body: dict[str, Any]) -> None:
    response = volc.call("StartApplicationInstance", body)
    assert response.status_code == 200
    assert error_of(response) == {
        "Code": "default system error",
        "Message": "app id is empty or invalid, at the same time, not found app Resource",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"JobType": "FLINK_STREAMING_PYTHON"}, "App.JobType"),
        ({"EngineVersion": "FLINK_VERSION_2_0"}, "App.EngineVersion"),
        ({"DeployRequest": {"SchedulePolicy": "FIFO"}}, "App.DeployRequest.SchedulePolicy"),
        ({"SqlText": None}, "App.SqlText"),
        ({"Conf": "not json"}, "App.Conf"),
    ],
)
def test_invalid_app_fields(volc: Volc, control: EmulatorControl, change: dict[str, Any], field: str) -> None:
    app = {**sql_app("invalid"), **change}
    response = volc.call("StartApplicationInstance", {"App": app})
    assert response.status_code == 400
    error = error_of(response)
    assert error["Code"] == "InvalidParameter"
    assert field in error["Message"]
    assert control.state()["volcengine"]["apps"] == []


def test_restore_strategy_validation(volc: Volc) -> None:
    response = volc.call(
        "StartApplicationInstance",
        {"App": sql_app("restore"), "RestoreStrategy": {"Type": "FROM_CHECKPOINT"}},
    )
    assert response.status_code == 400
    assert "RestoreStrategy.Type" in error_of(response)["Message"]
    started = volc.ok("StartApplicationInstance", {"App": sql_app("restore")})
    response = volc.call(
        "StartApplicationInstance",
        {"Id": started["Id"], "RestoreStrategy": {"Type": "FROM_SAVEPOINT", "SavepointId": "nope"}},
    )
    assert response.status_code == 400
    assert "RestoreStrategy.SavepointId" in error_of(response)["Message"]


def test_unknown_instance(volc: Volc) -> None:
    response = volc.call("GetApplicationInstance", {"InstanceId": "1111111111111111111"})
    assert response.status_code == 404
    assert error_of(response)["Code"] == "ResourceNotFound"


# -- injected job failures and the Flink REST stub ----------------------------------------------------


def test_startup_failure_is_visible_through_the_flink_rest_stub(volc: Volc, control: EmulatorControl) -> None:
    error_text = "java.lang.IllegalStateException: table src does not exist"
    control.fail_job("doomed", error_text)
    started = volc.ok("StartApplicationInstance", {"App": sql_app("doomed")})
    got = volc.ok("GetApplicationInstance", {"InstanceId": started["InstanceId"]})
    assert got["State"] == "STARTING"
    exceptions_before = requests.get(f"{got['RestUrl']}/jobs/overview", timeout=10).json()
    jid = exceptions_before["jobs"][0]["jid"]
    assert len(jid) == 32 and int(jid, 16) >= 0
    assert exceptions_before["jobs"][0]["name"] == "doomed"
    assert (
        requests.get(f"{got['RestUrl']}/jobs/{jid}/exceptions", timeout=10).json()["root-exception"] is None
    )
    failed = wait_for_state(volc, started["InstanceId"], "FAILED")
    overview = requests.get(f"{failed['RestUrl']}/jobs/overview", timeout=10).json()
    assert overview["jobs"][0]["state"] == "FAILED"
    exceptions = requests.get(f"{failed['RestUrl']}/jobs/{jid}/exceptions", timeout=10).json()
    assert exceptions["root-exception"] == error_text
    assert isinstance(exceptions["timestamp"], int)
    entry = exceptions["exceptionHistory"]["entries"][0]
    assert entry["stacktrace"] == error_text
    assert entry["exceptionName"] == "java.lang.IllegalStateException"
    # Only the next instance fails.
    again = volc.ok("StartApplicationInstance", {"Id": started["Id"]})
    wait_for_state(volc, again["InstanceId"], "RUNNING")


def test_running_failure_after_a_delay(volc: Volc, control: EmulatorControl) -> None:
    started = volc.ok("StartApplicationInstance", {"App": sql_app("flaky")})
    control.fail_job(started["Id"], "OutOfMemoryError", phase="running", after_seconds=0.2)
    # Registered after the first start, so the first instance is unaffected.
    second = volc.ok("StartApplicationInstance", {"Id": started["Id"]})
    wait_for_state(volc, second["InstanceId"], "RUNNING")
    failed = wait_for_state(volc, second["InstanceId"], "FAILED")
    assert failed["EndTime"] != ""
    assert volc.ok("GetApplicationInstance", {"InstanceId": started["InstanceId"]})["State"] == "RUNNING"


def test_flink_rest_stub_unknown_paths(volc: Volc, emulator: Emulator) -> None:
    assert requests.get(f"{emulator.url}/_flink/volcengine/42/jobs/overview", timeout=10).status_code == 404
    started = volc.ok("StartApplicationInstance", {"App": sql_app("stub")})
    base = f"{emulator.url}/_flink/volcengine/{started['InstanceId']}"
    assert requests.get(f"{base}/jobs/{'0' * 32}/exceptions", timeout=10).status_code == 404
    assert requests.get(f"{base}/jobs/overview", timeout=10).json()["jobs"][0]["state"] == "INITIALIZING"


# -- faults ---------------------------------------------------------------------------------------


def test_throttling_fault_applies_count_times(volc: Volc, control: EmulatorControl) -> None:
    control.inject_fault(
        "status",
        platform="volcengine",
        operation="StartApplicationInstance",
        status=429,
        retry_after=1,
        count=2,
    )
    for _ in range(2):
        response = volc.call("StartApplicationInstance", {"App": sql_app("throttled")})
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert error_of(response)["Code"] == "RequestLimitExceeded"
    # A faulted call does not execute the operation.
    assert control.counters()["volcengine"]["starts_by_name"] == {}
    volc.ok("StartApplicationInstance", {"App": sql_app("throttled")})
    counters = control.counters()["volcengine"]
    assert counters["starts_by_name"] == {"throttled": 1}
    assert counters["calls"]["StartApplicationInstance"] == 3
    assert counters["faults_fired"] == 2


def test_unavailable_fault_only_hits_its_operation(volc: Volc, control: EmulatorControl) -> None:
    control.inject_fault("status", operation="GetApplicationInstance", status=503, count=1)
    volc.ok("ListApplicationInstance", {})
    response = volc.call("GetApplicationInstance", {"InstanceId": "1"})
    assert response.status_code == 503
    assert "Retry-After" not in response.headers
    assert error_of(response)["Code"] == "ServiceUnavailable"
    assert volc.call("GetApplicationInstance", {"InstanceId": "1"}).status_code == 404


def test_delay_fault(volc: Volc, control: EmulatorControl) -> None:
    control.inject_fault("delay", platform="volcengine", delay_seconds=0.3, count=1)
    begun = time.monotonic()
    volc.ok("ListApplicationInstance", {})
    assert time.monotonic() - begun >= 0.3
    begun = time.monotonic()
    volc.ok("ListApplicationInstance", {})
    assert time.monotonic() - begun < 0.3


def test_drop_fault(volc: Volc, control: EmulatorControl) -> None:
    control.inject_fault("drop", platform="volcengine", operation="StartApplicationInstance", count=2)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            volc.call("StartApplicationInstance", {"App": sql_app("dropped")})
    assert control.counters()["volcengine"]["starts_by_name"] == {}
    volc.ok("StartApplicationInstance", {"App": sql_app("dropped")})
    assert control.counters()["volcengine"]["faults_fired"] == 2


def test_fault_validation(control: EmulatorControl) -> None:
    with pytest.raises(EmulatorControlError) as excinfo:
        control.inject_fault("status", status=200)
    assert excinfo.value.status == 400
    with pytest.raises(EmulatorControlError):
        control.inject_fault("explode")
    with pytest.raises(EmulatorControlError):
        control.inject_fault("delay")
    with pytest.raises(EmulatorControlError):
        control.inject_fault("drop", platform="nowhere")


# -- control API ----------------------------------------------------------------------------------


def test_counters_and_reset(volc: Volc, control: EmulatorControl, emulator: Emulator) -> None:
    started = volc.ok("StartApplicationInstance", {"App": sql_app("counted")})
    volc.ok("GetApplicationInstance", {"InstanceId": started["InstanceId"]})
    volc.ok("GetApplicationInstance", {"InstanceId": started["InstanceId"]})
    control.fail_job("someone", "boom")
    control.inject_fault("drop", operation="CancelApplicationInstance")
    counters = control.counters()
    assert counters["volcengine"] == {
        "calls": {"StartApplicationInstance": 1, "GetApplicationInstance": 2},
        "starts_by_app": {started["Id"]: 1},
        "starts_by_name": {"counted": 1},
        "faults_fired": 0,
    }
    # Every platform is listed; the others were not touched.
    # Every registry platform has its counters, used or not.
    from airflow_provider_flinkcloud.registry import PLATFORMS

    assert set(counters) == set(PLATFORMS)
    assert counters["huawei_dli"]["calls"] == {} and counters["huawei_dli"]["faults_fired"] == 0
    control.reset()
    assert control.counters()["volcengine"] == {
        "calls": {},
        "starts_by_app": {},
        "starts_by_name": {},
        "faults_fired": 0,
    }
    state = control.state()
    assert state["faults"] == []
    assert state["timings"] == {
        "starting_seconds": 1.0,
        "batch_seconds": 2.0,
        "cancelling_seconds": 1.0,
        "savepoint_seconds": 0.5,
    }
    assert state["volcengine"]["apps"] == []
    assert state["volcengine"]["pending_failures"] == []
    assert volc.call("GetApplicationInstance", {"InstanceId": started["InstanceId"]}).status_code == 404


def test_timings_partial_update(control: EmulatorControl) -> None:
    timings = control.set_timings(batch_seconds=5)
    assert timings["batch_seconds"] == 5.0
    assert timings["starting_seconds"] == 0.1
    with pytest.raises(EmulatorControlError):
        control.set_timings(starting_seconds=-1)


def test_control_api_shapes(emulator: Emulator, control: EmulatorControl) -> None:
    assert requests.get(f"{emulator.url}/_emulator/health", timeout=10).json() == {"status": "ok"}
    assert control.health() is True
    assert requests.get(f"{emulator.url}/_emulator/nothing", timeout=10).status_code == 404
    bad = requests.post(f"{emulator.url}/_emulator/failures", data=b"[1]", timeout=10)
    assert bad.status_code == 400
    missing = requests.post(f"{emulator.url}/_emulator/failures", json={"platform": "volcengine"}, timeout=10)
    assert missing.status_code == 400
    assert "job" in missing.json()["error"]
    assert requests.get(f"{emulator.url}/somewhere/else", timeout=10).status_code == 404
    assert EmulatorControl("http://127.0.0.1:9").health() is False


def test_state_shows_apps_and_instances(volc: Volc, control: EmulatorControl) -> None:
    started = volc.ok("StartApplicationInstance", {"App": sql_app("visible")})
    volc_state = control.state()["volcengine"]
    assert [app["Id"] for app in volc_state["apps"]] == [started["Id"]]
    assert volc_state["instances"][0]["Id"] == started["InstanceId"]
    assert volc_state["instances"][0]["State"] == "STARTING"


# -- savepoints, restarts and the application list -----------------------------------------------------


def test_savepoint_lifecycle_and_restart(volc: Volc, control: EmulatorControl) -> None:
    started = volc.ok("StartApplicationInstance", {"App": sql_app("sp-job")})
    app_id = started["Id"]
    early = volc.call("CreateGWSSavepoint", {"Id": app_id, "Description": "too early"})
    assert early.status_code == 400
    assert error_of(early)["Code"] == "InvalidState"
    wait_for_state(volc, started["InstanceId"], "RUNNING")
    created = volc.ok("CreateGWSSavepoint", {"Id": app_id, "Description": "before upgrade"})
    assert created == {"Id": app_id, "Success": True, "InstanceId": started["InstanceId"]}
    (savepoint,) = volc.ok("ListGWSSavepoint", {"Id": app_id})["SavepointInfos"]
    assert savepoint["Status"] == "IN_PROGRESS"
    assert savepoint["CreateType"] == "MANUAL"
    assert savepoint["Description"] == "before upgrade"
    assert savepoint["SavepointPath"] == f"tos://flinkcloud-emulator/savepoints/{savepoint['SavepointId']}"
    assert isinstance(savepoint["Id"], int)
    assert volc.ok("GetGWSStartMethod", {"Id": app_id})["AvailableSavepoints"] == []
    time.sleep(0.15)
    (done,) = volc.ok("ListGWSSavepoint", {"Id": app_id})["SavepointInfos"]
    assert done["Status"] == "SUCCESS"
    assert done["CompeleteTime"] != ""
    method = volc.ok("GetGWSStartMethod", {"Id": app_id})
    assert method["EnableStartMethods"] == ["FROM_NEW", "FROM_LATEST", "FROM_SAVEPOINT"]
    assert [sp["SavepointId"] for sp in method["AvailableSavepoints"]] == [done["SavepointId"]]

    restarted = volc.ok(
        "RestartGWSApplication", {"Id": app_id, "Type": "FROM_SAVEPOINT", "SavepointId": done["SavepointId"]}
    )
    assert restarted == {"Id": app_id, "Success": True}
    assert volc.ok("GetApplicationInstance", {"InstanceId": started["InstanceId"]})["State"] == "CANCELLING"
    instances = control.state()["volcengine"]["instances"]
    assert instances[-1]["RestoredFrom"] == done["SavepointId"]
    assert instances[-1]["RestoreStrategy"] == {"Type": "FROM_SAVEPOINT", "SavepointId": done["SavepointId"]}
    assert instances[-1]["State"] == "STARTING"
    bad = volc.call("RestartGWSApplication", {"Id": app_id, "Type": "FROM_SAVEPOINT", "SavepointId": "x"})
    assert bad.status_code == 400
    unknown = volc.call("ListGWSSavepoint", {"Id": "999"})
    assert unknown.status_code == 200
    assert error_of(unknown)["Code"] == "default system error"


def test_list_gws_application_by_job_name(volc: Volc) -> None:
    stream = volc.ok("StartApplicationInstance", {"App": sql_app("orders-stream")})
    volc.ok("StartApplicationInstance", {"App": sql_app("orders-batch", job_type="FLINK_BATCH_SQL")})
    volc.ok("StartApplicationInstance", {"App": sql_app("payments")})
    listed = volc.ok(
        "ListGWSApplication", {"ProjectId": "proj-1", "PageNum": 1, "PageSize": 10, "JobName": "orders"}
    )
    assert listed["Total"] == 2
    assert {record["JobName"] for record in listed["Records"]} == {"orders-stream", "orders-batch"}
    streaming = volc.ok(
        "ListGWSApplication",
        {"ProjectId": "proj-1", "PageNum": 1, "PageSize": 10, "JobType": "FLINK_STREAMING_SQL"},
    )
    assert {record["JobName"] for record in streaming["Records"]} == {"orders-stream", "payments"}
    (record,) = volc.ok(
        "ListGWSApplication",
        {"ProjectId": "proj-1", "PageNum": 1, "PageSize": 10, "JobName": "orders-stream"},
    )["Records"]
    assert record["Id"] == stream["Id"]
    assert record["State"] == "STARTING"
    assert record["EngineVersion"] == "FLINK_VERSION_1_17"
    other = volc.ok("ListGWSApplication", {"ProjectId": "proj-2", "PageNum": 1, "PageSize": 10})
    assert other["Total"] == 0


# -- entry points ---------------------------------------------------------------------------------


def test_emulator_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")  # noqa: S104 - the point is that it is refused
    with pytest.raises(SystemExit):
        main(["--host", "192.168.1.10"])


def test_command_line_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flinkcloud.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("flinkcloud-emulator listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1]
        assert VOLCENGINE_ACCESS_KEY in process.stdout.readline()
        assert EmulatorControl(url).health() is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
