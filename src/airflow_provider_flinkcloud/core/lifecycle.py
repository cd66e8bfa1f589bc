"""The job lifecycle, written once for every platform.

A platform supplies a :class:`JobAdapter` (validate, find the active job, start, status, stop,
console URL, remote error text). The operator and sensor bases here do the rest: reattach or
restart, persist ids the moment they exist, wait synchronously or defer, log each state change,
cancel on kill, and turn a failed job into a failed task carrying the platform's error text.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

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
from airflow_provider_flinkcloud.core.states import ACTIVE_STATES, JobState, parse_target_states
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


class JobAdapter(ABC, Generic[SpecT]):
    """What a platform supplies to the lifecycle. Calls go through the bound hook."""

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

    @abstractmethod
    def find_active(self, spec: SpecT) -> JobRef | None:
        """The ids of an active (pending or running) run of this job, if any."""

    @abstractmethod
    def start(self, spec: SpecT, *, restore_from: Savepoint | None = None) -> JobRef:
        """Start the job once. Never retried blindly: the lifecycle checks ``find_active`` first."""

    @abstractmethod
    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        """One read-only call returning the normalised status (used by the worker and the trigger)."""

    @abstractmethod
    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        """One call asking the platform to stop the job, without a savepoint."""

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        """Ask the platform to stop the job; with ``savepoint`` take one first where the platform can."""
        self.hook.call(self.cancel_call(ref))
        return None

    def failure_text(self, status: JobStatus) -> str:
        """The platform's own error text for a failed job."""
        return status.error or f"the platform gave no error text (native state {status.native_state})"

    @abstractmethod
    def describe(self, ref: JobRef) -> str:
        """Human name of the job run, e.g. ``Volcengine Flink instance 123 of application 456``."""

    @abstractmethod
    def link_params(self, ref: JobRef) -> dict[str, str]:
        """Parameters the console link needs (stored in XCom, formatted on display)."""


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
    """Waiting on a job: shared by the start operators, the stop operators and the sensors."""

    hook_class: ClassVar[type[FlinkCloudHook[Any]]]
    trigger_class: ClassVar[type[FlinkJobTrigger]]
    console_link_class: ClassVar[type[FlinkConsoleLink]]
    conn_id: str
    poll_interval: float
    log: Any

    @cached_property
    def hook(self) -> FlinkCloudHook[Any]:
        return self.hook_class(conn_id=self.conn_id)

    @cached_property
    def adapter(self) -> JobAdapter[Any]:
        return self.hook.adapter()

    _last_logged: str | None = None

    def poll_status(self, ref: JobRef) -> JobStatus:
        status = self.hook.call(self.adapter.status_call(ref))
        self._last_logged = log_state_change(self.log, self.adapter.describe(ref), status, self._last_logged)
        return status

    def raise_failed(self, status: JobStatus) -> None:
        raise JobFailedError(failure_message(self.adapter, status), result=status.result())

    def wait_sync(self, ref: JobRef, targets: frozenset[JobState], deadline: float | None) -> JobStatus:
        while True:
            status = self.poll_status(ref)
            verdict = judge(status, targets)
            if verdict is Verdict.REACHED:
                return status
            if verdict is Verdict.FAILED:
                self.raise_failed(status)
            if deadline is not None and time.time() >= deadline:
                raise JobTimeoutError(
                    f"{self.adapter.describe(ref)} did not reach {'/'.join(sorted(targets))} before the "
                    f"timeout; it is {status.state.value} and was left as it is (a retry reattaches to it)"
                )
            pause = self.poll_interval
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - time.time()))
            time.sleep(pause)

    def persist(self, context: Context, ref: JobRef) -> None:
        """Store the ids and the console-link parameters the moment the job exists."""
        ti = context["ti"]
        ti.xcom_push(key=JOB_XCOM_KEY, value={"platform": self.adapter.platform, **ref})
        self.console_link_class.persist(context, self.adapter.link_params(ref))

    def finish_from_event(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        kind = event.get("status")
        if "job" not in event:
            raise FlinkJobWatchError(str(event.get("message") or event))
        status = JobStatus.from_event(event["job"])
        log_state_change(self.log, self.adapter.describe(status.ref), status, event.get("last_logged"))
        if kind == "reached":
            return status.result()
        if kind == "failed":
            self.raise_failed(status)
        if kind == "timeout":
            raise JobTimeoutError(
                f"{self.adapter.describe(status.ref)} did not reach the awaited state before the timeout; "
                f"it is {status.state.value} and was left as it is (a retry reattaches to it)"
            )
        raise FlinkJobWatchError(
            f"watching {self.adapter.describe(status.ref)} failed: {event.get('message')}"
        )

    def make_trigger(
        self,
        ref: JobRef,
        targets: frozenset[JobState],
        deadline: float | None,
        cancel_on_kill: bool,
    ) -> FlinkJobTrigger:
        return self.trigger_class(
            conn_id=self.conn_id,
            ref=ref,
            target_states=sorted(s.value for s in targets),
            poll_interval=self.poll_interval,
            deadline=deadline,
            cancel_on_kill=cancel_on_kill,
            last_logged=self._last_logged,
        )


def trigger_timeout(deadline: float | None) -> timedelta | None:
    # Airflow's own trigger timeout is only a safety net: the trigger reports the deadline itself.
    if deadline is None:
        return None
    return timedelta(seconds=max(0.0, deadline - time.time()) + 60)


class FlinkJobStartOperator(_WatchMixin, BaseOperator, Generic[SpecT]):
    """Start (or reattach to) a job and wait for it per ``wait_for``. Subclassed once per platform."""

    template_fields: tuple[str, ...] = ("conn_id",)
    ui_color = "#e6f1f2"

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
        self._job_ref: JobRef | None = None

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
        ref = self.start_or_reattach(context, spec)
        status = self.poll_status(ref)
        verdict = judge(status, targets_for(wait_for))
        if verdict is Verdict.FAILED:
            self.raise_failed(status)
        if wait_for is None or verdict is Verdict.REACHED:
            return status.result()
        targets = targets_for(wait_for)
        if self.deferrable:
            self.defer(
                trigger=self.make_trigger(ref, targets, deadline, self.cancel_on_kill),
                method_name="execute_complete",
                timeout=trigger_timeout(deadline),
            )
        return self.wait_sync(ref, targets, deadline).result()

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        self._job_ref = JobStatus.from_event(event["job"]).ref if "job" in event else None
        return self.finish_from_event(context, event)

    def start_or_reattach(self, context: Context, spec: SpecT) -> JobRef:
        adapter = self.adapter
        active = adapter.find_active(spec)
        if active is None:
            ref = self.start_checked(spec)
        elif self.if_running == "reattach":
            self.log.info("%s is already running: reattaching, nothing started", adapter.describe(active))
            ref = active
        elif self.if_running == "fail":
            self.persist(context, active)
            raise AirflowFailException(f"{adapter.describe(active)} is already running and if_running='fail'")
        else:
            ref = self.restart(spec, active)
        self._job_ref = ref
        self.persist(context, ref)
        return ref

    def start_checked(self, spec: SpecT, restore_from: Savepoint | None = None) -> JobRef:
        """Start once; after an ambiguous failure, look before starting again."""
        retry = self.hook.retry_policy
        attempt = 0
        while True:
            attempt += 1
            try:
                ref = self.adapter.start(spec, restore_from=restore_from)
            except (TransientError, ThrottledError) as exc:
                if not isinstance(exc, ThrottledError):
                    found = self.adapter.find_active(spec)
                    if found is not None:
                        self.log.warning(
                            "The start request failed (%s) but took effect: %s",
                            exc,
                            self.adapter.describe(found),
                        )
                        return found
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
            self.log.info("Started %s", self.adapter.describe(ref))
            return ref

    def restart(self, spec: SpecT, active: JobRef) -> JobRef:
        adapter = self.adapter
        self.log.info("%s is running and if_running='restart': stopping it first", adapter.describe(active))
        savepoint = adapter.stop(active, savepoint=True)
        self.wait_sync(active, frozenset({JobState.CANCELED, JobState.SUCCESS, JobState.FAILED}), None)
        if savepoint:
            self.log.info("Restarting from savepoint %s", savepoint)
        return self.start_checked(spec, restore_from=savepoint)

    def on_kill(self) -> None:
        if not self.cancel_on_kill or self._job_ref is None:
            return
        ref = self._job_ref
        try:
            status = self.hook.call(self.adapter.status_call(ref))
            if status.state in ACTIVE_STATES:
                self.hook.call(self.adapter.cancel_call(ref))
                self.log.info("Task killed: asked the platform to stop %s", self.adapter.describe(ref))
        except FlinkCloudApiError as exc:
            self.log.error("Task killed, but stopping %s failed: %s", self.adapter.describe(ref), exc)


class FlinkJobStopOperator(_WatchMixin, BaseOperator):
    """Stop a job (with a savepoint where the platform offers it) and wait until it has stopped."""

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
    def job_ref(self) -> JobRef | None:
        """The ids of the job to stop; ``None`` when there is nothing to stop."""

    def execute(self, context: Context) -> dict[str, Any]:
        ref = self.job_ref()
        if ref is None:
            self.log.info("Nothing to stop: no active run was found")
            return {"platform": self.adapter.platform, "stopped": False, "state": None}
        status = self.poll_status(ref)
        if status.state not in ACTIVE_STATES:
            self.log.info(
                "%s is %s, not running: nothing to stop", self.adapter.describe(ref), status.state.value
            )
            return {**status.result(), "stopped": False}
        self.persist(context, ref)
        savepoint = self.adapter.stop(ref, savepoint=self.savepoint)
        self.log.info("Asked the platform to stop %s", self.adapter.describe(ref))
        result: dict[str, Any] = {**status.result(), "stopped": True, "savepoint": savepoint}
        if self.wait:
            deadline = time.time() + self.timeout if self.timeout else None
            final = self.wait_sync(
                ref, frozenset({JobState.CANCELED, JobState.SUCCESS, JobState.FAILED}), deadline
            )
            result.update(final.result())
        return result


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

    def poke(self, context: Context) -> Any:
        status = self.poll_status(self.job_ref())
        verdict = judge(status, self.targets)
        if verdict is Verdict.FAILED:
            self.raise_failed(status)
        if verdict is Verdict.REACHED:
            return PokeReturnValue(is_done=True, xcom_value=status.result())
        return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        ref = self.job_ref()
        status = self.poll_status(ref)
        verdict = judge(status, self.targets)
        if verdict is Verdict.REACHED:
            return status.result()
        if verdict is Verdict.FAILED:
            self.raise_failed(status)
        deadline = time.time() + float(self.timeout)
        self.defer(
            trigger=self.make_trigger(ref, self.targets, deadline, cancel_on_kill=False),
            method_name="execute_complete",
            timeout=trigger_timeout(deadline),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        return self.finish_from_event(context, event)
