"""Alibaba Cloud Realtime Compute (Blink) hook: the job lifecycle of foas 2018-11-11 job instances.

The connection holds the AccessKey ID (login), AccessKey secret (password) and, in extra, ``region``,
``endpoint`` and ``security_token``. A Blink job is created and committed (published) in the Blink
console; a task starts an instance of it (StartJob), watches it (GetInstance) and stops it
(ModifyInstanceState to TERMINATED). API: https://api.aliyun.com/api/foas/2018-11-11.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from airflow_provider_flinkcloud.arguments.alibaba import instance_ref
from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
from airflow_provider_flinkcloud.clients.alibaba import PLATFORM, RealtimeComputeClient
from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError, JobSpecError
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.core.transport import ApiCall
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.links.alibaba import blink_console_url
from airflow_provider_flinkcloud.models.alibaba import (
    ACTIVE_ACTUAL_STATES,
    BATCH,
    INSTANCE_STATES,
    STREAM,
    BlinkInstance,
    BlinkJob,
    GetInstanceResult,
    RealtimeComputeStartSpec,
)
from airflow_provider_flinkcloud.registry import ALIBABA

log = logging.getLogger(__name__)


class BlinkJobNotStartableError(JobSpecError, AirflowFailException):
    """The job exists but cannot be started as it is (not committed, of an unknown type): a retry of the
    task cannot change that, the user has to, in the Blink console."""


def started_order(instance: BlinkInstance) -> tuple[float, int]:
    """Sort key of instances, oldest first: the start time, then the id (ids grow with time)."""
    started = instance.started_ms
    return (float("inf") if started is None else started, int(instance.id) if instance.id.isdigit() else 0)


def instance_state(instance: BlinkInstance) -> JobState:
    # ModifyInstanceState is asynchronous: ExpectState turns TERMINATED at once while ActualState is
    # still RUNNING, which is a stop under way, not a running job to reattach to.
    if instance.is_stopping:
        return JobState.STOPPING
    return INSTANCE_STATES(instance.actual_state)


class RealtimeComputeHook(FlinkCloudHook[RealtimeComputeClient], platform=ALIBABA):
    """Talks to Blink (foas); the connection holds the AccessKey pair, region and endpoint."""

    settings_class = AccessKeySettings
    client_class = RealtimeComputeClient

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        # GetJob answers, per (project, job): a task asks once.
        self._jobs: dict[tuple[str, str], BlinkJob] = {}

    # -- spec --------------------------------------------------------------------------------------

    def validate_spec(self, spec: Any) -> RealtimeComputeStartSpec:
        validated: RealtimeComputeStartSpec = validate_model(
            RealtimeComputeStartSpec, dict(spec), "Blink job spec"
        )
        return validated

    def job(self, project_name: str, job_name: str) -> BlinkJob:
        """The job's definition (GetJob): its type decides what a start waits for and how it is listed."""
        key = (project_name, job_name)
        if key not in self._jobs:
            job = self.call(self.client.get_job_call(project_name, job_name)).job
            if job.job_type not in (STREAM, BATCH):
                raise BlinkJobNotStartableError(
                    f"{PLATFORM} job {job_name} of project {project_name} has JobType {job.job_type!r}; "
                    f"this provider knows {STREAM} and {BATCH}"
                )
            self._jobs[key] = job
        return self._jobs[key]

    def default_wait_for(self, spec: RealtimeComputeStartSpec) -> str:
        return "SUCCESS" if self.job(spec.project_name, spec.job_name).job_type == BATCH else "RUNNING"

    # -- finding and starting ----------------------------------------------------------------------

    def instances(self, project_name: str, job_name: str) -> Iterator[BlinkInstance]:
        """The job's instances that are not archived (a stream job's current one, recent batch runs)."""
        job_type = self.job(project_name, job_name).job_type or STREAM
        page, seen = 1, 0
        while True:
            result = self.call(self.client.list_instances_call(project_name, job_name, job_type, page))
            # jobName is a filter of the API whose exactness is not documented: compare exactly.
            yield from (i for i in result.instances if i.job_name in (None, job_name))
            # Counted, not computed from the page size asked for: the server may cap it lower.
            seen += len(result.instances)
            if not result.instances or seen >= result.total_count:
                return
            page += 1

    def active_instances(self, project_name: str, job_name: str) -> list[BlinkInstance]:
        """Live instances (waiting, running, paused) not being stopped, oldest first."""
        live = [
            i
            for i in self.instances(project_name, job_name)
            if i.actual_state in ACTIVE_ACTUAL_STATES and not i.is_stopping
        ]
        return sorted(live, key=started_order)

    def active_instance(self, project_name: str, job_name: str) -> JobRef | None:
        live = self.active_instances(project_name, job_name)
        return instance_ref(project_name, job_name, live[0].id) if live else None

    def find_active(self, unit: RealtimeComputeStartSpec) -> JobRef | None:
        return self.active_instance(unit.project_name, unit.job_name)

    def older_active(self, unit: RealtimeComputeStartSpec, ref: JobRef) -> JobRef | None:
        # Blink keeps one live instance per job and refuses a second start, which the lifecycle then
        # reattaches from; should a second instance ever start beside an older one, the older stays.
        live = self.active_instances(unit.project_name, unit.job_name)
        ours = next((i for i in live if i.id == ref["instance_id"]), None)
        older = [i for i in live if i.id != ref["instance_id"]]
        if ours is not None:
            older = [i for i in older if started_order(i) < started_order(ours)]
        return instance_ref(unit.project_name, unit.job_name, older[0].id) if older else None

    def start(self, unit: RealtimeComputeStartSpec, *, restore_from: Savepoint | None = None) -> JobRef:
        job = self.job(unit.project_name, unit.job_name)
        if job.is_committed is False:
            raise BlinkJobNotStartableError(
                f"{PLATFORM} job {unit.job_name} of project {unit.project_name} is not committed: commit "
                "(publish) it in the Blink console before starting it"
            )
        # StartJob takes no savepoint: a stop with triggerCheckpoint leaves the state to Blink.
        result = self.call(
            self.client.start_job_call(unit.project_name, unit.job_name, unit.parameter_json())
        )
        return instance_ref(unit.project_name, unit.job_name, result.instance_id)

    # -- watching and stopping ---------------------------------------------------------------------

    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        call = self.client.get_instance_call(ref["project_name"], ref["job_name"], ref["instance_id"])
        return call.then(self.status_of, ref)

    def status_of(self, ref: JobRef, reply: GetInstanceResult) -> JobStatus:
        instance = reply.instance
        return JobStatus(
            platform=self.platform_name,
            ref=dict(ref),
            state=instance_state(instance),
            native_state=instance.actual_state or "",
            console_url=blink_console_url(self.link_params([ref])),
            error=instance.last_error_message or None,
            details={"expect_state": instance.expect_state or "", "job_type": instance.job_type or ""},
        )

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        return self.client.stop_instance_call(
            ref["project_name"], ref["job_name"], ref["instance_id"], trigger_checkpoint=False
        )

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        if not savepoint:
            self.cancel(ref)
            return None
        call = self.client.stop_instance_call(
            ref["project_name"], ref["job_name"], ref["instance_id"], trigger_checkpoint=True
        )
        try:
            self.call(call)
        except FlinkCloudApiError as exc:
            self.confirm_stopping([ref], exc)
        log.info(
            "Asked Blink to take a checkpoint as %s stops (triggerCheckpoint, Blink >= 3.5.0)",
            self.describe(ref),
        )
        return None

    def failure_text(self, status: JobStatus) -> str:
        if status.error:
            return status.error
        if status.native_state == "TERMINATED":
            # Stopped through ModifyInstanceState (the console's stop, or another task): no error text.
            return "the instance was stopped (TERMINATED) by a stop request, not by an error of the job"
        return f"Blink reports no LastErrorMessage for this instance (state {status.native_state})"

    def describe(self, ref: JobRef) -> str:
        return (
            f"{PLATFORM} instance {ref['instance_id']} of job {ref['job_name']} "
            f"(project {ref['project_name']})"
        )

    def link_params(self, refs: Sequence[JobRef]) -> dict[str, str]:
        return {"region": self.client.region, **refs[0]}
