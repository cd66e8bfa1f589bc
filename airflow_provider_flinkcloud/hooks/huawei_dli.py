"""Huawei Cloud DLI Flink jobs (also Open Telekom Cloud DLI): client, hook and job-lifecycle adapter."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from pydantic import BaseModel

from airflow_provider_flinkcloud.core.errors import (
    FlinkCloudApiError,
    InvalidRequestError,
    JobSpecError,
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
from airflow_provider_flinkcloud.links.huawei_dli import dli_console_url
from airflow_provider_flinkcloud.models.huawei_dli import (
    ACTIVE_STATUSES,
    DLI_STATES,
    STOPPED_STATUSES,
    DliBatchResult,
    DliCreatedJob,
    DliJarJobSpec,
    DliJob,
    DliJobList,
    DliRunJobsSpec,
    DliSqlJobSpec,
    JobKind,
    is_true,
)
from airflow_provider_flinkcloud.registry import HUAWEI_DLI as HUAWEI_DLI_SPEC
from airflow_provider_flinkcloud.signers import huawei as signer

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

PLATFORM = "Huawei Cloud DLI"
LIST_PAGE_SIZE = 100  # the documented maximum of ``limit``

AUTH_CODES = frozenset(
    {"APIG.0301", "APIGW.0301", "APIG.0307", "APIGW.0307", "DLI.0013", "DLI.0014", "DLI.0015"}
)
PERMISSION_CODES = frozenset({"APIG.0302", "APIGW.0302", "APIG.0306", "DLI.0003", "DLI.0011", "DLI.0016"})
NOT_FOUND_CODES = frozenset({"DLI.16001", "DLI.0002", "DLI.0023"})
THROTTLING_CODES = frozenset({"APIG.0308", "APIGW.0308", "APIG.1009"})
TRANSIENT_CODES = frozenset({"DLI.0999", "APIG.0201", "APIG.0202", "APIGW.0202"})

_PATHS: dict[JobKind, str] = {"jar": "/flink-jobs", "sql": "/sql-jobs"}
_CREATE_OPS: dict[JobKind, str] = {"jar": "CreateFlinkJarJob", "sql": "CreateFlinkSqlJob"}
_UPDATE_OPS: dict[JobKind, str] = {"jar": "UpdateFlinkJarJob", "sql": "UpdateFlinkSqlJob"}


DLI_CODES = VendorErrorCodes(
    auth=AUTH_CODES,
    permission=PERMISSION_CODES,
    not_found=NOT_FOUND_CODES,
    throttling=THROTTLING_CODES,
    transient=TRANSIENT_CODES,
)
# The one place that decides what DLI errors may be repeated (for idempotent calls).
dli_is_retryable = DLI_CODES.is_retryable


def endpoint_for(region: str) -> str:
    # The EU (Dublin) region is served from the .eu domain (huaweicloudsdkdli dli_region.py).
    domain = "myhuaweicloud.eu" if region == "eu-west-101" else "myhuaweicloud.com"
    return f"https://dli.{region}.{domain}"


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


class DliClient:
    platform = PLATFORM

    def __init__(self, settings: CloudSettings) -> None:
        if not settings.project_id:
            raise JobSpecError(
                f"connection {settings.conn_id!r}: extra project_id is required for Huawei Cloud DLI "
                "(the project of the region, 32 hex characters; see 'My Credentials' in the console)"
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

    def error_for(self, request: ApiRequest, response: ApiResponse) -> FlinkCloudApiError | None:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        ok_status = 200 <= response.status < 300
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
        return DLI_CODES.error_class(response.status, code)(
            platform=self.platform,
            operation=request.operation,
            http_status=response.status,
            code=code,
            message=str(message),
            request_id=request_id,
            retry_after=parse_retry_after(response.header("Retry-After")),
        )

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        return dli_is_retryable(error)


def _field(key: str, model: type[ModelT]) -> Callable[[ApiResponse], ModelT]:
    def parse(response: ApiResponse) -> ModelT:
        return model.model_validate(response.json()[key])

    return parse


def _batch(response: ApiResponse) -> list[DliBatchResult]:
    payload = response.json()
    if not isinstance(payload, list):
        raise ValueError(f"expected a JSON array of per-job results, got {type(payload).__name__}")
    return [DliBatchResult.model_validate(item) for item in payload]


class DliFlinkHook(FlinkCloudHook[DliClient]):
    """Talks to DLI; the connection holds AK (login), SK (password), region, project_id and endpoint."""

    conn_type = "huaweicloud_dli"
    default_conn_name = "huaweicloud_dli_default"
    hook_name = "Huawei Cloud DLI"
    form = HUAWEI_DLI_SPEC.form

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        return dli_is_retryable(error)

    def build_client(self, conn: Any, extra: dict[str, Any]) -> DliClient:
        return DliClient(read_cloud_settings(conn, extra))

    def adapter(self) -> DliFlinkJobAdapter:
        return DliFlinkJobAdapter(self)

    def _call(
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
                path=f"/v1.0/{self.client.project_id}/streaming{path}",
                # Sorted: the SDK sends its canonical query string as the query.
                query=tuple(sorted(query)),
                body=b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8"),
                idempotent=idempotent,
            ),
            parse,
        )

    def create_job_call(self, kind: JobKind, body: dict[str, Any]) -> ApiCall[DliCreatedJob]:
        return self._call(
            _CREATE_OPS[kind], "POST", _PATHS[kind], _field("job", DliCreatedJob), body=body, idempotent=False
        )

    def update_job_call(self, kind: JobKind, job_id: int, body: dict[str, Any]) -> ApiCall[Any]:
        # A PUT replaces the definition: repeating it changes nothing.
        return self._call(_UPDATE_OPS[kind], "PUT", f"{_PATHS[kind]}/{job_id}", lambda r: r.json(), body=body)

    def show_job_call(self, job_id: int | str) -> ApiCall[DliJob]:
        return self._call("ShowFlinkJob", "GET", f"/jobs/{job_id}", _field("job_detail", DliJob))

    def list_jobs_call(
        self, *, name: str | None = None, offset: int = 0, limit: int = LIST_PAGE_SIZE
    ) -> ApiCall[DliJobList]:
        query = [("limit", str(limit)), ("offset", str(offset)), ("show_detail", "false")]
        if name is not None:
            query.append(("name", name))
        return self._call("ListFlinkJobs", "GET", "/jobs", _field("job_list", DliJobList), query=query)

    def run_jobs_call(self, job_ids: Sequence[int], resume_savepoint: bool) -> ApiCall[list[DliBatchResult]]:
        body = {"job_ids": list(job_ids), "resume_savepoint": resume_savepoint}
        return self._call("BatchRunFlinkJobs", "POST", "/jobs/run", _batch, body=body, idempotent=False)

    def stop_jobs_call(
        self, job_ids: Sequence[int], trigger_savepoint: bool
    ) -> ApiCall[list[DliBatchResult]]:
        body = {"job_ids": list(job_ids), "trigger_savepoint": trigger_savepoint}
        return self._call("BatchStopFlinkJobs", "POST", "/jobs/stop", _batch, body=body, idempotent=False)

    def probe_call(self) -> ApiCall[DliJobList]:
        return self.list_jobs_call(limit=1)

    def find_jobs_by_name(self, name: str) -> list[DliJob]:
        """Jobs named exactly ``name``: DLI's ``name`` filter is not documented as exact, so compare here."""
        found: list[DliJob] = []
        offset = 0
        while True:
            page = self.call(self.list_jobs_call(name=name, offset=offset))
            found.extend(job for job in page.jobs if job.name == name)
            offset += len(page.jobs)
            if not page.jobs or offset >= page.total_count:
                return found


