"""The foas client: endpoints per region, paths and bodies of the calls, and the errors it reads."""

from __future__ import annotations

import json

import pytest

from airflow_provider_flinkcloud.clients.alibaba import RealtimeComputeClient, endpoint_for
from airflow_provider_flinkcloud.core.errors import AuthError, NotFoundError, ThrottledError
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import ApiResponse, api_error


def client(token: str | None = None, region: str | None = "cn-shanghai") -> RealtimeComputeClient:
    return RealtimeComputeClient(
        AccessKeySettings(
            conn_id="blink",
            endpoint=None,
            access_key="LTAIexample",
            secret_key="s3cret-key",
            region=region,
            security_token=token,
        )
    )


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("cn-hangzhou", "https://foas.cn-hangzhou.aliyuncs.com"),
        ("ap-southeast-1", "https://foas.ap-southeast-1.aliyuncs.com"),
        ("cn-hongkong", "https://foas.aliyuncs.com"),
        ("us-east-1", "https://foas.ap-northeast-1.aliyuncs.com"),
    ],
)
def test_endpoints_resolve_as_the_sdk_resolves_them(region: str, endpoint: str) -> None:
    assert endpoint_for(region) == endpoint


def test_the_default_region_is_hangzhou() -> None:
    assert client(region=None).base_url == "https://foas.cn-hangzhou.aliyuncs.com"


def test_start_sends_parameter_json_as_a_json_string_and_is_not_idempotent() -> None:
    call = client().start_job_call("proj", "my job/x", '{"startOffset":"1"}')
    request = call.request
    assert (request.method, request.path) == ("POST", "/api/v2/projects/proj/jobs/my%20job%2Fx/instance")
    assert json.loads(request.body) == {"parameterJson": '{"startOffset":"1"}'}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["x-acs-action"] == "StartJob" and request.headers["x-acs-version"] == "2018-11-11"
    assert ("RegionId", "cn-shanghai") in request.query
    assert request.idempotent is False


def test_a_start_without_parameters_has_no_body() -> None:
    request = client().start_job_call("proj", "job", None).request
    assert request.body == b"" and "Content-Type" not in request.headers


def test_stop_asks_for_terminated_with_a_checkpoint_when_asked() -> None:
    request = client().stop_instance_call("p", "j", "42", trigger_checkpoint=True).request
    assert (request.method, request.path) == ("PUT", "/api/v2/projects/p/jobs/j/instances/42/expectstate")
    assert json.loads(request.body) == {"expectState": "TERMINATED", "triggerCheckpoint": True}
    plain = client().stop_instance_call("p", "j", "42", trigger_checkpoint=False).request
    assert json.loads(plain.body) == {"expectState": "TERMINATED"}


def test_list_instances_names_the_job_and_its_type() -> None:
    request = client().list_instances_call("p", "j", "FLINK_BATCH", 2).request
    assert request.path == "/api/v2/projects/p/instances"
    assert dict(request.query) == {
        "jobName": "j",
        "jobType": "FLINK_BATCH",
        "pageIndex": "2",
        "pageSize": "100",
        "RegionId": "cn-shanghai",
    }


def test_the_signature_covers_the_decoded_path_and_the_token() -> None:
    blink = client(token="sts-secret-token")
    request = blink.get_instance_call("p", "作业 1", "7").request
    from datetime import datetime, timezone

    headers = blink.sign(
        request, "foas.cn-shanghai.aliyuncs.com", datetime(2024, 10, 28, tzinfo=timezone.utc)
    )
    assert headers["x-acs-security-token"] == "sts-secret-token"
    assert headers["Authorization"].startswith("acs LTAIexample:")
    assert "%E4" in request.path


def error_reply(status: int, code: str, message: str) -> ApiResponse:
    body = {"RequestId": "R-1", "HostId": "foas.cn-shanghai.aliyuncs.com", "Code": code, "Message": message}
    return ApiResponse(status, {}, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "SignatureDoesNotMatch", AuthError),
        (404, "InvalidAccessKeyId.NotFound", AuthError),
        (400, "Throttling.User", ThrottledError),
        (404, "InvalidJob.NotFound", NotFoundError),
    ],
)
def test_pop_errors_are_typed_by_their_code(status: int, code: str, kind: type) -> None:
    blink = client()
    request = blink.probe_call().request
    error = api_error(blink, request, error_reply(status, code, "text"))
    assert isinstance(error, kind)
    assert error is not None and error.code == code and error.request_id == "R-1"


def test_throttling_and_service_unavailable_are_retried() -> None:
    blink = client()
    request = blink.probe_call().request
    for status, code in ((400, "Throttling.User"), (503, "ServiceUnavailable")):
        error = api_error(blink, request, error_reply(status, code, "later"))
        assert error is not None and blink.codes.is_retryable(error)


def test_the_server_string_to_sign_never_shows_the_token_or_secret() -> None:
    blink = client(token="sts-secret-token")
    message = (
        "Specified signature is not matched with our calculation. server string to sign is:GET\n"
        "application/json\n\n\nMon, 28 Oct 2024 08:20:03 GMT\nx-acs-action:GetJob\n"
        "x-acs-security-token:sts-secret-token\nx-acs-version:2018-11-11\n"
        "/api/v2/projects/p?RegionId=x s3cret-key"
    )
    error = blink.read_error(blink.probe_call().request, error_reply(400, "SignatureDoesNotMatch", message))
    assert error is not None
    assert "sts-secret-token" not in error.message and "s3cret-key" not in error.message
    assert "x-acs-security-token:***" in error.message and "x-acs-action:GetJob" in error.message


def test_a_reply_that_is_not_the_pop_envelope_keeps_its_text() -> None:
    blink = client()
    error = blink.read_error(blink.probe_call().request, ApiResponse(502, {}, b"<html>Bad Gateway</html>"))
    assert error is not None and error.code is None and "Bad Gateway" in error.message


def test_a_success_reply_is_no_error() -> None:
    blink = client()
    ok = ApiResponse(200, {}, b'{"RequestId": "R", "instanceId": 5}')
    assert blink.read_error(blink.probe_call().request, ok) is None
