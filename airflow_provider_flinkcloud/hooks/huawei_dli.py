"""Huawei Cloud DLI hook: the job lifecycle of Flink Jar and SQL jobs (also Open Telekom Cloud DLI).

The connection holds the access key (login), secret key (password) and, in extra, ``region``,
``project_id`` (required), ``endpoint`` and ``security_token``.
API: https://support.huaweicloud.com/intl/en-us/api-dli/dli_02_0225.html.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import BaseModel

from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
from airflow_provider_flinkcloud.clients.huawei_dli import JOB_KINDS, PLATFORM, DliClient, batch_failures
from airflow_provider_flinkcloud.core.errors import (
    FlinkCloudApiError,
    InvalidRequestError,
    JobSpecError,
    NotFoundError,
    StartUnconfirmedError,
    took_no_effect,
)
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiResponse
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.links.huawei_dli import dli_console_url
from airflow_provider_flinkcloud.models.huawei_dli import (
    ACTIVE_STATUSES,
    DLI_STATES,
    STOPPED_STATUSES,
    DliBatchResult,
    DliJarJobSpec,
    DliJob,
    DliRunJobsSpec,
    DliSqlJobSpec,
    JobKind,
)
from airflow_provider_flinkcloud.registry import HUAWEI_DLI

log = logging.getLogger(__name__)


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


class DliFlinkHook(FlinkCloudHook[DliClient], platform=HUAWEI_DLI):
    """Talks to DLI; the connection holds AK (login), SK (password), region, project_id and endpoint."""

    settings_class = AccessKeySettings
    client_class = DliClient

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self._names: dict[int, str] = {}

    def find_jobs_by_name(self, name: str) -> list[DliJob]:
        """Jobs named exactly ``name``: DLI's ``name`` filter is not documented as exact, so compare here."""
        found: list[DliJob] = []
        offset = 0
        while True:
            page = self.call(self.client.list_jobs_call(name=name, offset=offset))
            found.extend(job for job in page.jobs if job.name == name)
            offset += len(page.jobs)
            if not page.jobs or offset >= page.total_count:
                return found

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
        if kind not in JOB_KINDS:
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
        jobs = self.find_jobs_by_name(name)
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
            job = self.call(self.client.show_job_call(unit.job_id))
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
            ref = self.one_of_its_name(unit.spec.name, self.create(unit.kind, unit.spec.name, body))
            log.info("Created %s", self.describe(ref))
            return ref, True
        self.call(self.client.update_job_call(unit.kind, existing.job_id, body))
        ref = self._ref(existing.job_id, existing.name)
        log.info("Updated %s with the given definition", self.describe(ref))
        return ref, False

    def create(self, kind: JobKind, name: str, body: dict[str, Any]) -> int:
        """Create the job once and return its id; a create that got no clear answer is looked for by
        name (the job's key here), never sent again on a guess."""
        try:
            return self.call(self.client.create_job_call(kind, body)).job_id
        except FlinkCloudApiError as exc:
            if took_no_effect(exc):
                raise
            give_up = time.time() + self.client.settings.wait.start_confirm_seconds
            while True:
                jobs = self.find_jobs_by_name(name)
                if jobs:
                    log.warning("The create request got no clear answer (%s), but the job exists", exc)
                    return min(job.job_id for job in jobs)
                if time.time() >= give_up:
                    raise StartUnconfirmedError(
                        f"could not confirm whether DLI created the job {name!r} ({exc}); a retry looks "
                        "again before creating"
                    ) from exc
                time.sleep(1.0)

    def one_of_its_name(self, name: str, job_id: int) -> JobRef:
        """Right after creating: another task may have created a job of this name at the same moment.
        The oldest (lowest id) stays and the other is deleted, so the name keeps naming one job."""
        ids = sorted(job.job_id for job in self.find_jobs_by_name(name)) or [job_id]
        if ids[0] != job_id:
            log.warning(
                "Another task created DLI Flink job %s (%s) at the same moment: deleting job %s, made by "
                "this task, and using the older",
                ids[0],
                name,
                job_id,
            )
            with contextlib.suppress(NotFoundError):  # the other task's check removed it already
                self.call(self.client.delete_job_call(job_id))
        return self._ref(ids[0], name)

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
                self.call(
                    self._batch_call(
                        "run", group, partial(self.client.run_jobs_call, resume_savepoint=resume)
                    )
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
        return self.client.show_job_call(ref["job_id"]).then(self.status_of, ref)

    def status_of(self, ref: JobRef, job: DliJob) -> JobStatus:
        return JobStatus(
            platform=self.platform_name,
            ref=dict(ref),
            state=DLI_STATES(job.status),
            native_state=job.status or "",
            console_url=dli_console_url(self.link_params([ref])),
            error=job.status_desc or None,
        )

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        return self._batch_call("stop", [ref], partial(self.client.stop_jobs_call, trigger_savepoint=False))

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
        stop = partial(self.client.stop_jobs_call, trigger_savepoint=savepoint)
        try:
            self.call(self._batch_call("stop", refs, stop))
        except FlinkCloudApiError as exc:
            self.confirm_stopping(refs, exc)
        # DLI resumes from the job's latest savepoint; there is no savepoint id to carry.
        return [{"job_id": ref["job_id"], "resume_savepoint": "true"} if savepoint else None for ref in refs]

    def failure_text(self, status: JobStatus) -> str:
        return status.error or f"DLI gave no status_desc (status {status.native_state})"

    def describe(self, ref: JobRef) -> str:
        name = f" ({ref['job_name']})" if ref.get("job_name") else ""
        return f"DLI Flink job {ref['job_id']}{name}"

    def link_params(self, refs: Sequence[JobRef]) -> dict[str, str]:
        # A task over several jobs links to the Flink job list.
        if len(refs) == 1:
            return {"region": self.client.region, "job_id": refs[0]["job_id"]}
        return {"region": self.client.region}
