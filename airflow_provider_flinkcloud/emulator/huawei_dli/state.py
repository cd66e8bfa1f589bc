"""The DLI models: Flink jobs, their runs and savepoints, and the job status machine.

The statuses are those of the job list
(https://github.com/opentelekomcloud-docs/data-lake-insight/blob/main/api-ref/source/flink_job-related_apis/listing_jobs.rst);
they are computed lazily from a per-run timeline, so no background thread runs.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from airflow_provider_flinkcloud.emulator.gateway import FailureQueue
from airflow_provider_flinkcloud.emulator.huawei_dli.responses import DliError, invalid
from airflow_provider_flinkcloud.emulator.huawei_dli.validation import is_batch_job
from airflow_provider_flinkcloud.emulator.platform import (
    EmulatorContext,
    FailureSpec,
    JSONObject,
    RunStates,
    Timeline,
    entered_at,
    plan_run,
    replan,
    state_at,
)

EMULATOR_USER_NAME = "flinkcloud-emulator"
JOB_STATUSES = (
    "job_init",
    "job_submitting",
    "job_submit_fail",
    "job_running",
    "job_running_exception",
    "job_downloading",
    "job_idle",
    "job_canceling",
    "job_cancel_success",
    "job_cancel_fail",
    "job_savepointing",
    "job_arrearage_stopped",
    "job_arrearage_recovering",
    "job_finish",
)
# Statuses in which a job holds resources: it can be neither run again nor edited.
ACTIVE_STATUSES = frozenset(
    {"job_submitting", "job_running", "job_canceling", "job_savepointing", "job_downloading"}
)
STOPPABLE_STATUSES = frozenset({"job_submitting", "job_running"})
RUN_STATES = RunStates(
    starting="job_submitting",
    running="job_running",
    start_failed="job_submit_fail",
    failed="job_running_exception",
    finished="job_finish",
)
# Ids are small longs like the documented ones (104, 138, 148); the first one minted is 101.
_FIRST_JOB_ID = 100


@dataclass
class Savepoint:
    path: str
    done_at: float


@dataclass
class Run:
    seq: int
    started_at: float
    # (time, status) in time order; the status at t is the last entry whose time is <= t.
    timeline: Timeline
    error: str | None
    resume_savepoint: bool
    restored_from: str | None

    def status(self, now: float) -> str:
        return state_at(self.timeline, now)

    def entered_at(self, now: float) -> float:
        return entered_at(self.timeline, now)

    def ended_at(self, now: float) -> float | None:
        return None if self.status(now) in ACTIVE_STATUSES else self.entered_at(now)

    def stop(self, now: float, savepoint_seconds: float | None, cancelling_seconds: float) -> None:
        steps = [(now, "job_savepointing")] if savepoint_seconds is not None else []
        canceling_at = now + (savepoint_seconds or 0.0)
        self.timeline = replan(
            self.timeline,
            now,
            *steps,
            (canceling_at, "job_canceling"),
            (canceling_at + cancelling_seconds, "job_cancel_success"),
        )


@dataclass
class Job:
    id: int
    project_id: str
    job_type: str
    spec: JSONObject
    user_name: str
    created_at: float
    updated_at: float
    runs: list[Run] = field(default_factory=list)
    savepoints: list[Savepoint] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def is_sql(self) -> bool:
        return self.job_type != "flink_jar_job"

    @property
    def is_batch(self) -> bool:
        return is_batch_job(self.spec)

    def status(self, now: float) -> str:
        return self.runs[-1].status(now) if self.runs else "job_init"

    def latest_savepoint(self, now: float) -> Savepoint | None:
        done = [savepoint for savepoint in self.savepoints if savepoint.done_at <= now]
        return done[-1] if done else None

    def missing_for_run(self) -> str | None:
        # Undocumented; the emulator fails the submission of a job it could not know how to run.
        if self.is_sql and not self.spec.get("sql_body"):
            return "The SQL statement of the job is empty; set sql_body before running it."
        if not self.is_sql and not self.spec.get("entrypoint"):
            return "The job has no entrypoint JAR; set entrypoint before running it."
        return None


class JobIds:
    """Mints job ids; outlives resets, so an id from before a reset never resolves to a new job."""

    def __init__(self) -> None:
        self._last = _FIRST_JOB_ID

    def new(self) -> int:
        self._last += 1
        return self._last


class DliState:
    """Every job and pending failure, with the create/run/stop/delete counters; emptied by a reset."""

    def __init__(self, ctx: EmulatorContext, ids: JobIds) -> None:
        self.ctx = ctx
        self.ids = ids
        self.jobs: dict[int, Job] = {}
        self.failures = FailureQueue()
        self.creates_by_name: Counter[str] = Counter()
        self.runs_by_name: Counter[str] = Counter()
        self.stops_by_name: Counter[str] = Counter()
        self.deletes_by_name: Counter[str] = Counter()
        self._run_seq = 0

    def job(self, project_id: str, raw_id: str) -> Job:
        if not raw_id.isdigit():
            raise invalid(f"Invalid parameter 'job_id': expected a long, got {raw_id!r}.")
        job = self.jobs.get(int(raw_id))
        if job is None or job.project_id != project_id:
            # Huawei's Terraform provider (parseDliFlinkErrToError404 in
            # https://github.com/huaweicloud/terraform-provider-huaweicloud/tree/master/huaweicloud/services/dli)
            # reads HTTP 400 + DLI.16001 as "not found".
            raise DliError(400, "DLI.16001", f"The Flink job {raw_id} does not exist.")
        return job

    def batch_target(self, project_id: str, raw_id: int | str) -> Job | None:
        job = self.jobs.get(int(raw_id))
        return job if job is not None and job.project_id == project_id else None

    def create(self, project_id: str, job_type: str, spec: JSONObject) -> Job:
        now = self.ctx.clock()
        job = Job(
            id=self.ids.new(),
            project_id=project_id,
            job_type=job_type,
            spec=spec,
            user_name=EMULATOR_USER_NAME,
            created_at=now,
            updated_at=now,
        )
        self.jobs[job.id] = job
        # A duplicate name is accepted, as nothing documents a rejection; the counter shows it.
        self.creates_by_name[job.name] += 1
        return job

    def launch(self, job: Job, resume_savepoint: bool, now: float) -> Run:
        """Run ``job`` again; the run suffers the job's next injected failure, if any."""
        failure = self.failures.take((job.name, str(job.id)))
        missing = job.missing_for_run()
        if missing is not None:
            # What the service reports when the job cannot be built: the submission fails.
            failure = FailureSpec(job=job.name, error=missing)
        timeline = plan_run(now, self.ctx.timings, RUN_STATES, bounded=job.is_batch, failure=failure)
        savepoint = job.latest_savepoint(now) if resume_savepoint else None
        self._run_seq += 1
        run = Run(
            seq=self._run_seq,
            started_at=now,
            timeline=timeline,
            error=failure.error if failure is not None else None,
            resume_savepoint=resume_savepoint,
            restored_from=savepoint.path if savepoint is not None else None,
        )
        job.runs.append(run)
        job.updated_at = now
        self.runs_by_name[job.name] += 1
        return run

    def stop(self, job: Job, trigger_savepoint: bool, now: float) -> None:
        """Stop the running job; a savepoint needs a running job, one still submitting is just cancelled."""
        timings = self.ctx.timings
        status = job.status(now)
        savepoint_seconds = (
            timings.savepoint_seconds if trigger_savepoint and status == "job_running" else None
        )
        job.runs[-1].stop(now, savepoint_seconds, timings.cancelling_seconds)
        if savepoint_seconds is not None:
            job.savepoints.append(
                Savepoint(
                    path=f"obs://flinkcloud-emulator/savepoints/{job.id}/{uuid.uuid4()}",
                    done_at=now + savepoint_seconds,
                )
            )
        job.updated_at = now
        self.stops_by_name[job.name] += 1

    def delete(self, job: Job) -> None:
        """Forget ``job`` whatever its status (an active run ends with it); its id is never minted again."""
        del self.jobs[job.id]
        self.deletes_by_name[job.name] += 1
