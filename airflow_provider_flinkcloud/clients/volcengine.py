"""Volcengine Flink OpenAPI 2025-01-01 client: endpoints, signing, the error-code table and the calls.

No Airflow here: the hook reads the connection into :class:`AccessKeySettings` and hands it over.
API reference: https://volcengine.com/docs/6581/1359414 (Flink OpenAPI); reply envelope and errors:
https://www.volcengine.com/docs/6469/1121981.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from airflow_provider_flinkcloud.core.errors import VendorErrorCodes
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiRequest, ApiResponse, VendorError
from airflow_provider_flinkcloud.models.volcengine import (
    API_VERSION,
    SERVICE,
    CancelApplicationInstanceResult,
    CreateGWSSavepointResult,
    InstanceRecord,
    ListApplicationInstanceResult,
    ListGWSApplicationResult,
    ListGWSSavepointResult,
    StartApplicationInstanceRequest,
    StartApplicationInstanceResult,
)
from airflow_provider_flinkcloud.signers import volcengine as signer

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

PLATFORM = "Volcengine Flink"
DEFAULT_REGION = "cn-beijing"
DEFAULT_ENDPOINT = "https://open.volcengineapi.com"
# Regions the SDK serves from a regional host instead of open.volcengineapi.com (volcengine-python-sdk,
# volcenginesdkcore/endpoint/providers/default_provider.py).
REGIONAL_HOST_REGIONS = frozenset(
    {
        "ap-southeast-2",
        "ap-southeast-3",
        "cn-beijing-autodriving",
        "cn-shanghai-autodriving",
        "cn-beijing-selfdrive",
    }
)
LIST_PAGE_SIZE = 50

# Common gateway error codes: https://volcengine.com/docs/6720/108305 and
# https://www.volcengine.com/docs/6369/68677.
VOLCENGINE_CODES = VendorErrorCodes(
    auth=frozenset(
        {
            "MissingAuthenticationToken",
            "MissingSignature",
            "MissingRequestInfo",
            "InvalidTimestamp",
            "InvalidAccessKey",
            "SignatureDoesNotMatch",
            "InvalidAuthorization",
            "InvalidCredential",
            "InvalidSecretToken",
        }
    ),
    permission=frozenset({"LackPolicy", "AccessDenied"}),
    not_found=frozenset({"ResourceNotFound", "NotFound"}),
    throttling=frozenset({"RequestLimitExceeded", "FlowLimitExceeded", "Throttling", "TooManyRequests"}),
    transient=frozenset(
        {"InternalError", "InternalServiceTimeout", "InternalServiceError", "ServiceUnavailable"}
    ),
    invalid=frozenset({"InvalidActionOrVersion", "ServiceNotFound"}),
)


def endpoint_for(region: str) -> str:
    if region in REGIONAL_HOST_REGIONS:
        return f"https://flink.{region}.volcengineapi.com"
    return DEFAULT_ENDPOINT


def _result(model: type[ModelT]) -> Callable[[ApiResponse], ModelT]:
    def parse(response: ApiResponse) -> ModelT:
        return model.model_validate(response.json()["Result"])

    return parse


# Built once: every status call shares it (a triggerer holds one status call per watched job).
_read_instance = _result(InstanceRecord)


class VolcengineFlinkClient:
    """Builds and signs Volcengine Flink calls; the transports send them."""

    platform = PLATFORM
    codes = VOLCENGINE_CODES

    def __init__(self, settings: AccessKeySettings) -> None:
        self.settings = settings
        self.region = settings.region or DEFAULT_REGION
        self.project_id = settings.project_id
        self.base_url = settings.endpoint or endpoint_for(self.region)
        self.retry = settings.retry
        self.timeouts = (settings.wait.connect_timeout, settings.wait.read_timeout)
        self.credentials = signer.VolcengineCredentials(
            settings.access_key, settings.secret_key, settings.security_token
        )

    def sign(self, request: ApiRequest, host: str, now: datetime) -> dict[str, str]:
        return signer.sign(
            method=request.method,
            path=request.path,
            query=request.query,
            headers={"Host": host, **request.headers},
            body=request.body,
            credentials=self.credentials,
            region=self.region,
            service=SERVICE,
            now=now,
        )

    def read_error(self, request: ApiRequest, response: ApiResponse) -> VendorError | None:
        # Every reply carries ResponseMetadata; a failure has ResponseMetadata.Error {Code, Message}.
        try:
            payload = response.json()
        except ValueError:
            payload = None
        meta = payload.get("ResponseMetadata") if isinstance(payload, dict) else None
        error = meta.get("Error") if isinstance(meta, dict) else None
        ok_status = 200 <= response.status < 300
        if ok_status and isinstance(meta, dict) and not error:
            return None
        request_id = meta.get("RequestId") if isinstance(meta, dict) else None
        if isinstance(error, dict):
            return VendorError(error.get("Code"), str(error.get("Message") or ""), request_id)
        if ok_status:
            # The SDK treats a 2xx reply without ResponseMetadata as InternalServiceError too.
            return VendorError("InternalServiceError", "the reply carried no ResponseMetadata", request_id)
        text = response.body[:200].decode("utf-8", "replace") or f"HTTP {response.status}"
        return VendorError(None, text, request_id)

    # -- calls -------------------------------------------------------------------------------------

    @staticmethod
    def action(
        action: str, body: dict[str, Any], parse: Callable[[ApiResponse], Any], *, idempotent: bool = True
    ) -> ApiCall[Any]:
        return ApiCall(
            ApiRequest(
                operation=action,
                method="POST",
                path="/",
                query=(("Action", action), ("Version", API_VERSION)),
                headers={"Content-Type": "application/json; charset=utf-8"},
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                idempotent=idempotent,
            ),
            parse,
        )

    def start_call(self, request: StartApplicationInstanceRequest) -> ApiCall[StartApplicationInstanceResult]:
        return self.action(
            "StartApplicationInstance",
            request.body(),
            _result(StartApplicationInstanceResult),
            idempotent=False,
        )

    def get_instance_call(self, instance_id: str) -> ApiCall[InstanceRecord]:
        return self.action("GetApplicationInstance", {"InstanceId": instance_id}, _read_instance)

    def cancel_instance_call(self, instance_id: str) -> ApiCall[CancelApplicationInstanceResult]:
        # Not repeated by the transport: after a failed cancel the lifecycle reads the status instead.
        return self.action(
            "CancelApplicationInstance",
            {"InstanceId": instance_id},
            _result(CancelApplicationInstanceResult),
            idempotent=False,
        )

    def list_applications_call(
        self, project_id: str, job_name: str | None = None, page: int = 1, page_size: int = 100
    ) -> ApiCall[ListGWSApplicationResult]:
        body: dict[str, Any] = {"ProjectId": project_id, "PageNum": page, "PageSize": page_size}
        if job_name is not None:
            body["JobName"] = job_name
        return self.action("ListGWSApplication", body, _result(ListGWSApplicationResult))

    def list_instances_call(
        self, project_id: str, application_id: str, state: str, page: int
    ) -> ApiCall[ListApplicationInstanceResult]:
        body = {
            "ProjectId": project_id,
            "JobId": int(application_id) if application_id.isdigit() else application_id,
            "State": state,
            "PageNum": str(page),
            "PageSize": str(LIST_PAGE_SIZE),
            "SortField": "StartTime",
            "SortOrder": "desc",
        }
        return self.action("ListApplicationInstance", body, _result(ListApplicationInstanceResult))

    def create_savepoint_call(
        self, application_id: str, description: str
    ) -> ApiCall[CreateGWSSavepointResult]:
        return self.action(
            "CreateGWSSavepoint",
            {"Id": application_id, "Description": description},
            _result(CreateGWSSavepointResult),
            idempotent=False,
        )

    def list_savepoints_call(self, application_id: str) -> ApiCall[ListGWSSavepointResult]:
        return self.action("ListGWSSavepoint", {"Id": application_id}, _result(ListGWSSavepointResult))

    def probe_call(self) -> ApiCall[ListGWSApplicationResult]:
        return self.list_applications_call(self.project_id or "default", page_size=1)


def flink_root_exception(rest_url: str, timeout: float = 5.0, max_chars: int = 4000) -> str | None:
    """Best effort: the root cause of the failed Flink job behind ``rest_url``, from Flink's REST API
    (https://nightlies.apache.org/flink/flink-docs-stable/docs/ops/rest_api/#jobs-jobid-exceptions)."""
    import requests

    base = rest_url.rstrip("/")
    try:
        overview = requests.get(f"{base}/jobs/overview", timeout=timeout).json()
        jobs = sorted(overview.get("jobs", []), key=lambda j: j.get("start-time", 0), reverse=True)
        if not jobs:
            return None
        failed = [j for j in jobs if j.get("state") == "FAILED"] or jobs
        exceptions = requests.get(f"{base}/jobs/{failed[0]['jid']}/exceptions", timeout=timeout).json()
    except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("Could not read the job's exceptions from its Flink REST endpoint: %s", exc)
        return None
    text = exceptions.get("root-exception")
    entries = (exceptions.get("exceptionHistory") or {}).get("entries") or []
    if not text and entries:
        text = entries[0].get("stacktrace") or entries[0].get("exceptionName")
    if not text:
        return None
    text = str(text).strip()
    return text if len(text) <= max_chars else text[:max_chars] + " …"
