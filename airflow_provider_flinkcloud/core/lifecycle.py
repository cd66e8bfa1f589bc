"""The job lifecycle, written once for every platform.

A platform supplies a :class:`JobAdapter` (validate, find the active job, start, status, stop,
console URL, remote error text). The operator and sensor bases here do the rest: reattach or
restart, persist ids the moment they exist, wait synchronously or defer, log each state change,
cancel on kill, and turn a failed job into a failed task carrying the platform's error text.

One task may drive several jobs at once (Huawei DLI runs and stops jobs in batches): the
lifecycle always works on a list of jobs, and a single-job operator is the list of one.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NoReturn, TypeVar

from airflow_provider_flinkcloud.core.compat import (
    AirflowFailException,
    BaseOperator,
    BaseSensorOperator,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_flinkcloud.core.errors import (
    FlinkCloudApiError,
    JobFailedError,
    JobSpecError,
    JobTimeoutError,
    ThrottledError,
    TransientError,
)
from airflow_provider_flinkcloud.core.states import (
    ACTIVE_STATES,
    JobState,
    parse_target_states,
)
from airflow_provider_flinkcloud.core.transport import ApiCall

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.compat import Context
    from airflow_provider_flinkcloud.core.hook import FlinkCloudHook
    from airflow_provider_flinkcloud.core.links import FlinkConsoleLink
    from airflow_provider_flinkcloud.core.trigger import FlinkJobTrigger

log = logging.getLogger(__name__)

SpecT = TypeVar("SpecT")
JobRef = dict[str, str]
Savepoint = dict[str, str]

WAIT_FOR_CHOICES = ("RUNNING", "SUCCESS")
IF_RUNNING_CHOICES = ("reattach", "fail", "restart")
JOB_XCOM_KEY = "flinkcloud_job"


@dataclass(frozen=True)
class JobStatus:
    """One observation of a remote job; ``ref`` holds the platform's ids."""

    platform: str
    ref: JobRef
    state: JobState
    native_state: str
    console_url: str | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def result(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            **self.ref,
            "state": self.state.value,
            "native_state": self.native_state,
            "console_url": self.console_url,
        }

    def to_event(self) -> dict[str, Any]:
        return {**self.result(), "ref": dict(self.ref), "error": self.error, "details": dict(self.details)}

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> JobStatus:
        return cls(
            platform=data["platform"],
            ref=dict(data["ref"]),
            state=JobState(data["state"]),
            native_state=data["native_state"],
            console_url=data.get("console_url"),
            error=data.get("error"),
            details=dict(data.get("details") or {}),
        )


class Verdict(str, Enum):
    REACHED = "reached"
    FAILED = "failed"
    WAITING = "waiting"


def judge(status: JobStatus, targets: Iterable[JobState]) -> Verdict:
    if status.state in targets:
        return Verdict.REACHED
    if status.state.is_terminal:
        return Verdict.FAILED
    return Verdict.WAITING


def targets_for(wait_for: str | None) -> frozenset[JobState]:
    # A job that already finished successfully has passed through RUNNING.
    if wait_for == "RUNNING":
        return frozenset({JobState.RUNNING, JobState.SUCCESS})
    return frozenset({JobState.SUCCESS})


def describe_targets(targets: Iterable[JobState]) -> str:
    return "/".join(sorted(s.value for s in targets))


def job_key(ref: JobRef) -> str:
    """A stable name for one job, to remember per job what was last logged."""
    return json.dumps(ref, sort_keys=True)


