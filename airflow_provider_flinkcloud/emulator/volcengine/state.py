"""The Volcengine models: applications (jobs), their instances and savepoints, and their state machines.

Instance states follow GetApplicationInstance (https://www.volcengine.com/docs/6581/1359415); they are
computed lazily from a per-instance timeline, so no background thread runs.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

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
from airflow_provider_flinkcloud.emulator.volcengine.responses import (
    VolcengineError,
    app_not_found,
    invalid,
    invalid_state,
    missing_parameter,
)

INSTANCE_STATES = ("STARTING", "RUNNING", "FAILED", "CANCELLING", "SUCCEEDED", "STOPPED", "UNKNOWN")
ACTIVE_STATES = frozenset({"STARTING", "RUNNING"})
TERMINAL_STATES = frozenset({"FAILED", "SUCCEEDED", "STOPPED"})
RUN_STATES = RunStates(
    starting="STARTING", running="RUNNING", start_failed="FAILED", failed="FAILED", finished="SUCCEEDED"
)


@dataclass
class Savepoint:
    seq: int
    savepoint_id: str
    instance_id: str
    description: str
    created_at: float
    done_at: float
    user_id: str

    def status(self, now: float) -> str:
        return "SUCCESS" if now >= self.done_at else "IN_PROGRESS"


@dataclass
class App:
    id: str
    project_id: str
    unique_key: str | None
    spec: JSONObject
    created_at: float
    modified_at: float
    version: int = 1
    instance_ids: list[str] = field(default_factory=list)
    savepoints: list[Savepoint] = field(default_factory=list)

    def job_keys(self) -> set[str]:
        keys = {self.id, str(self.spec.get("JobName") or "")}
        if self.unique_key:
            keys.add(self.unique_key)
        return keys - {""}

    def done_savepoints(self, now: float) -> list[Savepoint]:
        return [savepoint for savepoint in self.savepoints if savepoint.status(now) == "SUCCESS"]

    def update_spec(self, spec: JSONObject, now: float) -> None:
        """An App sent along with a known job updates the stored definition (and its version)."""
        changes = {name: value for name, value in spec.items() if name != "UniqueKey"}
        merged = {**self.spec, **changes}
        if merged != self.spec:
            self.spec = merged
            self.version += 1
            self.modified_at = now


@dataclass
class Instance:
    id: str
    app_id: str
    seq: int
    application_id: str
    deployment_id: str
    jid: str
    rest_url: str
    spec: JSONObject
    version: int
    started_at: float
    # (time, state) in time order; the state at t is the last entry whose time is <= t.
    timeline: Timeline
    error: str | None
    # The restore strategy as requested, and the savepoint it resolved to (FROM_LATEST may find none).
    restore: JSONObject | None
    restored_from: str | None

    def state(self, now: float) -> str:
        return state_at(self.timeline, now)

    def entered_at(self, now: float) -> float:
        return entered_at(self.timeline, now)

    def ended_at(self, now: float) -> float | None:
        return self.entered_at(now) if self.state(now) in TERMINAL_STATES else None

    def cancel(self, now: float, cancelling_seconds: float) -> None:
        self.timeline = replan(self.timeline, now, (now, "CANCELLING"), (now + cancelling_seconds, "STOPPED"))

    def visible_error(self, now: float) -> str | None:
        return self.error if self.state(now) == "FAILED" else None


class VolcengineState:
    """Every app, instance and pending failure, with the start counters; emptied by a reset."""

    def __init__(self, ctx: EmulatorContext, name: str) -> None:
        self.ctx = ctx
        self.name = name
        self.apps: dict[str, App] = {}
        self.instances: dict[str, Instance] = {}
        self.failures = FailureQueue()
        self.starts_by_app: Counter[str] = Counter()
        self.starts_by_name: Counter[str] = Counter()
        self._instance_seq = 0
        self._savepoint_seq = 0

    # -- lookups -----------------------------------------------------------------------------------

    def app(self, app_id: Any) -> App:
        app = self.apps.get(str(app_id)) if app_id not in (None, "") else None
        if app is None:
            raise app_not_found()
        return app

    def app_by_unique_key(self, project_id: str, unique_key: str) -> App | None:
        for app in self.apps.values():
            if app.project_id == project_id and app.unique_key == unique_key:
                return app
        return None

    def instance(self, instance_id: Any) -> Instance:
        if instance_id in (None, ""):
            raise missing_parameter("InstanceId")
        instance = self.instances.get(str(instance_id))
        if instance is None:
            # Undocumented; the emulator answers an unknown instance with 404 ResourceNotFound.
            raise VolcengineError(404, "ResourceNotFound", f"The instance {instance_id} does not exist.")
        return instance

    def newest_instance(self, app: App) -> Instance | None:
        return self.instances[app.instance_ids[-1]] if app.instance_ids else None

    def app_state(self, app: App, now: float) -> str:
        newest = self.newest_instance(app)
        return "CREATED" if newest is None else newest.state(now)

    def instance_in(self, app: App, now: float, states: frozenset[str]) -> Instance | None:
        """The newest instance of ``app`` whose state is one of ``states``."""
        for instance_id in reversed(app.instance_ids):
            instance = self.instances[instance_id]
            if instance.state(now) in states:
                return instance
        return None

    def restore_source(
        self, app: App, kind: str, savepoint_id: Any, now: float, field_name: str
    ) -> str | None:
        """The savepoint a restart of ``kind`` restores from (FROM_LATEST may find none)."""
        if kind == "FROM_SAVEPOINT":
            if savepoint_id in (None, ""):
                raise invalid(field_name, "required when the restore type is FROM_SAVEPOINT")
            for savepoint in app.done_savepoints(now):
                if savepoint.savepoint_id == str(savepoint_id):
                    return savepoint.savepoint_id
            raise invalid(field_name, f"no successful savepoint {savepoint_id} exists for app {app.id}")
        if kind == "FROM_LATEST":
            done = app.done_savepoints(now)
            return done[-1].savepoint_id if done else None
        return None

    # -- changes -----------------------------------------------------------------------------------

    def create_app(self, spec: JSONObject, now: float) -> App:
        app = App(
            id=self.ctx.new_id(),
            project_id=spec.get("ProjectId", ""),
            unique_key=spec["UniqueKey"],
            spec=dict(spec),
            created_at=now,
            modified_at=now,
        )
        self.apps[app.id] = app
        return app

    def launch(
        self, app: App, base_url: str, restore: JSONObject | None, restored_from: str | None
    ) -> Instance:
        """Start a new instance of ``app``; it suffers the job's next injected failure, if any."""
        now = self.ctx.clock()
        failure = self.failures.take(app.job_keys())
        bounded = str(app.spec.get("JobType", "")).startswith("FLINK_BATCH_")
        self._instance_seq += 1
        instance_id = self.ctx.new_id()
        instance = Instance(
            id=instance_id,
            app_id=app.id,
            seq=self._instance_seq,
            application_id=f"s-{self.ctx.new_id()}",
            deployment_id=self.ctx.new_id(),
            jid=uuid.uuid4().hex,
            rest_url=f"{base_url}/_flink/{self.name}/{instance_id}",
            spec=json.loads(json.dumps(app.spec)),
            version=app.version,
            started_at=now,
            timeline=plan_run(now, self.ctx.timings, RUN_STATES, bounded=bounded, failure=failure),
            error=failure.error if failure is not None else None,
            restore=restore,
            restored_from=restored_from,
        )
        self.instances[instance_id] = instance
        app.instance_ids.append(instance_id)
        self.starts_by_app[app.id] += 1
        self.starts_by_name[str(app.spec.get("JobName", ""))] += 1
        return instance

    def cancel(self, instance: Instance, now: float) -> None:
        state = instance.state(now)
        if state not in ACTIVE_STATES:
            raise invalid_state(
                f"The instance {instance.id} is {state}; "
                "only a STARTING or RUNNING instance can be cancelled."
            )
        instance.cancel(now, self.ctx.timings.cancelling_seconds)

    def create_savepoint(self, app: App, description: str, now: float) -> Instance:
        """Snapshot the newest RUNNING instance of ``app``; it takes ``savepoint_seconds`` to finish."""
        running = self.instance_in(app, now, frozenset({"RUNNING"}))
        if running is None:
            raise invalid_state(
                f"The job {app.id} is {self.app_state(app, now)}; a savepoint needs a RUNNING instance."
            )
        self._savepoint_seq += 1
        app.savepoints.append(
            Savepoint(
                seq=self._savepoint_seq,
                savepoint_id=str(uuid.uuid4()),
                instance_id=running.id,
                description=description,
                created_at=now,
                done_at=now + self.ctx.timings.savepoint_seconds,
                user_id=str(app.spec.get("UserId", "")),
            )
        )
        return running
