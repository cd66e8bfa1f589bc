"""The ververica client: paths and headers as the SDK builds them, and errors read from the envelope
(HTTP 200 with ``success: false`` or a 4xx carrying it) and from the POP gateway's body."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from airflow_provider_flinkcloud.clients.alibaba_flink import AlibabaFlinkClient, AlibabaFlinkSettings
from airflow_provider_flinkcloud.core.errors import (
    AuthError,
    InvalidRequestError,
    JobSpecError,
    NotFoundError,
    ThrottledError,
)
from airflow_provider_flinkcloud.core.transport import ApiResponse, api_error
from airflow_provider_flinkcloud.signers.alibaba_flink import parse_authorization

JOB = "5af678c0-7db0-4650-94c2-d2604f0a1234"


def client(**overrides: object) -> AlibabaFlinkClient:
    values: dict[str, object] = {
        "conn_id": "ali",
        "endpoint": None,
        "access_key": "LTAIak",
        "secret_key": "secret",
        "region": "cn-hangzhou",
        "workspace": "a14bd5d90a",
        "namespace": "default-namespace",
        **overrides,
    }
    return AlibabaFlinkClient(AlibabaFlinkSettings(**values))  # type: ignore[arg-type]


def reply(status: int, payload: object) -> ApiResponse:
    return ApiResponse(status, {"content-type": "application/json"}, json.dumps(payload).encode())


def test_the_regional_endpoint_and_the_sdk_paths() -> None:
    c = client()
    assert c.base_url == "https://ververica.cn-hangzhou.aliyuncs.com"
    assert (
        c.start_job_call("default-namespace", {}).request.path
        == "/api/v2/namespaces/default-namespace/jobs%3Astart"
    )
    assert c.stop_job_call("ns", JOB, "NONE").request.path == f"/api/v2/namespaces/ns/jobs/{JOB}%3Astop"
    assert c.stop_job_call("ns", JOB, "NONE").request.body == b'{"stopStrategy":"NONE"}'


def test_every_request_carries_and_signs_the_workspace() -> None:
    c = client()
    call = c.get_job_call("default-namespace", JOB)
    headers = c.sign(
        call.request, "ververica.cn-hangzhou.aliyuncs.com", datetime(2024, 10, 28, tzinfo=timezone.utc)
    )
    assert headers["workspace"] == "a14bd5d90a" and headers["x-acs-action"] == "GetJob"
    parsed = parse_authorization(headers["Authorization"])
    assert parsed is not None and {"workspace", "host", "x-acs-date"} <= set(parsed.signed_headers)
    # A fresh nonce per attempt: the gateway refuses one it has seen.
    again = c.sign(
        call.request, "ververica.cn-hangzhou.aliyuncs.com", datetime(2024, 10, 28, tzinfo=timezone.utc)
    )
    assert again["x-acs-signature-nonce"] != headers["x-acs-signature-nonce"]


def test_ids_are_checked_before_a_call_is_built() -> None:
    with pytest.raises(ValueError, match="jobId: must be a UUID"):
        client().get_job_call("default-namespace", "../deployments")


@pytest.mark.parametrize(
    ("status", "payload", "kind", "code"),
    [
        (
            200,
            {"success": False, "errorCode": "990301", "errorMessage": "Job x does not exist."},
            NotFoundError,
            "990301",
        ),
        (
            200,
            {"success": False, "httpCode": 409, "errorCode": "", "errorMessage": "already running"},
            InvalidRequestError,
            None,
        ),
        (
            404,
            {"requestId": "r", "success": False, "errorCode": "990301", "errorMessage": "gone"},
            NotFoundError,
            "990301",
        ),
        (
            400,
            {"RequestId": "r", "Code": "SignatureDoesNotMatch", "Message": "no match"},
            AuthError,
            "SignatureDoesNotMatch",
        ),
        (
            429,
            {"RequestId": "r", "Code": "Throttling.User", "Message": "slow down"},
            ThrottledError,
            "Throttling.User",
        ),
    ],
)
def test_errors_are_read_from_the_envelope_and_the_gateway_body(
    status: int, payload: object, kind: type, code: str | None
) -> None:
    c = client()
    error = api_error(c, c.get_job_call("default-namespace", JOB).request, reply(status, payload))
    assert isinstance(error, kind) and error.code == code


def test_a_successful_envelope_is_no_error() -> None:
    c = client()
    body = {"requestId": "r", "success": True, "httpCode": 200, "errorCode": '""', "data": {"jobId": JOB}}
    assert api_error(c, c.get_job_call("default-namespace", JOB).request, reply(200, body)) is None


def test_a_connection_without_workspace_or_with_a_bad_namespace_is_refused() -> None:
    with pytest.raises(JobSpecError, match="extra workspace is required"):
        client(workspace=None)
    with pytest.raises(JobSpecError, match="extra namespace: must be a namespace name"):
        client(namespace="../x")
    with pytest.raises(JobSpecError, match="set extra region"):
        client(region=None)