class JobAdapter(ABC, Generic[SpecT]):
    """What a platform supplies to the lifecycle. Calls go through the bound hook.

    A validated spec names one or more *units*, each one remote job (``units``); the lifecycle finds,
    starts and watches each unit. Most platforms run one job per spec and keep the defaults.
    """

    platform: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, hook: FlinkCloudHook[Any]) -> None:
        self.hook = hook

    @abstractmethod
    def validate_spec(self, spec: Any) -> SpecT:
        """Return the typed spec or raise :class:`JobSpecError` naming the field and the rule."""

    @abstractmethod
    def default_wait_for(self, spec: SpecT) -> str:
        """RUNNING or SUCCESS, by the job type where the platform says it."""

    def units(self, spec: SpecT) -> list[Any]:
        """The jobs this spec runs, each passed to ``find_active`` and ``start``."""
        return [spec]

    @abstractmethod
    def find_active(self, unit: Any) -> JobRef | None:
        """The ids of an active (pending or running) run of this job, if any."""

    @abstractmethod
    def start(self, unit: Any, *, restore_from: Savepoint | None = None) -> JobRef:
        """Start the job once. Never retried blindly: the lifecycle checks ``find_active`` first."""

    def start_many(self, units: Sequence[Any], restore_from: Sequence[Savepoint | None]) -> list[JobRef]:
        """Start several jobs; a platform with a batch call makes it one request."""
        return [self.start(u, restore_from=r) for u, r in zip(units, restore_from, strict=True)]

    @abstractmethod
    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        """One read-only call returning the normalised status (used by the worker and the trigger)."""

    @abstractmethod
    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        """One call asking the platform to stop the job, without a savepoint."""

    def is_active(self, status: JobStatus) -> bool:
        """Whether the job is running or about to, so that there is something to reattach to or stop."""
        return status.state in ACTIVE_STATES

    def is_stopped(self, status: JobStatus) -> bool:
        """Whether a job that was asked to stop has stopped."""
        return status.state.is_terminal

    def stop_error(self, status: JobStatus) -> str | None:
        """The platform's text when it reports that stopping the job failed."""
        return None

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        """Ask the platform to stop the job; with ``savepoint`` take one first where the platform can."""
        self.hook.call(self.cancel_call(ref))
        return None

    def stop_many(self, refs: Sequence[JobRef], *, savepoint: bool) -> list[Savepoint | None]:
        """Stop several jobs; a platform with a batch call makes it one request."""
        return [self.stop(ref, savepoint=savepoint) for ref in refs]

    def failure_text(self, status: JobStatus) -> str:
        """The platform's own error text for a failed job."""
        return status.error or f"the platform gave no error text (native state {status.native_state})"

    @abstractmethod
    def describe(self, ref: JobRef) -> str:
        """Human name of the job run, e.g. ``Volcengine Flink instance 123 of application 456``."""

    @abstractmethod
    def link_params(self, ref: JobRef) -> dict[str, str]:
        """Parameters the console link needs (stored in XCom, formatted on display)."""

    def link_params_many(self, refs: Sequence[JobRef]) -> dict[str, str]:
        """Console-link parameters for a task that drives several jobs."""
        return self.link_params(refs[0])


def log_state_change(logger: Any, adapter_label: str, status: JobStatus, last: str | None) -> str:
    key = f"{status.state.value}/{status.native_state}"
    if key != last:
        logger.info(
            "%s is %s (native state %s); console: %s",
            adapter_label,
            status.state.value,
            status.native_state,
            status.console_url or "n/a",
        )
    return key


def failure_message(adapter: JobAdapter[Any], status: JobStatus) -> str:
    return (
        f"{adapter.describe(status.ref)} ended {status.state.value} (native state {status.native_state}): "
        f"{adapter.failure_text(status)}" + (f"; console: {status.console_url}" if status.console_url else "")
    )


def failures_message(adapter: JobAdapter[Any], failed: Sequence[JobStatus], total: int) -> str:
    if total == 1:
        return failure_message(adapter, failed[0])
    return f"{len(failed)} of {total} jobs failed: " + " | ".join(failure_message(adapter, s) for s in failed)


def timeout_message(adapter: JobAdapter[Any], waiting: Sequence[JobStatus], awaited: str, hint: str) -> str:
    return "; ".join(
        f"{adapter.describe(s.ref)} did not reach {awaited} before the timeout; it is {s.state.value} "
        f"and was left as it is{hint}"
        for s in waiting
    )


