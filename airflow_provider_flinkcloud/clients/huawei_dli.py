"""Huawei Cloud DLI Flink jobs API v1.0 client: endpoints, signing, the error-code table and the calls.

No Airflow here. API reference: https://support.huaweicloud.com/intl/en-us/api-dli/dli_02_0225.html
(Flink job APIs).
The same API is sold as Open Telekom Cloud DLI (endpoint ``https://dli.eu-de.otc.t-systems.com``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from airflow_provider_flinkcloud.arguments.huawei_dli import dli_job_id
from airflow_provider_flinkcloud.core.errors import JobSpecError, VendorErrorCodes
from airflow_provider_flinkcloud.core.jobs import JobRef
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiRequest, ApiResponse, VendorError
from airflow_provider_flinkcloud.models.huawei_dli import (
    PROJECT_ID,
    DliBatchResult,
    DliCreatedJob,
    DliJob,
    DliJobList,
    JobKind,
    is_true,
)
from airflow_provider_flinkcloud.signers import huawei as signer

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

PLATFORM = "Huawei Cloud DLI"
LIST_PAGE_SIZE = 100  # the documented maximum of ``limit``

DLI_CODES = VendorErrorCodes(
    auth=frozenset(
        {"APIG.0301", "APIGW.0301", "APIG.0307", "APIGW.0307", "DLI.0013", "DLI.0014", "DLI.0015"}
    ),
    permission=frozenset({"APIG.0302", "APIGW.0302", "APIG.0306", "DLI.0003", "DLI.0011", "DLI.0016"}),
    # DLI.16001 ("job not found", HTTP 400) is what DLI answers for a missing Flink job.
    not_found=frozenset({"DLI.16001", "DLI.0002", "DLI.0023"}),
    throttling=frozenset({"APIG.0308", "APIGW.0308", "APIG.1009"}),
    transient=frozenset({"DLI.0999", "APIG.0201", "APIG.0202", "APIGW.0202"}),
)

_PATHS: dict[JobKind, str] = {"jar": "/flink-jobs", "sql": "/sql-jobs"}
_CREATE_OPS: dict[JobKind, str] = {"jar": "CreateFlinkJarJob", "sql": "CreateFlinkSqlJob"}
_UPDATE_OPS: dict[JobKind, str] = {"jar": "UpdateFlinkJarJob", "sql": "UpdateFlinkSqlJob"}
JOB_KINDS: tuple[JobKind, ...] = tuple(_PATHS)


def endpoint_for(region: str) -> str:
    # The EU (Dublin) region is served from the .eu domain (huaweicloudsdkdli dli_region.py).
    domain = "myhuaweicloud.eu" if region == "eu-west-101" else "myhuaweicloud.com"
    return f"https://dli.{region}.{domain}"


def segment(value: Any) -> str:
    """One path segment, escaped: nothing in it can reach another route."""
    return quote(str(value), safe="")


def path_job_id(job_id: Any) -> str:
    """A job id for a URL path: a positive integer, checked before any request."""
    try:
        return segment(dli_job_id(job_id))
    except ValueError as exc:
        raise JobSpecError(str(exc)) from None


def _error_fields(payload: Any) -> tuple[str | None, str | None]:
    """(code, message) in the order huaweicloudsdkcore's exception handler looks for them."""
    if not isinstance(payload, dict):
        return None, None
    for code_key, message_key in (
        ("error_code", "error_msg"),
        ("errorCode", "errorMsg"),
        ("code", "message"),
    ):
        if payload.get(code_key) or payload.get(message_key):
            return payload.get(code_key), payload.get(message_key)
    nested = next((v for v in payload.values() if isinstance(v, dict)), None)
    return _error_fields(nested) if nested is not None else (None, None)


def _field(key: str, model: type[ModelT]) -> Callable[[ApiResponse], ModelT]:
    def parse(response: ApiResponse) -> ModelT:
        return model.model_validate(response.json()[key])

    return parse


# Built once: every status call shares it (a triggerer holds one status call per watched job).
_read_job_detail = _field("job_detail", DliJob)


def _batch(response: ApiResponse) -> list[DliBatchResult]:
    payload = response.json()
    if not isinstance(payload, list):
        raise ValueError(f"expected a JSON array of per-job results, got {type(payload).__name__}")
    return [DliBatchResult.model_validate(item) for item in payload]


