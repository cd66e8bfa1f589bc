"""The ververica envelope, the POP gateway's error body, and the errors the emulator raises.

Success: ``{requestId, success: true, httpCode: 200, data}``; a business error: ``success: false`` with
``errorCode`` / ``errorMessage`` (HTTP 200, ``httpCode`` saying what failed: the docs call ``httpCode``
"固定值200" yet say a non-200 value means failure). Gateway errors: ``{RequestId, HostId, Code, Message,
Recommend}`` with a 4xx/5xx (https://help.aliyun.com/document_detail/95922.html).
Only ``990301`` (not found) is a documented business code (Alibaba's Terraform provider); the API lists
no others (V4), so the emulator names its other refusals descriptively (``StateConflict``,
``InvalidParameter``), and the provider relies on ``success: false`` and the message alone for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from airflow_provider_flinkcloud.emulator.platform import ApiResponse, json_response

NOT_FOUND = "990301"
HOST_ID = "ververica.cn-hangzhou.aliyuncs.com"


class AlibabaFlinkError(Exception):
    """A refusal; ``gateway`` errors use the POP body, the others the ververica envelope."""

    def __init__(self, status: int, code: str, message: str, *, gateway: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.gateway = gateway


def gateway(status: int, code: str, message: str) -> AlibabaFlinkError:
    return AlibabaFlinkError(status, code, message, gateway=True)


def not_found(kind: str, ident: str) -> AlibabaFlinkError:
    return AlibabaFlinkError(404, NOT_FOUND, f"{kind} {ident} does not exist.")


def conflict(message: str) -> AlibabaFlinkError:
    return AlibabaFlinkError(409, "StateConflict", message)


def invalid(field: str, rule: str) -> AlibabaFlinkError:
    return AlibabaFlinkError(400, "InvalidParameter", f"{field}: {rule}")


def ok(data: Any, **page: Any) -> ApiResponse:
    payload: dict[str, Any] = {
        "requestId": _request_id(),
        "success": True,
        "httpCode": 200,
        "errorCode": "",
        "errorMessage": "",
    }
    if data is not None:
        payload["data"] = data
    payload.update(page)
    return json_response(200, payload)


def error_response(exc: AlibabaFlinkError, headers: Mapping[str, str] | None = None) -> ApiResponse:
    request_id = _request_id()
    body: dict[str, Any]
    if exc.gateway:
        body = {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": exc.code,
            "Message": exc.message,
            "Recommend": f"https://error-center.aliyun.com/status/search?Keyword={exc.code}&source=PopGw",
        }
        return json_response(exc.status, body, headers)
    body = {
        "requestId": request_id,
        "success": False,
        "httpCode": exc.status,
        "errorCode": exc.code,
        "errorMessage": exc.message,
        "data": None,
    }
    return json_response(200, body, headers)


_FAULT_CODES = {
    429: ("Throttling.User", "Request was denied due to user flow control."),
    500: ("InternalError", "The request processing has failed due to some unknown error."),
    503: ("ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
}


def fault_code(status: int) -> tuple[str, str]:
    if status in _FAULT_CODES:
        return _FAULT_CODES[status]
    if status >= 500:
        return "InternalError", "The request processing has failed due to some unknown error."
    return "InvalidParameter", f"HTTP {status} injected by flinkcloud-emulator."


def _request_id() -> str:
    return str(uuid.uuid4()).upper()