def _as_seconds(value: float | timedelta | None, name: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise ValueError(f"{name}: must be positive, got {value!r}")
    return seconds


class FlinkJobWatchError(JobFailedError):
    """Raised when the trigger could not watch the job (persistent API errors)."""


class _WatchMixin:
    """Waiting on jobs: shared by the start operators, the stop operators and the sensors."""

    hook_class: ClassVar[type[FlinkCloudHook[Any]]]
    trigger_class: ClassVar[type[FlinkJobTrigger]]
    console_link_class: ClassVar[type[FlinkConsoleLink]]
    # Whether the task drives a list of jobs; its result is then {"platform", "jobs": [...]}.
    multi_job: ClassVar[bool] = False
    timeout_hint: ClassVar[str] = ""
    conn_id: str
    poll_interval: float
    log: Any

    @cached_property
    def hook(self) -> FlinkCloudHook[Any]:
        return self.hook_class(conn_id=self.conn_id)

    @cached_property
    def adapter(self) -> JobAdapter[Any]:
        return self.hook.adapter()

    @cached_property
    def _logged_states(self) -> dict[str, str]:
        return {}

    def poll_status(self, ref: JobRef) -> JobStatus:
        status = self.hook.call(self.adapter.status_call(ref))
        key = job_key(ref)
        self._logged_states[key] = log_state_change(
            self.log, self.adapter.describe(ref), status, self._logged_states.get(key)
        )
        return status

    def build_result(self, results: Sequence[dict[str, Any]]) -> dict[str, Any]:
        if self.multi_job:
            return {"platform": self.adapter.platform, "jobs": list(results)}
        return results[0]

    def raise_failed(self, statuses: Sequence[JobStatus], failed: Sequence[JobStatus]) -> NoReturn:
        raise JobFailedError(
            failures_message(self.adapter, failed, len(statuses)),
            result=self.build_result([s.result() for s in statuses]),
        )

    def stopped_verdict(self, status: JobStatus) -> Verdict:
        text = self.adapter.stop_error(status)
        if text is not None:
            raise JobFailedError(
                f"stopping {self.adapter.describe(status.ref)} failed (native state {status.native_state}): "
                f"{text}",
                result=status.result(),
            )
        return Verdict.REACHED if self.adapter.is_stopped(status) else Verdict.WAITING

    def wait_sync(
        self,
        refs: Sequence[JobRef],
        verdict_of: Callable[[JobStatus], Verdict],
        deadline: float | None,
        awaited: str,
        observed: Sequence[JobStatus] = (),
    ) -> list[JobStatus]:
        """Poll every job until each has settled (reached or failed); fail naming every failed job.

        ``observed``: statuses of ``refs`` just read, so the first round is not polled again.
        """
        latest = (
            dict(enumerate(observed)) if observed else {i: self.poll_status(r) for i, r in enumerate(refs)}
        )
        while True:
            waiting = [i for i in range(len(refs)) if verdict_of(latest[i]) is Verdict.WAITING]
            statuses = [latest[i] for i in range(len(refs))]
            if not waiting:
                failed = [s for s in statuses if verdict_of(s) is Verdict.FAILED]
                if failed:
                    self.raise_failed(statuses, failed)
                return statuses
            if deadline is not None and time.time() >= deadline:
                raise JobTimeoutError(
                    timeout_message(self.adapter, [latest[i] for i in waiting], awaited, self.timeout_hint)
                )
            pause = self.poll_interval
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.time()))
            time.sleep(pause)
            for i in waiting:
                latest[i] = self.poll_status(refs[i])

    def persist(self, context: Context, refs: Sequence[JobRef]) -> None:
        """Store the ids and the console-link parameters the moment the jobs exist."""
        platform = self.adapter.platform
        ids = (
            {"platform": platform, "jobs": list(refs)}
            if self.multi_job
            else {"platform": platform, **refs[0]}
        )
        context["ti"].xcom_push(key=JOB_XCOM_KEY, value=ids)
        params = self.adapter.link_params(refs[0]) if len(refs) == 1 else self.adapter.link_params_many(refs)
        self.console_link_class.persist(context, params)

    def finish_from_event(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        if "jobs" not in event:
            raise FlinkJobWatchError(str(event.get("message") or event))
        statuses = [JobStatus.from_event(job) for job in event["jobs"]]
        logged = event.get("last_logged") or {}
        for status in statuses:
            key = job_key(status.ref)
            self._logged_states[key] = log_state_change(
                self.log, self.adapter.describe(status.ref), status, logged.get(key)
            )
        kind = event.get("status")
        if kind == "reached":
            return self.build_result([s.result() for s in statuses])
        if kind == "failed":
            self.raise_failed(statuses, [statuses[i] for i in event["failed"]])
        if kind == "timeout":
            waiting = [statuses[i] for i in event["waiting"]]
            raise JobTimeoutError(timeout_message(self.adapter, waiting, event["awaited"], self.timeout_hint))
        described = ", ".join(self.adapter.describe(s.ref) for s in statuses)
        raise FlinkJobWatchError(f"watching {described} failed: {event.get('message')}")

    def make_trigger(
        self,
        refs: Sequence[JobRef],
        targets: frozenset[JobState],
        deadline: float | None,
        cancel_on_kill: bool,
    ) -> FlinkJobTrigger:
        return self.trigger_class(
            conn_id=self.conn_id,
            refs=list(refs),
            target_states=sorted(s.value for s in targets),
            poll_interval=self.poll_interval,
            deadline=deadline,
            cancel_on_kill=cancel_on_kill,
            last_logged=dict(self._logged_states),
        )


def trigger_timeout(deadline: float | None) -> timedelta | None:
    # Airflow's own trigger timeout is only a safety net: the trigger reports the deadline itself.
    if deadline is None:
        return None
    return timedelta(seconds=max(0.0, deadline - time.time()) + 60)


class FlinkJobStartOperator(_WatchMixin, BaseOperator, Generic[SpecT]):
    """Start (or reattach to) jobs and wait for them per ``wait_for``. Subclassed once per platform."""

    template_fields: tuple[str, ...] = ("conn_id",)
    ui_color = "#e6f1f2"
    timeout_hint = " (a retry reattaches to it)"

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        wait_for: str | None = "default",
        deferrable: bool | None = None,
        poll_interval: float = 30.0,
        timeout: float | timedelta | None = None,
        cancel_on_kill: bool = True,
        if_running: str = "reattach",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.hook_class.default_conn_name
        if wait_for is not None and wait_for != "default":
            wait_for = str(wait_for).upper()
            if wait_for not in WAIT_FOR_CHOICES:
                raise ValueError(f"wait_for: must be 'RUNNING', 'SUCCESS' or None, got {wait_for!r}")
        self.wait_for = wait_for
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = _as_seconds(poll_interval, "poll_interval") or 30.0
        self.timeout = _as_seconds(timeout, "timeout")
        self.cancel_on_kill = cancel_on_kill
        if if_running not in IF_RUNNING_CHOICES:
            raise ValueError(
                f"if_running: must be one of {', '.join(IF_RUNNING_CHOICES)}, got {if_running!r}"
            )
        self.if_running = if_running
        self._job_refs: list[JobRef] = []

    @abstractmethod
    def job_spec(self) -> Any:
        """The raw spec the user gave (after templating); the adapter validates it."""

    def validated_spec(self) -> SpecT:
        try:
            return self.adapter.validate_spec(self.job_spec())
        except JobSpecError as exc:
            # A bad spec cannot get better by retrying.
            raise AirflowFailException(f"{self.task_id}: {exc}") from exc

    def execute(self, context: Context) -> dict[str, Any]:
        spec = self.validated_spec()
        wait_for = self.adapter.default_wait_for(spec) if self.wait_for == "default" else self.wait_for
        deadline = time.time() + self.timeout if self.timeout else None
        refs = self.start_or_reattach(context, spec)
        return self.watch(refs, wait_for, deadline)

    def watch(self, refs: Sequence[JobRef], wait_for: str | None, deadline: float | None) -> dict[str, Any]:
        targets = targets_for(wait_for)
        statuses = [self.poll_status(ref) for ref in refs]
        verdicts = [judge(status, targets) for status in statuses]
        if wait_for is None or Verdict.WAITING not in verdicts:
            failed = [s for s, v in zip(statuses, verdicts, strict=True) if v is Verdict.FAILED]
            if failed:
                self.raise_failed(statuses, failed)
            return self.build_result([s.result() for s in statuses])
        if self.deferrable:
            self.defer(
                trigger=self.make_trigger(refs, targets, deadline, self.cancel_on_kill),
                method_name="execute_complete",
                timeout=trigger_timeout(deadline),
            )
        final = self.wait_sync(
            refs, lambda s: judge(s, targets), deadline, describe_targets(targets), observed=statuses
        )
        return self.build_result([s.result() for s in final])

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        self._job_refs = [dict(job["ref"]) for job in event.get("jobs", [])]
        return self.finish_from_event(context, event)

    def start_or_reattach(self, context: Context, spec: SpecT) -> list[JobRef]:
        adapter = self.adapter
        units = adapter.units(spec)
        refs: dict[int, JobRef] = {}
        for i, unit in enumerate(units):
            active = adapter.find_active(unit)
            if active is not None:
                refs[i] = active
        to_start: dict[int, Savepoint | None] = {i: None for i in range(len(units)) if i not in refs}
        if refs:
            running = [refs[i] for i in sorted(refs)]
            described = ", ".join(adapter.describe(ref) for ref in running)
            verb = "is" if len(running) == 1 else "are"
            if self.if_running == "reattach":
                self.log.info("%s %s already running: reattaching, nothing started", described, verb)
            elif self.if_running == "fail":
                self.persist(context, running)
                raise AirflowFailException(f"{described} {verb} already running and if_running='fail'")
            else:
                savepoints = self.stop_for_restart(running)
                to_start.update(dict(zip(sorted(refs), savepoints, strict=True)))
        if to_start:
            order = sorted(to_start)
            started = self.start_checked([units[i] for i in order], [to_start[i] for i in order])
            refs.update(zip(order, started, strict=True))
        self._job_refs = [refs[i] for i in range(len(units))]
        self.persist(context, self._job_refs)
        return self._job_refs

    def start_checked(self, units: Sequence[Any], restores: Sequence[Savepoint | None]) -> list[JobRef]:
        """Start once; after an ambiguous failure, look before starting again."""
        retry = self.hook.retry_policy
        adapter = self.adapter
        refs: dict[int, JobRef] = {}
        pending = list(range(len(units)))
        attempt = 0
        while True:
            attempt += 1
            try:
                started = adapter.start_many([units[i] for i in pending], [restores[i] for i in pending])
            except (TransientError, ThrottledError) as exc:
                if not isinstance(exc, ThrottledError):
                    for i in list(pending):
                        found = adapter.find_active(units[i])
                        if found is not None:
                            self.log.warning(
                                "The start request failed (%s) but took effect: %s",
                                exc,
                                adapter.describe(found),
                            )
                            refs[i] = found
                            pending.remove(i)
                    if not pending:
                        return [refs[i] for i in range(len(units))]
                delay = retry.next_delay(attempt, exc, retryable=True)
                if delay is None:
                    raise
                self.log.warning(
                    "The start request failed (%s) and did not take effect; starting again in %.1fs",
                    exc,
                    delay,
                )
                time.sleep(delay)
                continue
            for i, ref in zip(pending, started, strict=True):
                self.log.info("Started %s", adapter.describe(ref))
                refs[i] = ref
            return [refs[i] for i in range(len(units))]

    def stop_for_restart(self, running: Sequence[JobRef]) -> list[Savepoint | None]:
        described = ", ".join(self.adapter.describe(ref) for ref in running)
        self.log.info("%s running and if_running='restart': stopping first", described)
        savepoints = self.adapter.stop_many(running, savepoint=True)
        self.wait_sync(running, self.stopped_verdict, None, "a stopped state")
        for savepoint in savepoints:
            if savepoint:
                self.log.info("Restarting from savepoint %s", savepoint)
        return savepoints

    def on_kill(self) -> None:
        if not self.cancel_on_kill:
            return
        for ref in self._job_refs:
            try:
                status = self.hook.call(self.adapter.status_call(ref))
                if self.adapter.is_active(status):
                    self.hook.call(self.adapter.cancel_call(ref))
                    self.log.info("Task killed: asked the platform to stop %s", self.adapter.describe(ref))
            except FlinkCloudApiError as exc:
                self.log.error("Task killed, but stopping %s failed: %s", self.adapter.describe(ref), exc)


class FlinkJobStopOperator(_WatchMixin, BaseOperator):
    """Stop jobs (with a savepoint where the platform offers it) and wait until they have stopped."""

    template_fields: tuple[str, ...] = ("conn_id",)
    ui_color = "#f2e6e6"

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        savepoint: bool = False,
        wait: bool = True,
        poll_interval: float = 10.0,
        timeout: float | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.hook_class.default_conn_name
        self.savepoint = savepoint
        self.wait = wait
        self.poll_interval = _as_seconds(poll_interval, "poll_interval") or 10.0
        self.timeout = _as_seconds(timeout, "timeout")

    @abstractmethod
    def job_refs(self) -> list[JobRef]:
        """The ids of the jobs to stop; empty when there is nothing to stop."""

    def execute(self, context: Context) -> dict[str, Any]:
        adapter = self.adapter
        refs = self.job_refs()
        if not refs:
            self.log.info("Nothing to stop: no active run was found")
            if self.multi_job:
                return self.build_result([])
            return {"platform": adapter.platform, "stopped": False, "state": None}
        statuses = [self.poll_status(ref) for ref in refs]
        results = [{**status.result(), "stopped": False} for status in statuses]
        active = [i for i, status in enumerate(statuses) if adapter.is_active(status)]
        for i, status in enumerate(statuses):
            if i not in active:
                self.log.info(
                    "%s is %s (native state %s), not running: nothing to stop",
                    adapter.describe(status.ref),
                    status.state.value,
                    status.native_state,
                )
        if active:
            running = [statuses[i].ref for i in active]
            self.persist(context, running)
            savepoints = adapter.stop_many(running, savepoint=self.savepoint)
            for i, savepoint in zip(active, savepoints, strict=True):
                self.log.info("Asked the platform to stop %s", adapter.describe(statuses[i].ref))
                results[i].update(stopped=True, savepoint=savepoint)
            if self.wait:
                deadline = time.time() + self.timeout if self.timeout else None
                final = self.wait_sync(running, self.stopped_verdict, deadline, "a stopped state")
                for i, status in zip(active, final, strict=True):
                    results[i].update(status.result())
        return self.build_result(results)


class FlinkJobSensor(_WatchMixin, BaseSensorOperator):
    """Wait until a job reaches one of ``target_states``; any other terminal state fails at once."""

    template_fields: tuple[str, ...] = ("conn_id",)
    ui_color = "#eef2e6"

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        target_states: Iterable[str] = ("SUCCESS",),
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.hook_class.default_conn_name
        self.targets = parse_target_states(target_states)
        self.target_states = sorted(s.value for s in self.targets)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = float(self.poke_interval)

    @abstractmethod
    def job_ref(self) -> JobRef:
        """The ids of the job to watch."""

    def check(self, status: JobStatus) -> bool:
        verdict = judge(status, self.targets)
        if verdict is Verdict.FAILED:
            self.raise_failed([status], [status])
        return verdict is Verdict.REACHED

    def poke(self, context: Context) -> Any:
        status = self.poll_status(self.job_ref())
        if self.check(status):
            return PokeReturnValue(is_done=True, xcom_value=status.result())
        return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        ref = self.job_ref()
        status = self.poll_status(ref)
        if self.check(status):
            return status.result()
        deadline = time.time() + float(self.timeout)
        self.defer(
            trigger=self.make_trigger([ref], self.targets, deadline, cancel_on_kill=False),
            method_name="execute_complete",
            timeout=trigger_timeout(deadline),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        return self.finish_from_event(context, event)
