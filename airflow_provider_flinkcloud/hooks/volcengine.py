"""Volcengine Flink (OpenAPI 2025-01-01): client, hook and job-lifecycle adapter."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import requests
from pydantic import BaseModel

from airflow_provider_flinkcloud.core.errors import (
    FlinkCloudApiError,
    JobSpecError,
    TransientError,
    VendorErrorCodes,
)
from airflow_provider_flinkcloud.core.hook import CloudSettings, FlinkCloudHook, read_cloud_settings
from airflow_provider_flinkcloud.core.lifecycle import JobAdapter, JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.transport import (
    ApiCall,
    ApiRequest,
    ApiResponse,
    parse_retry_after,
)
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.links.volcengine import volcengine_console_url
from airflow_provider_flinkcloud.models.volcengine import (
    ACTIVE_INSTANCE_STATES,
    API_VERSION,
    INSTANCE_STATES,
    SERVICE,
    CancelApplicationInstanceResult,
    CreateGWSSavepointResult,
    InstanceRecord,
    ListApplicationInstanceResult,
    ListGWSApplicationResult,
    ListGWSSavepointResult,
    RestoreStrategy,
    SavepointInfo,
    StartApplicationInstanceRequest,
    StartApplicationInstanceResult,
    VolcengineFlinkStartSpec,
)
from airflow_provider_flinkcloud.registry import VOLCENGINE
from airflow_provider_flinkcloud.signers import volcengine as signer

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

PLATFORM = "Volcengine Flink"
DEFAULT_REGION = "cn-beijing"
DEFAULT_ENDPOINT = "https://open.volcengineapi.com"
# Regions the SDK serves from a regional host instead of open.volcengineapi.com (default_provider.py).
REGIONAL_HOST_REGIONS = frozenset(
    {
        "ap-southeast-2",
        "ap-southeast-3",
        "cn-beijing-autodriving",
        "cn-shanghai-autodriving",
        "cn-beijing-selfdrive",
    }
)

AUTH_CODES = frozenset(
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
)
PERMISSION_CODES = frozenset({"LackPolicy", "AccessDenied"})
TRANSIENT_CODES = frozenset(
    {"InternalError", "InternalServiceTimeout", "InternalServiceError", "ServiceUnavailable"}
)
THROTTLING_CODES = frozenset({"RequestLimitExceeded", "FlowLimitExceeded", "Throttling", "TooManyRequests"})
NOT_FOUND_CODES = frozenset({"ResourceNotFound", "NotFound"})
SAVEPOINT_DONE = frozenset({"SUCCESS", "SUCCEEDED", "COMPLETED", "COMPLETE", "FINISHED"})
SAVEPOINT_FAILED = frozenset({"FAILED", "FAIL", "ERROR", "CANCELED", "CANCELLED"})


VOLCENGINE_CODES = VendorErrorCodes(
    auth=AUTH_CODES,
    permission=PERMISSION_CODES,
    not_found=NOT_FOUND_CODES,
    throttling=THROTTLING_CODES,
    transient=TRANSIENT_CODES,
    invalid=frozenset({"InvalidActionOrVersion", "ServiceNotFound"}),
)
# The one place that decides what Volcengine errors may be repeated (for idempotent calls).
volcengine_is_retryable = VOLCENGINE_CODES.is_retryable


def endpoint_for(region: str) -> str:
    if region in REGIONAL_HOST_REGIONS:
        return f"https://flink.{region}.volcengineapi.com"
    return DEFAULT_ENDPOINT


class VolcengineFlinkClient:
    platform = PLATFORM

    def __init__(self, settings: CloudSettings) -> None:
        self.settings = settings
        self.region = settings.region or DEFAULT_REGION
        self.base_url = settings.endpoint or endpoint_for(self.region)
        self.retry = settings.retry
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

    def error_for(self, request: ApiRequest, response: ApiResponse) -> FlinkCloudApiError | None:
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
            code, message = error.get("Code"), str(error.get("Message") or "")
        elif ok_status:
            # The SDK treats a 2xx reply without ResponseMetadata as InternalServiceError too.
            code, message = "InternalServiceError", "the reply carried no ResponseMetadata"
        else:
            code, message = None, response.body[:200].decode("utf-8", "replace") or f"HTTP {response.status}"
        return VOLCENGINE_CODES.error_class(response.status, code)(
            platform=self.platform,
            operation=request.operation,
            http_status=response.status,
            code=code,
            message=message,
            request_id=request_id,
            retry_after=parse_retry_after(response.header("Retry-After")),
        )

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        return volcengine_is_retryable(error)


def _result(model: type[ModelT]) -> Callable[[ApiResponse], ModelT]:
    def parse(response: ApiResponse) -> ModelT:
        return model.model_validate(response.json()["Result"])

    return parse


class VolcengineFlinkHook(FlinkCloudHook[VolcengineFlinkClient]):
    """Talks to Volcengine Flink; the connection holds AK (login), SK (password), region and endpoint."""

    conn_type = "volcengine_flink"
    default_conn_name = "volcengine_flink_default"
    hook_name = "Volcengine Flink"
    form = VOLCENGINE.form

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        return volcengine_is_retryable(error)

    def build_client(self, conn: Any, extra: dict[str, Any]) -> VolcengineFlinkClient:
        return VolcengineFlinkClient(read_cloud_settings(conn, extra))

    def adapter(self) -> VolcengineFlinkJobAdapter:
        return VolcengineFlinkJobAdapter(self)

    @staticmethod
    def _call(
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
        return self._call(
            "StartApplicationInstance",
            request.body(),
            _result(StartApplicationInstanceResult),
            idempotent=False,
        )

    def get_instance_call(self, instance_id: str) -> ApiCall[InstanceRecord]:
        return self._call("GetApplicationInstance", {"InstanceId": instance_id}, _result(InstanceRecord))

    def cancel_instance_call(self, instance_id: str) -> ApiCall[CancelApplicationInstanceResult]:
        return self._call(
            "CancelApplicationInstance", {"InstanceId": instance_id}, _result(CancelApplicationInstanceResult)
        )

    def probe_call(self) -> ApiCall[ListGWSApplicationResult]:
        project = self.client.settings.project_id or "default"
        return self._call(
            "ListGWSApplication",
            {"ProjectId": project, "PageNum": 1, "PageSize": 1},
            _result(ListGWSApplicationResult),
        )

    def list_instances(self, project_id: str, application_id: str, state: str) -> Iterator[InstanceRecord]:
        """Instances of one application in one state, newest first, across pages."""
        page = 1
        while True:
            body = {
                "ProjectId": project_id,
                "JobId": int(application_id) if application_id.isdigit() else application_id,
                "State": state,
                "PageNum": str(page),
                "PageSize": "50",
                "SortField": "StartTime",
                "SortOrder": "desc",
            }
            result = self.call(
                self._call("ListApplicationInstance", body, _result(ListApplicationInstanceResult))
            )
            yield from result.records
            if not result.records or page * 50 >= result.total:
                return
            page += 1

    def find_applications(self, project_id: str, job_name: str) -> list[str]:
        """Ids of the applications named exactly ``job_name`` (the API filter may match substrings)."""
        ids: list[str] = []
        page = 1
        while True:
            body = {"ProjectId": project_id, "JobName": job_name, "PageNum": page, "PageSize": 100}
            result = self.call(self._call("ListGWSApplication", body, _result(ListGWSApplicationResult)))
            ids.extend(r.id for r in result.records if r.job_name == job_name)
            if not result.records or page * 100 >= result.total:
                return ids
            page += 1

    def create_savepoint(self, application_id: str, description: str) -> CreateGWSSavepointResult:
        return self.call(
            self._call(
                "CreateGWSSavepoint",
                {"Id": application_id, "Description": description},
                _result(CreateGWSSavepointResult),
                idempotent=False,
            )
        )

    def list_savepoints(self, application_id: str) -> list[SavepointInfo]:
        result = self.call(
            self._call("ListGWSSavepoint", {"Id": application_id}, _result(ListGWSSavepointResult))
        )
        return result.savepoint_infos


class VolcengineFlinkJobAdapter(JobAdapter[VolcengineFlinkStartSpec]):
    platform = "volcengine"
    label = PLATFORM
    hook: VolcengineFlinkHook
    savepoint_timeout = 600.0

    def __init__(self, hook: VolcengineFlinkHook) -> None:
        super().__init__(hook)

    @property
    def _settings(self) -> CloudSettings:
        return self.hook.client.settings

    def validate_spec(self, spec: Any) -> VolcengineFlinkStartSpec:
        data = dict(spec)
        app = data.get("app")
        if isinstance(app, BaseModel):
            app = app.model_dump(by_alias=True, exclude_none=True)
        if app is not None and not isinstance(app, dict):
            raise JobSpecError(
                f"invalid Volcengine Flink spec: App: must be a dict or model, got {type(app).__name__}"
            )
        project_id = (
            (app or {}).get("ProjectId") or (app or {}).get("project_id") or self._settings.project_id
        )
        if app is not None and project_id and not (app.get("ProjectId") or app.get("project_id")):
            app = {**app, "ProjectId": project_id}
        restore = data.get("restore_strategy")
        if isinstance(restore, str):
            restore = {"Type": restore}
        payload = {
            "ApplicationId": data.get("application_id"),
            "App": app,
            "RestoreStrategy": restore,
            "ProjectId": project_id or "",
        }
        validated: VolcengineFlinkStartSpec = validate_model(
            VolcengineFlinkStartSpec, payload, "Volcengine Flink spec"
        )
        return validated

    def default_wait_for(self, spec: VolcengineFlinkStartSpec) -> str:
        return "SUCCESS" if spec.app is not None and spec.app.is_batch else "RUNNING"

    def _application_ids(self, spec: VolcengineFlinkStartSpec) -> list[str]:
        if spec.application_id:
            return [spec.application_id]
        assert spec.app is not None
        return self.hook.find_applications(spec.project_id, spec.app.job_name)

    def active_instance(self, project_id: str, application_id: str) -> JobRef | None:
        for state in ACTIVE_INSTANCE_STATES:
            for record in self.hook.list_instances(project_id, application_id, state):
                return self._ref(record.id, application_id, project_id)
        return None

    def find_active(self, spec: VolcengineFlinkStartSpec) -> JobRef | None:
        for application_id in self._application_ids(spec):
            found = self.active_instance(spec.project_id, application_id)
            if found:
                return found
        return None

    def _ref(self, instance_id: str, application_id: str | None, project_id: str | None) -> JobRef:
        ref = {"instance_id": instance_id}
        if application_id:
            ref["application_id"] = application_id
        if project_id:
            ref["project_id"] = project_id
        return ref

    def start(self, spec: VolcengineFlinkStartSpec, *, restore_from: Savepoint | None = None) -> JobRef:
        restore = spec.restore_strategy
        application_id = spec.application_id
        if restore_from:
            restore = RestoreStrategy(type="FROM_SAVEPOINT", savepoint_id=restore_from["savepoint_id"])
            application_id = restore_from.get("application_id") or application_id
        request = StartApplicationInstanceRequest(id=application_id, app=spec.app, restore_strategy=restore)
        result = self.hook.call(self.hook.start_call(request))
        return self._ref(result.instance_id, result.id, spec.project_id)

    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        inner = self.hook.get_instance_call(ref["instance_id"])

        def parse(response: ApiResponse) -> JobStatus:
            record = inner.parse(response)
            full = self._ref(
                record.id or ref["instance_id"],
                record.job_id or ref.get("application_id"),
                record.project_id or ref.get("project_id"),
            )
            return JobStatus(
                platform=self.platform,
                ref=full,
                state=INSTANCE_STATES(record.state),
                native_state=record.state or "",
                console_url=volcengine_console_url(self.link_params(full)),
                details={"rest_url": record.complete_rest_url or record.rest_url or ""},
            )

        return ApiCall(inner.request, parse)

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        return self.hook.cancel_instance_call(ref["instance_id"])

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        taken = self.take_savepoint(ref) if savepoint else None
        self.hook.call(self.cancel_call(ref))
        return taken

    def take_savepoint(self, ref: JobRef) -> Savepoint:
        application_id = ref.get("application_id")
        if not application_id:
            application_id = self.hook.call(self.hook.get_instance_call(ref["instance_id"])).job_id or ""
        # A unique description finds our savepoint again, whatever CreateGWSSavepoint returns as ids.
        description = f"airflow-flinkcloud stop of instance {ref['instance_id']} at {int(time.time() * 1000)}"
        try:
            self.hook.create_savepoint(application_id, description)
        except TransientError:
            if not any(s.description == description for s in self.hook.list_savepoints(application_id)):
                raise
        deadline = time.time() + self.savepoint_timeout
        while True:
            mine = [s for s in self.hook.list_savepoints(application_id) if s.description == description]
            status = (mine[0].status or "").upper() if mine else ""
            if mine and status in SAVEPOINT_DONE and mine[0].savepoint_id:
                log.info("Savepoint %s taken: %s", mine[0].savepoint_id, mine[0].savepoint_path)
                return {
                    "application_id": application_id,
                    "savepoint_id": mine[0].savepoint_id,
                    "savepoint_path": mine[0].savepoint_path or "",
                }
            if status in SAVEPOINT_FAILED:
                raise FlinkCloudApiError(
                    platform=PLATFORM,
                    operation="CreateGWSSavepoint",
                    code=status,
                    message=f"savepoint of application {application_id} ended {status}; job not stopped",
                )
            if time.time() >= deadline:
                raise FlinkCloudApiError(
                    platform=PLATFORM,
                    operation="CreateGWSSavepoint",
                    code="Timeout",
                    message=f"savepoint of application {application_id} did not complete in "
                    f"{self.savepoint_timeout:.0f}s; the job was not stopped",
                )
            time.sleep(1.0)

    def failure_text(self, status: JobStatus) -> str:
        # GetApplicationInstance carries no error field; the instance's Flink REST endpoint has the cause.
        rest_url = str(status.details.get("rest_url") or "")
        text = flink_root_exception(rest_url) if rest_url else None
        return (
            text
            or status.error
            or (f"Volcengine reports no error text for this instance (state {status.native_state})")
        )

    def describe(self, ref: JobRef) -> str:
        app = f" of application {ref['application_id']}" if ref.get("application_id") else ""
        return f"{PLATFORM} instance {ref['instance_id']}{app}"

    def link_params(self, ref: JobRef) -> dict[str, str]:
        return {"region": self.hook.client.region, **ref}


def flink_root_exception(rest_url: str, timeout: float = 5.0, max_chars: int = 4000) -> str | None:
    """Best effort: the root cause of the failed Flink job behind ``rest_url``, from Flink's REST API."""
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