class DliClient:
    platform = PLATFORM
    codes = DLI_CODES

    def __init__(self, settings: AccessKeySettings) -> None:
        if not settings.project_id:
            raise JobSpecError(
                f"connection {settings.conn_id!r}: extra project_id is required for Huawei Cloud DLI "
                "(the project of the region, 32 hex characters; see 'My Credentials' in the console)"
            )
        if not PROJECT_ID.fullmatch(settings.project_id):
            raise JobSpecError(
                f"connection {settings.conn_id!r}: extra project_id: must be 1-64 letters and digits "
                f"(Huawei Cloud project ids are 32 hex characters), got {settings.project_id!r}"
            )
        if not settings.region and not settings.endpoint:
            raise JobSpecError(
                f"connection {settings.conn_id!r}: set extra region (e.g. cn-north-4) or extra endpoint"
            )
        self.settings = settings
        self.project_id = settings.project_id
        self.region = settings.region or ""
        self.base_url = settings.endpoint or endpoint_for(self.region)
        self.retry = settings.retry
        self.timeouts = (settings.wait.connect_timeout, settings.wait.read_timeout)
        self.credentials = signer.HuaweiCredentials(
            settings.access_key, settings.secret_key, settings.project_id, settings.security_token
        )

    def sign(self, request: ApiRequest, host: str, now: datetime) -> dict[str, str]:
        return signer.sign(
            method=request.method,
            path=request.path,
            query=request.query,
            headers={"Host": host, "Content-Type": "application/json", **request.headers},
            body=request.body,
            credentials=self.credentials,
            now=now,
        )

    def read_error(self, request: ApiRequest, response: ApiResponse) -> VendorError | None:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        ok_status = 200 <= response.status < 300
        # Batch replies are arrays; a plain reply may carry is_success=false with HTTP 200.
        if ok_status and not (
            isinstance(payload, dict) and "is_success" in payload and not is_true(payload["is_success"])
        ):
            return None
        code, message = _error_fields(payload)
        if not message:
            message = (
                payload.get("message")
                if isinstance(payload, dict) and payload.get("message")
                else response.body[:200].decode("utf-8", "replace") or f"HTTP {response.status}"
            )
        request_id = response.header("X-Request-Id") or (
            payload.get("request_id") if isinstance(payload, dict) else None
        )
        return VendorError(code, str(message), request_id)

    # -- calls -------------------------------------------------------------------------------------

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[ApiResponse], Any],
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        idempotent: bool = True,
    ) -> ApiCall[Any]:
        return ApiCall(
            ApiRequest(
                operation=operation,
                method=method,
                path=f"/v1.0/{segment(self.project_id)}/streaming{path}",
                # Sorted: the SDK sends its canonical query string as the query.
                query=tuple(sorted(query)),
                body=b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8"),
                idempotent=idempotent,
            ),
            parse,
        )

    def create_job_call(self, kind: JobKind, body: dict[str, Any]) -> ApiCall[DliCreatedJob]:
        return self.request(
            _CREATE_OPS[kind], "POST", _PATHS[kind], _field("job", DliCreatedJob), body=body, idempotent=False
        )

    def update_job_call(self, kind: JobKind, job_id: int, body: dict[str, Any]) -> ApiCall[Any]:
        # A PUT replaces the definition: repeating it changes nothing.
        return self.request(
            _UPDATE_OPS[kind], "PUT", f"{_PATHS[kind]}/{path_job_id(job_id)}", lambda r: r.json(), body=body
        )

    def delete_job_call(self, job_id: int | str) -> ApiCall[Any]:
        # DELETE /v1.0/{project_id}/streaming/jobs/{job_id}; deleting twice only finds it gone.
        return self.request("DeleteFlinkJob", "DELETE", f"/jobs/{job_id}", lambda r: r.json())

    def show_job_call(self, job_id: int | str) -> ApiCall[DliJob]:
        return self.request("ShowFlinkJob", "GET", f"/jobs/{path_job_id(job_id)}", _read_job_detail)

    def list_jobs_call(
        self, *, name: str | None = None, offset: int = 0, limit: int = LIST_PAGE_SIZE
    ) -> ApiCall[DliJobList]:
        query = [("limit", str(limit)), ("offset", str(offset)), ("show_detail", "false")]
        if name is not None:
            query.append(("name", name))
        return self.request("ListFlinkJobs", "GET", "/jobs", _field("job_list", DliJobList), query=query)

    def run_jobs_call(self, job_ids: Sequence[int], resume_savepoint: bool) -> ApiCall[list[DliBatchResult]]:
        body = {"job_ids": list(job_ids), "resume_savepoint": resume_savepoint}
        return self.request("BatchRunFlinkJobs", "POST", "/jobs/run", _batch, body=body, idempotent=False)

    def stop_jobs_call(
        self, job_ids: Sequence[int], trigger_savepoint: bool
    ) -> ApiCall[list[DliBatchResult]]:
        body = {"job_ids": list(job_ids), "trigger_savepoint": trigger_savepoint}
        return self.request("BatchStopFlinkJobs", "POST", "/jobs/stop", _batch, body=body, idempotent=False)

    def probe_call(self) -> ApiCall[DliJobList]:
        return self.list_jobs_call(limit=1)


def batch_failures(
    results: Sequence[DliBatchResult], refs: Sequence[JobRef], describe: Callable[[JobRef], str]
) -> list[str]:
    """One line per job that DLI refused; the array holds one result per job id, in request order."""
    if len(results) != len(refs):
        if all(result.ok for result in results):
            return []
        # Without one result per job the refusals cannot be matched to jobs: name them all.
        messages = "; ".join(result.message or "refused" for result in results if not result.ok)
        return [f"{', '.join(describe(ref) for ref in refs)}: {messages}"]
    return [
        f"{describe(ref)}: {result.message}"
        for ref, result in zip(refs, results, strict=True)
        if not result.ok
    ]
