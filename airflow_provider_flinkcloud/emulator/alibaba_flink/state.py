"""Deployments, their jobs and savepoints, and the job state machine of ververica 2022-07-18.

``currentJobStatus`` goes STARTING -> RUNNING -> (CANCELLING -> CANCELLED) | FAILED | FINISHED (BATCH)
(GetJob, https://help.aliyun.com/document_detail/453528.html). States are read lazily from a per-job
timeline, so no background thread runs. A deployment runs at most one job at a time: a start while a
job is STARTING, RUNNING or CANCELLING is refused, as the console refuses it (V8 leaves the API's
answer open; the emulator's is a ``StateConflict``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flinkcloud.emulator.alibaba_flink.responses import conflict, invalid, not_found
from airflow_provider_flinkcloud.emulator.gateway import FailureQueue
from airflow_provider_flinkcloud.emulator.platform import (
    EmulatorContext,
    JSONObject,
    RunStates,
    Timeline,
    entered_at,
    plan_run,
    replan,
    state_at,
)

RUN_STATES = RunStates(
    starting="STARTING", running="RUNNING", start_failed="FAILED", failed="FAILED", finished="FINISHED"
)
ACTIVE = frozenset({"STARTING", "RUNNING"})
BUSY = ACTIVE | {"CANCELLING"}
TERMINAL = frozenset({"CANCELLED", "FAILED", "FINISHED"})


@dataclass
class Deployment:
    deployment_id: str
    namespace: str
    workspace: str
    spec: JSONObject
    created_at: int
    modified_at: int
    job_ids: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    def render(self, state: AlibabaFlinkState) -> JSONObject:
        now = state.ctx.clock()
        summary = Counter(state.jobs[j].status(now).lower() for j in self.job_ids)
        return {
            **self.spec,
            "deploymentId": self.deployment_id,
            "namespace": self.namespace,
            "workspace": self.workspace,
            "createdAt": str(self.created_at),
            "modifiedAt": str(self.modified_at),
            "creator": "flinkcloud-emulator",
            "jobSummary": {
                name: summary.get(name, 0)
                for name in ("starting", "running", "cancelling", "cancelled", "finished", "failed")
            },
        }


@dataclass
class Savepoint:
    savepoint_id: str
    deployment_id: str
    job_id: str
    namespace: str
    origin: str
    created_at: float
    done_at: float
    drained: bool = False

    def render(self, now: float) -> JSONObject:
        return {
            "savepointId": self.savepoint_id,
            "deploymentId": self.deployment_id,
            "jobId": self.job_id,
            "namespace": self.namespace,
            "savepointOrigin": self.origin,
            "nativeFormat": False,
            "stopWithDrainEnabled": self.drained,
            "savepointLocation": f"oss://flinkcloud-emulator/savepoints/{self.savepoint_id}",
            "status": {"state": "COMPLETED" if now >= self.done_at else "STARTED"},
            "createdAt": int(self.created_at),
            "modifiedAt": int(max(self.created_at, min(now, self.done_at))),
        }


@dataclass
class Job:
    job_id: str
    deployment: Deployment
    spec: JSONObject
    restore: JSONObject
    started_at: float
    timeline: Timeline
    error: str | None

    def status(self, now: float) -> str:
        return state_at(self.timeline, now)

    def render(self, now: float) -> JSONObject:
        status = self.status(now)
        body: JSONObject = {
            "jobId": self.job_id,
            "deploymentId": self.deployment.deployment_id,
            "deploymentName": self.deployment.name,
            "namespace": self.deployment.namespace,
            "workspace": self.deployment.workspace,
            "executionMode": self.spec.get("executionMode"),
            "engineVersion": self.spec.get("engineVersion"),
            "artifact": self.spec.get("artifact"),
            "flinkConf": self.spec.get("flinkConf") or {},
            "restoreStrategy": self.restore,
            "localVariables": self.spec.get("localVariables") or [],
            "startTime": int(self.started_at),
            "status": {"currentJobStatus": status},
        }
        if status == "RUNNING":
            body["status"]["running"] = {"observedFlinkJobStatus": "RUNNING", "observedFlinkJobRestarts": 0}
        if status == "FAILED":
            body["status"]["failure"] = {
                "message": self.error or "",
                "reason": "JobFailed",
                "failedAt": int(entered_at(self.timeline, now)),
            }
        if status in TERMINAL:
            body["endTime"] = int(entered_at(self.timeline, now))
        return body


class AlibabaFlinkState:
    """Everything in the emulated workspace, with the counters; emptied by a reset."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.deployments: dict[str, Deployment] = {}
        self.jobs: dict[str, Job] = {}
        self.savepoints: dict[str, Savepoint] = {}
        self.failures = FailureQueue()
        self.creates_by_name: Counter[str] = Counter()
        self.updates_by_name: Counter[str] = Counter()
        self.deletes_by_name: Counter[str] = Counter()
        self.starts_by_name: Counter[str] = Counter()
        self.stops_by_name: Counter[str] = Counter()

    def deployment(self, namespace: str, deployment_id: Any) -> Deployment:
        found = self.deployments.get(str(deployment_id))
        if found is None or found.namespace != namespace:
            raise not_found("Deployment", str(deployment_id))
        return found

    def job(self, namespace: str, job_id: Any) -> Job:
        found = self.jobs.get(str(job_id))
        if found is None or found.deployment.namespace != namespace:
            raise not_found("Job", str(job_id))
        return found

    def savepoint(self, namespace: str, savepoint_id: Any) -> Savepoint:
        found = self.savepoints.get(str(savepoint_id))
        if found is None or found.namespace != namespace:
            raise not_found("Savepoint", str(savepoint_id))
        return found

    def create(self, namespace: str, workspace: str, spec: JSONObject) -> Deployment:
        # Names are not unique: the API documents no such rule, so two creates make two deployments.
        now = int(self.ctx.clock())
        deployment = Deployment(str(uuid.uuid4()), namespace, workspace, spec, now, now)
        self.deployments[deployment.deployment_id] = deployment
        self.creates_by_name[deployment.name] += 1
        return deployment

    def update(self, deployment: Deployment, spec: JSONObject) -> None:
        for fixed in ("executionMode",):
            if spec.get(fixed) != deployment.spec.get(fixed):
                raise invalid(fixed, "cannot be changed by UpdateDeployment")
        deployment.spec = spec
        deployment.modified_at = int(self.ctx.clock())
        self.updates_by_name[deployment.name] += 1

    def delete(self, deployment: Deployment) -> None:
        now = self.ctx.clock()
        if any(self.jobs[j].status(now) in BUSY for j in deployment.job_ids):
            raise conflict(f"Deployment {deployment.deployment_id} has an active job; stop it first.")
        del self.deployments[deployment.deployment_id]
        self.deletes_by_name[deployment.name] += 1

    def start(self, deployment: Deployment, restore: JSONObject) -> Job:
        now = self.ctx.clock()
        for job_id in deployment.job_ids:
            status = self.jobs[job_id].status(now)
            if status in BUSY:
                raise conflict(f"Deployment {deployment.name} already has job {job_id} in status {status}.")
        kind = restore.get("kind", "NONE")
        if kind == "FROM_SAVEPOINT":
            savepoint = self.savepoints.get(str(restore.get("savepointId")))
            if savepoint is None or savepoint.deployment_id != deployment.deployment_id:
                raise invalid(
                    "restoreStrategy.savepointId",
                    f"no savepoint {restore.get('savepointId')} of this deployment",
                )
            if savepoint.done_at > now:
                raise conflict(f"Savepoint {savepoint.savepoint_id} is not COMPLETED yet.")
        failure = self.failures.take({deployment.name, deployment.deployment_id})
        bounded = deployment.spec.get("executionMode") == "BATCH"
        job = Job(
            job_id=str(uuid.uuid4()),
            deployment=deployment,
            spec=dict(deployment.spec),
            restore=restore,
            started_at=now,
            timeline=plan_run(now, self.ctx.timings, RUN_STATES, bounded=bounded, failure=failure),
            error=failure.error if failure is not None else None,
        )
        self.jobs[job.job_id] = job
        deployment.job_ids.append(job.job_id)
        self.starts_by_name[deployment.name] += 1
        return job

    def stop(self, job: Job, strategy: str) -> None:
        now = self.ctx.clock()
        status = job.status(now)
        if status not in ACTIVE:
            raise conflict(f"Job {job.job_id} is {status}; only a STARTING or RUNNING job can be stopped.")
        done = now + self.ctx.timings.cancelling_seconds
        if strategy != "NONE":
            if status != "RUNNING":
                raise conflict(f"Job {job.job_id} is {status}; a savepoint needs a RUNNING job.")
            savepoint_done = now + self.ctx.timings.savepoint_seconds
            # Both stops take a savepoint (origin STOP_WITH_SAVEPOINT); a drain also flags it.
            savepoint = self._add_savepoint(job, "STOP_WITH_SAVEPOINT", now, savepoint_done)
            savepoint.drained = strategy == "STOP_WITH_DRAIN"
            done = max(done, savepoint_done)
        job.timeline = replan(job.timeline, now, (now, "CANCELLING"), (done, "CANCELLED"))
        self.stops_by_name[job.deployment.name] += 1

    def create_savepoint(self, deployment: Deployment) -> Savepoint:
        now = self.ctx.clock()
        running = [self.jobs[j] for j in deployment.job_ids if self.jobs[j].status(now) == "RUNNING"]
        if not running:
            raise conflict(f"Deployment {deployment.name} has no RUNNING job to take a savepoint of.")
        return self._add_savepoint(running[-1], "USER_REQUEST", now, now + self.ctx.timings.savepoint_seconds)

    def _add_savepoint(self, job: Job, origin: str, now: float, done_at: float) -> Savepoint:
        savepoint = Savepoint(
            savepoint_id=str(uuid.uuid4()),
            deployment_id=job.deployment.deployment_id,
            job_id=job.job_id,
            namespace=job.deployment.namespace,
            origin=origin,
            created_at=now,
            done_at=done_at,
        )
        self.savepoints[savepoint.savepoint_id] = savepoint
        return savepoint

    def snapshot(self) -> JSONObject:
        now = self.ctx.clock()
        return {
            "deployments": [d.render(self) for d in self.deployments.values()],
            "jobs": [job.render(now) for job in self.jobs.values()],
            "savepoints": [s.render(now) for s in self.savepoints.values()],
            "pending_failures": self.failures.as_list(),
        }
