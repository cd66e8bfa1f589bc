"""The Volcengine client: reading errors from replies, and its code table deciding retries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_flinkcloud.clients.volcengine import PLATFORM, VOLCENGINE_CODES, VolcengineFlinkClient
from airflow_provider_flinkcloud.core.errors import (
    AuthError,
    ConnectionFailedError,
    FlinkCloudApiError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    TransientError,
)
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import (
    ApiRequest,
    ApiResponse,
    RetryPolicy,
)
from airflow_provider_flinkcloud.core.transport import api_error as typed_error
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook

REQUEST = ApiRequest(operation="GetApplicationInstance", method="POST", path="/")


@pytest.fixture
def offline_client() -> VolcengineFlinkClient:
    return VolcengineFlinkClient(
        AccessKeySettings(
            conn_id="offline",
            access_key="AKLTtest",
            secret_key="c2VjcmV0",
            region="cn-beijing",
            endpoint="http://127.0.0.1:9",
            project_id=None,
            security_token=None,
            retry=RetryPolicy(),
        )
    )


def envelope(error: dict[str, Any] | None = None, request_id: str = "20241028082003ABCDEF") -> bytes:
    meta: dict[str, Any] = {
        "RequestId": request_id,
        "Action": "GetApplicationInstance",
        "Version": "2025-01-01",
    }
    payload: dict[str, Any] = {"ResponseMetadata": meta}
    if error is None:
        payload["Result"] = {"Id": "1"}
    else:
        meta["Error"] = error
    return json.dumps(payload).encode()


def response(status: int, body: bytes, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, headers or {}, body)


# -- error_for --------------------------------------------------------------------------------------


def test_success_is_no_error(offline_client: VolcengineFlinkClient) -> None:
    assert typed_error(offline_client, REQUEST, response(200, envelope())) is None


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "SignatureDoesNotMatch", AuthError),
        (401, "InvalidAccessKey", AuthError),
        (400, "InvalidTimestamp", AuthError),
        (401, "InvalidSecretToken", AuthError),
        (403, "AccessDenied", PermissionDeniedError),
        (403, "LackPolicy", PermissionDeniedError),
        (429, "RequestLimitExceeded", ThrottledError),
        (500, "InternalError", TransientError),
        (503, "ServiceUnavailable", TransientError),
        (504, "InternalServiceTimeout", TransientError),
        (404, "ResourceNotFound", NotFoundError),
        (404, "InvalidActionOrVersion", InvalidRequestError),
        (400, "InvalidParameter", InvalidRequestError),
        (404, "SomethingElse", NotFoundError),
    ],
)
def test_error_classification(
    offline_client: VolcengineFlinkClient, status: int, code: str, expected: type[FlinkCloudApiError]
) -> None:
    error = typed_error(offline_client, REQUEST, response(status, envelope({"Code": code, "Message": "m"})))
    assert type(error) is expected
    assert error.code == code and error.http_status == status
    assert error.platform == PLATFORM and error.operation == "GetApplicationInstance"


def test_permission_denied_is_an_auth_error(offline_client: VolcengineFlinkClient) -> None:
    error = typed_error(
        offline_client, REQUEST, response(403, envelope({"Code": "AccessDenied", "Message": "m"}))
    )
    assert isinstance(error, AuthError)


def test_throttled_carries_retry_after(offline_client: VolcengineFlinkClient) -> None:
    body = envelope({"Code": "RequestLimitExceeded", "Message": "Request limit exceeded."})
    error = typed_error(offline_client, REQUEST, response(429, body, {"retry-after": "7"}))
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 7.0


def test_no_retry_after_header_means_none(offline_client: VolcengineFlinkClient) -> None:
    error = typed_error(
        offline_client, REQUEST, response(500, envelope({"Code": "InternalError", "Message": "m"}))
    )
    assert isinstance(error, TransientError) and error.retry_after is None


def test_error_in_a_200_reply_is_an_error(offline_client: VolcengineFlinkClient) -> None:
    body = envelope({"CodeN": 100008, "Code": "BusinessError", "Message": "app id is invalid"}, "req-42")
    error = typed_error(offline_client, REQUEST, response(200, body))
    assert error is not None
    assert isinstance(error, InvalidRequestError)
    assert (error.http_status, error.code, error.message, error.request_id) == (
        200,
        "BusinessError",
        "app id is invalid",
        "req-42",
    )


def test_auth_code_in_a_200_reply_is_an_auth_error(offline_client: VolcengineFlinkClient) -> None:
    error = typed_error(offline_client, REQUEST, response(200, envelope({"Code": "SignatureDoesNotMatch"})))
    assert isinstance(error, AuthError) and error.message == ""


@pytest.mark.parametrize("body", [b'{"Result": {"Id": "1"}}', b"{}", b"[]", b"null", b""])
def test_2xx_without_response_metadata_is_internal_service_error(
    offline_client: VolcengineFlinkClient, body: bytes
) -> None:
    error = typed_error(offline_client, REQUEST, response(200, body))
    assert isinstance(error, FlinkCloudApiError)
    assert error.code == "InternalServiceError"
    assert "ResponseMetadata" in error.message


def test_non_json_502_is_transient(offline_client: VolcengineFlinkClient) -> None:
    body = b"<html><body>502 Bad Gateway</body></html>"
    error = typed_error(offline_client, REQUEST, response(502, body))
    assert isinstance(error, TransientError)
    assert error.http_status == 502 and error.code is None
    assert "502 Bad Gateway" in error.message
    assert VOLCENGINE_CODES.is_retryable(error)


def test_empty_error_body_names_the_status(offline_client: VolcengineFlinkClient) -> None:
    error = typed_error(offline_client, REQUEST, response(503, b""))
    assert isinstance(error, TransientError) and error.message == "HTTP 503"


def test_long_error_body_is_cut(offline_client: VolcengineFlinkClient) -> None:
    error = typed_error(offline_client, REQUEST, response(500, b"x" * 5000))
    assert error is not None and len(error.message) == 200


# -- volcengine_is_retryable ------------------------------------------------------------------------


def api_error(cls: type[FlinkCloudApiError] = FlinkCloudApiError, **kwargs: Any) -> FlinkCloudApiError:
    return cls(platform=PLATFORM, operation="GetApplicationInstance", message="m", **kwargs)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (api_error(TransientError, http_status=503), True),
        (api_error(ThrottledError, http_status=429), True),
        (api_error(ConnectionFailedError), True),
        # The vendor's own codes decide even when the class is the generic one.
        (api_error(code="ServiceUnavailable"), True),
        (api_error(code="InternalServiceTimeout"), True),
        (api_error(code="FlowLimitExceeded"), True),
        (api_error(code="Throttling"), True),
        (api_error(AuthError, http_status=401, code="SignatureDoesNotMatch"), False),
        (api_error(PermissionDeniedError, http_status=403, code="AccessDenied"), False),
        (api_error(NotFoundError, http_status=404), False),
        (api_error(InvalidRequestError, http_status=400, code="InvalidParameter"), False),
        (api_error(code="UnexpectedResponse"), False),
    ],
)
def test_volcengine_code_table_decides_retries(error: FlinkCloudApiError, retryable: bool) -> None:
    assert VOLCENGINE_CODES.is_retryable(error) is retryable


def test_hook_and_client_share_the_rule() -> None:
    error = api_error(code="RequestLimitExceeded")
    hook = VolcengineFlinkHook(conn_id="unused")
    assert hook.is_retryable(error) is True
    assert hook.is_retryable(api_error(AuthError)) is False
