"""The foas models: projects, committed jobs and their instances, with the instance state machine.

A stream instance goes ``WAITING -> RUNNING`` and stays (``PAUSED`` and back on request); a batch
instance goes on to ``SUCCESS``; either may end ``FAILED`` (an injected failure) or ``TERMINATED``
(ModifyInstanceState). This is the flow of Alibaba's Java demo for the Blink OpenAPI
(``UNKNOWN -> WAITING -> RUNNING <-> PAUSED -> TERMINATED``) and the state enums of GetInstance
(https://api.aliyun.com/api/foas/2018-11-11/GetInstance). States are computed lazily from each
instance's timeline, so no background thread runs.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from airflow_provider_flinkcloud.emulator.alibaba.responses import invalid_state, not_found
from airflow_provider_flinkcloud.emulator.gateway import FailureQueue
from airflow_provider_flinkcloud.emulator.platform import (
    EmulatorContext,
    RunStates,
    Timeline,
    entered_at,
    plan_run,
    replan,
    state_at,
)

STREAM, BATCH = "FLINK_STREAM", "FLINK_BATCH"
ACTUAL_STATES = ("UNKNOWN", "WAITING", "RUNNING", "PAUSED", "TERMINATED", "SUCCESS", "FAILED")
ACTIVE_STATES = frozenset({"WAITING", "RUNNING", "PAUSED"})
TERMINAL_STATES = frozenset({"TERMINATED", "SUCCESS", "FAILED"})
RUN_STATES = RunStates(
    starting="WAITING", running="RUNNING", start_failed="FAILED", failed="FAILED", finished="SUCCESS"
)
# ListInstance: batch instances are archived two days after they end; a stream job keeps one live
# instance and the older ones are archived when it starts again.
BATCH_ARCHIVE_SECONDS = 2 * 24 * 3600

# The emulator's own project and jobs, committed and ready to start, so that DAGs can run against it at
# once; CreateJob and CommitJob add more.
DEFAULT_PROJECT = "flinkcloud_test"
SEEDED_JOBS: tuple[tuple[str, str, str], ...] = (
    ("orders-enrichment", STREAM, "SQL"),
    ("clickstream-sessionizer", STREAM, "DATASTREAM"),
    ("fraud-alerts", STREAM, "SQL"),
    ("daily-rollup", BATCH, "SQL"),
    ("daily-revenue-rollup", BATCH, "SQL"),
    ("backfill-sessions", BATCH, "DATASTREAM"),
)


@dataclass
class BlinkJob:
    job_id: str
    name: str
    project_name: str
    job_type: str
    api_type: str
    code: str
    properties: str
    description: str
    created_at: float
    modified_at: float
    committed: bool = True
    instance_ids: list[str] = field(default_factory=list)


@dataclass
class Project:
    name: str
    created_at: float
    jobs: dict[str, BlinkJob] = field(default_factory=dict)


@dataclass
class Instance:
    id: str
    project_name: str
    job_name: str
    job_type: str
    api_type: str
    code: str
    properties: str
    parameters: str | None
    started_at: float
    timeline: Timeline
    error: str | None
    engine_job_handler: str
    last_operated_at: float
    # (time, expected state) in time order, as for the actual state.
    expectations: Timeline = field(default_factory=list)
    superseded: bool = False
    # Whether the stop asked for a checkpoint (triggerCheckpoint); the emulator takes none, it records it.
    checkpoint_on_stop: bool = False

    def state(self, now: float) -> str:
        return state_at(self.timeline, now)

    def expect_state(self, now: float) -> str:
        expected = state_at(self.expectations, now)
        actual = self.state(now)
        # Once the instance has ended on its own, that is what was expected of it.
        return actual if actual in ("SUCCESS", "FAILED") else expected

    def entered_at(self, now: float) -> float:
        return entered_at(self.timeline, now)

    def ended_at(self, now: float) -> float | None:
        return self.entered_at(now) if self.state(now) in TERMINAL_STATES else None

    def visible_error(self, now: float) -> str | None:
        return self.error if self.state(now) == "FAILED" else None

    def archived(self, now: float) -> bool:
        ended = self.ended_at(now)
        if self.job_type == BATCH:
            return ended is not None and now - ended >= BATCH_ARCHIVE_SECONDS
        return self.superseded

    def change(self, now: float, expect: str, actual: str, after: float) -> None:
        """ModifyInstanceState: the expectation changes at once, the instance follows ``after`` s later."""
        self.expectations = replan(self.expectations, now, (now, expect))
        self.timeline = replan(self.timeline, now, (now + after, actual))
        self.last_operated_at = now


class BlinkState:
    """Every project, job, instance and pending failure, with the counters; emptied by a reset."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.projects: dict[str, Project] = {}
        self.instances: dict[str, Instance] = {}
        self.failures = FailureQueue()
        self.starts_by_name: Counter[str] = Counter()
        self.stops_by_name: Counter[str] = Counter()
        now = ctx.clock()
        self.add_project(DEFAULT_PROJECT, now)
        for name, job_type, api_type in SEEDED_JOBS:
            self.add_job(DEFAULT_PROJECT, name, job_type, api_type, f"-- {name}", "", now, committed=True)

    # -- lookups -----------------------------------------------------------------------------------

    def project(self, name: str) -> Project:
        project = self.projects.get(name)
        if project is None:
            raise not_found("Project", name)
        return project

    def job(self, project_name: str, job_name: str) -> BlinkJob:
        job = self.project(project_name).jobs.get(job_name)
        if job is None:
            raise not_found("Job", f"{job_name} in project {project_name}")
        return job

    def instance(self, job: BlinkJob, instance_id: str) -> Instance:
        now = self.ctx.clock()
        if instance_id == "-1":
            # The current instance of a stream job; the call fails for a job that is not running.
            current = self.live_instance(job, now) if job.job_type == STREAM else None
            if current is None:
                raise not_found("Instance", f"-1 (the job {job.name} has no running instance)")
            return current
        instance = self.instances.get(instance_id)
        if instance is None or instance.job_name != job.name or instance.project_name != job.project_name:
            raise not_found("Instance", f"{instance_id} of job {job.name}")
        return instance

    def live_instance(self, job: BlinkJob, now: float) -> Instance | None:
        for instance_id in reversed(job.instance_ids):
            instance = self.instances[instance_id]
            if instance.state(now) in ACTIVE_STATES:
                return instance
        return None

    # -- changes -----------------------------------------------------------------------------------

    def add_project(self, name: str, now: float) -> Project:
        project = self.projects.setdefault(name, Project(name, now))
        return project

    def add_job(
        self,
        project_name: str,
        name: str,
        job_type: str,
        api_type: str,
        code: str,
        properties: str,
        now: float,
        *,
        committed: bool = False,
        description: str = "",
    ) -> BlinkJob:
        project = self.project(project_name)
        if name in project.jobs:
            raise invalid_state(f"The job {name} already exists in project {project_name}.")
        job = BlinkJob(
            job_id=self.ctx.new_id(),
            name=name,
            project_name=project_name,
            job_type=job_type,
            api_type=api_type,
            code=code,
            properties=properties,
            description=description,
            created_at=now,
            modified_at=now,
            committed=committed,
        )
        project.jobs[name] = job
        return job

    def start(self, job: BlinkJob, parameters: str | None) -> Instance:
        """StartJob: a new instance of a committed job that has no live one."""
        now = self.ctx.clock()
        if not job.committed:
            raise invalid_state(
                f"The job {job.name} is not committed; commit (publish) it before starting it."
            )
        live = self.live_instance(job, now)
        if live is not None:
            # A job keeps one live instance (the Java demo starts only from UNKNOWN or TERMINATED).
            raise invalid_state(
                f"The job {job.name} already has instance {live.id} in state {live.state(now)}; "
                "stop it before starting the job again."
            )
        for instance_id in job.instance_ids:
            self.instances[instance_id].superseded = True
        failure = self.failures.take({job.name, f"{job.project_name}/{job.name}"})
        instance_id = self.ctx.new_id()
        instance = Instance(
            id=instance_id,
            project_name=job.project_name,
            job_name=job.name,
            job_type=job.job_type,
            api_type=job.api_type,
            code=job.code,
            properties=job.properties,
            parameters=parameters,
            started_at=now,
            timeline=plan_run(
                now, self.ctx.timings, RUN_STATES, bounded=job.job_type == BATCH, failure=failure
            ),
            error=failure.error if failure is not None else None,
            # ApplicationID | jobID on YARN, as GetInstance shows it.
            engine_job_handler=f"application_{int(now * 1000)}_{len(self.instances) + 1:04d}|{uuid.uuid4().hex}",  # noqa: E501
            last_operated_at=now,
            expectations=[(now, "SUCCESS" if job.job_type == BATCH else "RUNNING")],
        )
        self.instances[instance_id] = instance
        job.instance_ids.append(instance_id)
        self.starts_by_name[job.name] += 1
        return instance

    def modify(self, instance: Instance, expect: str, now: float, *, checkpoint: bool = False) -> None:
        """ModifyInstanceState to ``expect`` (RUNNING resumes, PAUSED pauses, TERMINATED stops)."""
        state = instance.state(now)
        after = self.ctx.timings.cancelling_seconds
        if expect == "TERMINATED":
            if state not in ACTIVE_STATES or instance.expect_state(now) == "TERMINATED":
                raise invalid_state(
                    f"The instance {instance.id} is {state}; only a live instance can be stopped."
                )
            instance.change(now, "TERMINATED", "TERMINATED", after)
            instance.checkpoint_on_stop = checkpoint
            self.stops_by_name[instance.job_name] += 1
        elif expect == "PAUSED":
            if state != "RUNNING" or instance.job_type != STREAM:
                raise invalid_state(
                    f"The instance {instance.id} is {state}; only a running stream instance pauses."
                )
            instance.change(now, "PAUSED", "PAUSED", after)
        elif expect == "RUNNING":
            if state != "PAUSED":
                raise invalid_state(f"The instance {instance.id} is {state}; only a paused instance resumes.")
            instance.change(now, "RUNNING", "RUNNING", after)
        else:
            raise invalid_state(
                f"expectState {expect} cannot be requested; use RUNNING, PAUSED or TERMINATED."
            )