@dataclass(frozen=True)
class DliJobUnit:
    """One DLI job a task runs: a definition to create or update (``spec``), or an existing ``job_id``."""

    kind: JobKind | None = None
    spec: DliJarJobSpec | DliSqlJobSpec | None = None
    job_id: int | None = None
    resume_savepoint: bool = False


@dataclass(frozen=True)
class DliPlan:
    units: list[DliJobUnit]


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


class DliFlinkJobAdapter(JobAdapter[DliPlan]):
    platform = "huawei_dli"
    label = PLATFORM
    hook: DliFlinkHook

    def __init__(self, hook: DliFlinkHook) -> None:
        super().__init__(hook)
        self._names: dict[int, str] = {}

    # -- spec ----------------------------------------------------------------------------------------

    def validate_spec(self, spec: Any) -> DliPlan:
        data = dict(spec)
        kind = data.get("kind")
        if kind == "jobs":
            run: DliRunJobsSpec = validate_model(
                DliRunJobsSpec,
                {"job_ids": data.get("job_ids"), "resume_savepoint": data.get("resume_savepoint", False)},
                "DLI run spec",
            )
            return DliPlan(
                [DliJobUnit(job_id=job_id, resume_savepoint=run.resume_savepoint) for job_id in run.job_ids]
            )
        if kind not in _PATHS:
            raise JobSpecError(f"invalid DLI spec: kind: must be 'jar', 'sql' or 'jobs', got {kind!r}")
        model: type[DliJarJobSpec | DliSqlJobSpec] = DliJarJobSpec if kind == "jar" else DliSqlJobSpec
        job = data.get("job")
        if job is not None and not isinstance(job, dict | BaseModel):
            raise JobSpecError(
                f"invalid DLI {kind} job: job: must be a dict or model, got {type(job).__name__}"
            )
        validated = validate_model(model, job or {}, f"DLI {kind} job")
        return DliPlan(
            [DliJobUnit(kind=kind, spec=validated, resume_savepoint=bool(data.get("resume_savepoint")))]
        )

    def units(self, spec: DliPlan) -> list[Any]:
        return list(spec.units)

    def default_wait_for(self, spec: DliPlan) -> str:
        # Only a definition says whether the job is bounded; a bare job id does not.
        if spec.units and all(u.spec is not None and u.spec.is_batch for u in spec.units):
            return "SUCCESS"
        return "RUNNING"

    # -- finding, creating, running ------------------------------------------------------------------

    def _ref(self, job_id: int, name: str | None = None) -> JobRef:
        name = name or self._names.get(job_id)
        if name:
            self._names[job_id] = name
        return {"job_id": str(job_id), **({"job_name": name} if name else {})}

    def _named_job(self, name: str) -> DliJob | None:
        jobs = self.hook.find_jobs_by_name(name)
        if len(jobs) > 1:
            ids = ", ".join(str(j.job_id) for j in jobs)
            raise JobSpecError(
                f"DLI has {len(jobs)} Flink jobs named {name!r} (ids {ids}); this operator keeps one job per "
                "name, so delete or rename the duplicates"
            )
        return jobs[0] if jobs else None

    def find_active(self, unit: DliJobUnit) -> JobRef | None:
        job: DliJob | None
        if unit.job_id is not None:
            job = self.hook.call(self.hook.show_job_call(unit.job_id))
        else:
            assert unit.spec is not None
            job = self._named_job(unit.spec.name)
        if job is None:
            return None
        ref = self._ref(job.job_id, job.name)
        return ref if job.status in ACTIVE_STATUSES else None

    def upsert(self, unit: DliJobUnit) -> tuple[JobRef, bool]:
        """Create the job, or update the one of the same name; returns (its ids, created)."""
        assert unit.kind is not None and unit.spec is not None
        body = unit.spec.body()
        existing = self._named_job(unit.spec.name)
        if existing is None:
            created = self.hook.call(self.hook.create_job_call(unit.kind, body))
            ref = self._ref(created.job_id, unit.spec.name)
            log.info("Created %s", self.describe(ref))
            return ref, True
        self.hook.call(self.hook.update_job_call(unit.kind, existing.job_id, body))
        ref = self._ref(existing.job_id, existing.name)
        log.info("Updated %s with the given definition", self.describe(ref))
        return ref, False

    def start(self, unit: DliJobUnit, *, restore_from: Savepoint | None = None) -> JobRef:
        return self.start_many([unit], [restore_from])[0]

    def start_many(
        self, units: Sequence[DliJobUnit], restore_from: Sequence[Savepoint | None]
    ) -> list[JobRef]:
        refs = [self._ref(u.job_id) if u.job_id is not None else self.upsert(u)[0] for u in units]
        # resume_savepoint is per request, so jobs that resume and jobs that start afresh go separately.
        for resume in (False, True):
            group = [
                ref
                for ref, unit, restore in zip(refs, units, restore_from, strict=True)
                if (unit.resume_savepoint or restore is not None) is resume
            ]
            if group:
                self.hook.call(
                    self._batch_call("run", group, partial(self.hook.run_jobs_call, resume_savepoint=resume))
                )
        return refs

    def _batch_call(
        self,
        verb: str,
        refs: Sequence[JobRef],
        make_call: Callable[[list[int]], ApiCall[list[DliBatchResult]]],
    ) -> ApiCall[None]:
        """A batch run or stop of ``refs`` that fails naming each job DLI refused."""
        call = make_call([int(ref["job_id"]) for ref in refs])

        def parse(response: ApiResponse) -> None:
            failures = batch_failures(call.parse(response), refs, self.describe)
            if failures:
                raise InvalidRequestError(
                    platform=PLATFORM,
                    operation=call.request.operation,
                    http_status=response.status,
                    code="is_success=false",
                    message=f"DLI refused to {verb} " + "; ".join(failures),
                )

        return ApiCall(call.request, parse)

    # -- watching and stopping -----------------------------------------------------------------------

    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        inner = self.hook.show_job_call(ref["job_id"])

        def parse(response: ApiResponse) -> JobStatus:
            job = inner.parse(response)
            return JobStatus(
                platform=self.platform,
                ref=dict(ref),
                state=DLI_STATES(job.status),
                native_state=job.status or "",
                console_url=dli_console_url(self.link_params(ref)),
                error=job.status_desc or None,
            )

        return ApiCall(inner.request, parse)

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        return self._batch_call("stop", [ref], partial(self.hook.stop_jobs_call, trigger_savepoint=False))

    def is_active(self, status: JobStatus) -> bool:
        return status.native_state in ACTIVE_STATUSES

    def is_stopped(self, status: JobStatus) -> bool:
        return status.native_state in STOPPED_STATUSES

    def stop_error(self, status: JobStatus) -> str | None:
        if status.native_state == "job_cancel_fail":
            return status.error or "DLI reports job_cancel_fail and gives no reason"
        return None

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        return self.stop_many([ref], savepoint=savepoint)[0]

    def stop_many(self, refs: Sequence[JobRef], *, savepoint: bool) -> list[Savepoint | None]:
        self.hook.call(
            self._batch_call("stop", refs, partial(self.hook.stop_jobs_call, trigger_savepoint=savepoint))
        )
        # DLI resumes from the job's latest savepoint; there is no savepoint id to carry.
        return [{"job_id": ref["job_id"], "resume_savepoint": "true"} if savepoint else None for ref in refs]

    def failure_text(self, status: JobStatus) -> str:
        return status.error or f"DLI gave no status_desc (status {status.native_state})"

    def describe(self, ref: JobRef) -> str:
        name = f" ({ref['job_name']})" if ref.get("job_name") else ""
        return f"DLI Flink job {ref['job_id']}{name}"

    def link_params(self, ref: JobRef) -> dict[str, str]:
        return {"region": self.hook.client.region, "job_id": ref["job_id"]}

    def link_params_many(self, refs: Sequence[JobRef]) -> dict[str, str]:
        return {"region": self.hook.client.region}
