"""What the emulated Dinky server holds: its version, the task catalogue, job instances, counters.

Tasks are made in Dinky's web UI, not through the OpenAPI, so the emulator starts with a catalogue
(``DEFAULT_TASKS``) that ``EmulatorControl.configure("dinky", tasks=[...])`` extends. A job instance's
status follows a timeline read lazily, the way Dinky's ``JobRefreshHandler`` refreshes the database
row from Flink *after* a call returns: a submit answers with the instance INITIALIZING, a cancel with
the instance still RUNNING.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flinkcloud.emulator.gateway import FailureQueue
from airflow_provider_flinkcloud.emulator.platform import (
    ControlError,
    EmulatorContext,
    JSONObject,
    RunStates,
    Timeline,
    entered_at,
    plan_run,
    replan,
    state_at,
)

DEFAULT_VERSION = "1.2.0"
SUPPORTED_VERSIONS = ("0.7.5", "1.0.3", "1.1.0", "1.2.0")
RUN_STATES = RunStates(
    starting="INITIALIZING", running="RUNNING", start_failed="FAILED", failed="FAILED", finished="FINISHED"
)
ACTIVE = frozenset(
    {
        "INITIALIZING",
        "CREATED",
        "RUNNING",
        "RESTARTING",
        "RECONCILING",
        "FAILING",
        "SUSPENDED",
        "RECONNECTING",
    }
)
DONE = frozenset({"FINISHED", "CANCELED", "FAILED", "UNKNOWN"})
JOB_MANAGER_ADDRESS = "127.0.0.1:8081"


@dataclass(frozen=True)
class Task:
    id: int
    name: str
    batch: bool = False
    statement: str = "INSERT INTO snk SELECT id FROM src"

    @classmethod
    def from_json(cls, payload: Any) -> Task:
        if not isinstance(payload, dict):
            raise ControlError("each task must be an object {id, name[, batch, statement]}")
        task_id, name = payload.get("id"), payload.get("name")
        if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id < 1:
            raise ControlError(f"task 'id' must be a positive integer, got {task_id!r}")
        if not isinstance(name, str) or not name:
            raise ControlError("task 'name' is required")
        batch = payload.get("batch", False)
        statement = payload.get("statement") or cls.statement
        if not isinstance(batch, bool) or not isinstance(statement, str):
            raise ControlError("task 'batch' is a boolean and 'statement' text")
        return cls(task_id, name, batch, statement)

    def as_dict(self) -> JSONObject:
        return {"id": self.id, "name": self.name, "batch": self.batch, "statement": self.statement}


DEFAULT_TASKS = (
    Task(1, "orders_enrichment", statement="INSERT INTO enriched SELECT * FROM orders"),
    Task(
        2, "daily_gmv", batch=True, statement="INSERT INTO gmv SELECT dt, SUM(amount) FROM orders GROUP BY dt"
    ),
    Task(3, "clickstream_sessions", statement="INSERT INTO sessions SELECT * FROM TABLE(SESSION(clicks))"),
    Task(4, "hourly_rollup", batch=True, statement="INSERT INTO rollup SELECT hour, COUNT(*) FROM events"),
)


@dataclass
class Instance:
    id: int
    task: Task
    jid: str
    history_id: int
    created: float
    timeline: Timeline
    error: str | None = None
    savepoint_path: str | None = None
    variables: dict[str, str] = field(default_factory=dict)

    def status(self, now: float) -> str:
        return state_at(self.timeline, now)

    def finished_at(self, now: float) -> float | None:
        return entered_at(self.timeline, now) if self.status(now) in DONE else None


class DinkyState:
    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        self.version = DEFAULT_VERSION
        self.tasks: dict[int, Task] = {task.id: task for task in DEFAULT_TASKS}
        # Task id -> the cause its next submit fails with (the SQL or the cluster), as code 5.
        self.submit_errors: dict[int, str] = {}
        self.token_timeout_seconds = 36000.0
        self.instances: dict[int, Instance] = {}
        # dinky_task.job_instance_id: what submitTask stored last; cancel and savepoint act on it.
        self.current_instance: dict[int, int] = {}
        self.failures = FailureQueue()
        self.submits_by_name: Counter[str] = Counter()
        self.cancels_by_name: Counter[str] = Counter()
        self.savepoints_by_name: Counter[str] = Counter()
        self.restarts_by_name: Counter[str] = Counter()
        self.logins_by_name: Counter[str] = Counter()
        # OpenAPI calls by who Dinky ran them as: a token's user, or "anonymous" (run as admin).
        self.openapi_callers: Counter[str] = Counter()
        self._next_instance = 0
        self._next_history = 0

    @property
    def legacy(self) -> bool:
        return self.version.startswith("0.")

    def configure(self, payload: dict[str, Any]) -> JSONObject:
        unknown = sorted(set(payload) - {"version", "tasks", "submit_errors", "token_timeout_seconds"})
        if unknown:
            raise ControlError(
                f"unknown Dinky setting(s) {unknown}; known: version, tasks, submit_errors, "
                "token_timeout_seconds"
            )
        if "version" in payload:
            version = payload["version"]
            if version not in SUPPORTED_VERSIONS:
                raise ControlError(f"'version' must be one of {list(SUPPORTED_VERSIONS)}, got {version!r}")
            self.version = version
        for task in payload.get("tasks") or ():
            parsed = Task.from_json(task)
            self.tasks[parsed.id] = parsed
        for key, error in (payload.get("submit_errors") or {}).items():
            task = self.task_named(str(key))
            if task is None or not isinstance(error, str) or not error:
                raise ControlError(f"submit_errors: {key!r} must name a task (id or name) and give a cause")
            self.submit_errors[task.id] = error
        if "token_timeout_seconds" in payload:
            timeout = payload["token_timeout_seconds"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                raise ControlError(f"'token_timeout_seconds' must be a positive number, got {timeout!r}")
            self.token_timeout_seconds = float(timeout)
        return self.settings()

    def settings(self) -> JSONObject:
        return {
            "version": self.version,
            "tasks": [task.as_dict() for task in self.tasks.values()],
            "submit_errors": {str(k): v for k, v in self.submit_errors.items()},
            "token_timeout_seconds": self.token_timeout_seconds,
        }

    def task_named(self, key: str) -> Task | None:
        return next((t for t in self.tasks.values() if key in (str(t.id), t.name)), None)

    # -- actions -----------------------------------------------------------------------------------

    def submit(self, task: Task, savepoint_path: str | None, variables: dict[str, str]) -> Instance:
        now = self.ctx.clock()
        self._next_instance += 1
        self._next_history += 1
        failure = self.failures.take([str(task.id), task.name])
        timeline = plan_run(now, self.ctx.timings, RUN_STATES, bounded=task.batch, failure=failure)
        instance = Instance(
            id=self._next_instance,
            task=task,
            jid=secrets.token_hex(16),
            history_id=self._next_history,
            created=now,
            timeline=timeline,
            error=failure.error if failure is not None else None,
            savepoint_path=savepoint_path,
            variables=dict(variables),
        )
        self.instances[instance.id] = instance
        self.current_instance[task.id] = instance.id
        self.submits_by_name[task.name] += 1
        return instance

    def newest_instance(self, task: Task) -> Instance | None:
        ids = [i.id for i in self.instances.values() if i.task.id == task.id]
        return self.instances[max(ids)] if ids else None

    def stop(self, instance: Instance, final: str, *, savepoint_first: bool = False) -> None:
        """Stop an active instance: CANCELLING at once, ``final`` once Flink has acted.

        Dinky force-refreshes the instance before a cancel answers (and a savepoint answers once it is
        taken), so the reply already finds it CANCELLING; the end comes later, with a refresh.
        """
        now = self.ctx.clock()
        if instance.status(now) not in ACTIVE:
            return
        timings = self.ctx.timings
        took = timings.savepoint_seconds if savepoint_first else 0.0
        instance.timeline = replan(
            instance.timeline, now, (now, "CANCELLING"), (now + took + timings.cancelling_seconds, final)
        )

    def take_savepoint(self, instance: Instance) -> str:
        path = f"file:///flink/savepoints/savepoint-{instance.jid[:6]}-{secrets.token_hex(6)}"
        self.savepoints_by_name[instance.task.name] += 1
        return path

    def counters(self) -> JSONObject:
        return {
            "submits_by_name": dict(self.submits_by_name),
            "cancels_by_name": dict(self.cancels_by_name),
            "savepoints_by_name": dict(self.savepoints_by_name),
            "restarts_by_name": dict(self.restarts_by_name),
            "logins_by_name": dict(self.logins_by_name),
            "openapi_callers": dict(self.openapi_callers),
        }
