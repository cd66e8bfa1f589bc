"""The start and stop operators, written once for every platform.

A start reattaches or restarts, persists ids the moment they exist, waits synchronously or defers,
cancels on kill, and turns a failed job into a failed task carrying the platform's error text. One task
may drive several jobs at once (Huawei DLI runs and stops jobs in batches): the lifecycle always works
on a list of jobs, and a single-job operator is the list of one.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.base.compat import (
    AirflowException,
    AirflowFailException,
    BaseOperator,
    default_deferrable,
)
from airflow_provider_flinkcloud.base.tasks import FlinkJobTask, HookT
from airflow_provider_flinkcloud.core.arguments import as_seconds
from airflow_provider_flinkcloud.core.errors import (
    FlinkCloudApiError,
    JobFailedError,
    JobSpecError,
    JobTimeoutError,
    StartUnconfirmedError,
    took_no_effect,
)
from airflow_provider_flinkcloud.core.jobs import (
    IF_RUNNING_CHOICES,
    WAIT_FOR_CHOICES,
    JobRef,
    JobStatus,
    Savepoint,
    Verdict,
    describe_targets,
    judge,
    targets_for,
)

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context


class FlinkJobStartOperator(FlinkJobTask[HookT], BaseOperator):
    """Start (or reattach to) jobs and wait for them per ``wait_for``. Subclassed once per platform."""

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
        self.conn_id = conn_id or self.default_conn_id
        if wait_for is not None and wait_for != "default":
            wait_for = str(wait_for).upper()
            if wait_for not in WAIT_FOR_CHOICES:
                raise ValueError(f"wait_for: must be 'RUNNING', 'SUCCESS' or None, got {wait_for!r}")
        self.wait_for = wait_for
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = as_seconds(poll_interval, "poll_interval") or 30.0
        self.timeout = as_seconds(timeout, "timeout")
        self.cancel_on_kill = cancel_on_kill
        if if_running not in IF_RUNNING_CHOICES:
            raise ValueError(
                f"if_running: must be one of {', '.join(IF_RUNNING_CHOICES)}, got {if_running!r}"
            )
        self.if_running = if_running
        self._job_refs: list[JobRef] = []
        # What a start request in flight may create (for on_kill), and when it was sent.
        self._starting: list[Any] = []
        self._start_since = 0.0
        self._killed = False

    @abstractmethod
    def job_spec(self) -> Any:
        """The raw spec the user gave (after templating); the hook validates it."""

    def validated_spec(self) -> Any:
        try:
            return self.hook.validate_spec(self.job_spec())
        except JobSpecError as exc:
            # A bad spec cannot get better by retrying.
            raise AirflowFailException(f"{self.task_id}: {exc}") from exc

    def execute(self, context: Context) -> dict[str, Any]:
        spec = self.validated_spec()
        wait_for = self.hook.default_wait_for(spec) if self.wait_for == "default" else self.wait_for
        deadline = time.time() + self.timeout if self.timeout else None
        self.hook.deadline = deadline
        refs = self.start_or_reattach(context, spec, deadline)
        return self.watch(refs, wait_for, deadline)

    def watch(self, refs: Sequence[JobRef], wait_for: str | None, deadline: float | None) -> dict[str, Any]:
        targets = targets_for(wait_for)

        def verdict_of(status: JobStatus) -> Verdict:
            verdict = judge(status, targets)
            if wait_for is None and verdict is Verdict.WAITING:
                # Not waited for: seen once is settled, unless it has already failed.
                return Verdict.REACHED
            return verdict

        watch = self.new_watch(refs, verdict_of, describe_targets(targets), deadline)
        decision = watch.poll_sync(self.poll)
        if decision.waits and self.deferrable and wait_for is not None:
            self.defer_watch(watch, targets, self.cancel_on_kill)
        try:
            final = watch.settle(watch.wait_sync(self.poll, first=decision), self.timeout_hint)
        except JobFailedError as exc:
            raise self.killed_error(exc) from exc
        return self.build_result([s.result() for s in final])

    def killed_error(self, error: JobFailedError) -> JobFailedError:
        """A job that ended because this task was killed fails the task saying so."""
        if not (self._killed and self.cancel_on_kill):
            return error
        described = ", ".join(self.hook.describe(ref) for ref in self._job_refs)
        return JobFailedError(
            f"{described} was stopped because this task was killed (cancel_on_kill=True)", result=error.result
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        self._job_refs = [dict(ref) for ref in event.get("refs") or ()]
        return self.build_result([s.result() for s in self.finish_from_event(event)])

    def start_or_reattach(self, context: Context, spec: Any, deadline: float | None = None) -> list[JobRef]:
        hook = self.hook
        units = hook.units(spec)
        refs: dict[int, JobRef] = {}
        for i, unit in enumerate(units):
            active = hook.find_active(unit)
            if active is not None:
                refs[i] = active
        to_start: dict[int, Savepoint | None] = {i: None for i in range(len(units)) if i not in refs}
        if refs:
            running = [refs[i] for i in sorted(refs)]
            described = ", ".join(hook.describe(ref) for ref in running)
            verb = "is" if len(running) == 1 else "are"
            if self.if_running == "reattach":
                self.log.info("%s %s already running: reattaching, nothing started", described, verb)
            elif self.if_running == "fail":
                self.persist(context, running)
                raise AirflowFailException(f"{described} {verb} already running and if_running='fail'")
            else:
                savepoints = self.stop_for_restart(running, deadline)
                to_start.update(dict(zip(sorted(refs), savepoints, strict=True)))
        if to_start:
            order = sorted(to_start)
            started = self.start_checked([units[i] for i in order], [to_start[i] for i in order], deadline)
            refs.update(zip(order, started, strict=True))
        self._job_refs = [refs[i] for i in range(len(units))]
        self.persist(context, self._job_refs)
        if self._killed and self.cancel_on_kill:
            # The kill came while the start was in flight: stop what it made.
            self.stop_runs(self._job_refs, "Task killed while starting")
            raise AirflowException(f"{self.task_id} was killed while starting; the job was stopped")
        return self._job_refs

    def start_checked(
        self, units: Sequence[Any], restores: Sequence[Savepoint | None], deadline: float | None = None
    ) -> list[JobRef]:
        """Start each unit once. A start that got no clear answer is looked for, never sent again on a
        guess; one the platform refused is started again only when the platform allows a retry."""
        refs: dict[int, JobRef] = {}
        pending = list(range(len(units)))
        attempt = 0
        while pending:
            attempt += 1
            batch = [units[i] for i in pending]
            self._starting, self._start_since = batch, time.time()
            try:
                started = self.hook.start_many(batch, [restores[i] for i in pending])
            except FlinkCloudApiError as exc:
                found = self.after_failed_start(units, pending, exc, attempt, deadline)
                pending = [i for i in pending if i not in found]
                refs.update(found)
                continue
            except BaseException:
                # A kill raised out of the request (a signal handler): stop what the start may have made.
                if self.cancel_on_kill:
                    self.stop_runs(self.runs_started_by(batch), "Task killed while starting")
                raise
            finally:
                self._starting = []
            for i, ref in zip(pending, started, strict=True):
                refs[i] = self.keep_one(units[i], ref)
            pending = []
        return [refs[i] for i in range(len(units))]

    def after_failed_start(
        self,
        units: Sequence[Any],
        pending: list[int],
        error: FlinkCloudApiError,
        attempt: int,
        deadline: float | None,
    ) -> dict[int, JobRef]:
        """The runs a failed start request made or found; empty when it is to be sent again now."""
        hook = self.hook
        if not took_no_effect(error):
            return self.confirm_started(units, pending, error, deadline)
        # The platform refused. Another task may have started the job meanwhile ("already running").
        found = {i: ref for i in pending if (ref := hook.find_active(units[i])) is not None}
        for ref in found.values():
            self.log.info("The start was refused (%s); %s is running: reattaching", error, hook.describe(ref))
        if found:
            return found
        delay = hook.client.retry.next_delay(attempt, error, retryable=hook.is_retryable(error))
        if delay is None:
            raise error
        if deadline is not None and time.time() + delay > deadline:
            raise JobTimeoutError(
                f"The start was refused ({error}); starting again in {delay:.0f}s would pass the timeout"
            ) from error
        self.log.warning(
            "The start was refused (%s), so it did not take effect; starting again in %.1fs", error, delay
        )
        time.sleep(delay)
        return {}

    def confirm_started(
        self, units: Sequence[Any], pending: list[int], error: FlinkCloudApiError, deadline: float | None
    ) -> dict[int, JobRef]:
        """Look for the runs an unanswered start may have made, for as long as the platform may take to
        show them; fail the try when any cannot be found (a retry looks again before starting)."""
        hook = self.hook
        window = hook.client.settings.wait.start_confirm_seconds
        give_up = time.time() + window if deadline is None else min(deadline, time.time() + window)
        self.log.warning(
            "The start request got no clear answer (%s): looking for the job for up to %.0fs; it is not "
            "sent again on a guess",
            error,
            window,
        )
        found: dict[int, JobRef] = {}
        while True:
            for i in pending:
                if i not in found and (ref := self.look_for_start(units[i])) is not None:
                    self.log.info("The start took effect: %s", hook.describe(ref))
                    found[i] = ref
            if len(found) == len(pending) or time.time() >= give_up:
                break
            time.sleep(min(2.0, max(0.05, window / 20)))
        if len(found) < len(pending):
            raise StartUnconfirmedError(
                f"{self.task_id}: could not confirm whether the start took effect ({error}); the job was "
                f"not found within {window:.0f}s. A retry looks again before starting"
            ) from error
        return found

    def look_for_start(self, unit: Any) -> JobRef | None:
        try:
            return self.hook.find_started(unit, self._start_since)
        except FlinkCloudApiError as exc:
            self.log.warning("Looking for the started job failed (%s); looking on", exc)
            return None

    def keep_one(self, unit: Any, ref: JobRef) -> JobRef:
        """Right after a start: when another task started the same job at the same moment, keep the older."""
        hook = self.hook
        older = hook.older_active(unit, ref)
        if older is None:
            self.log.info("Started %s", hook.describe(ref))
            return ref
        self.log.warning(
            "%s was started by another task at the same moment as %s: stopping the one just started and "
            "reattaching to the older",
            hook.describe(older),
            hook.describe(ref),
        )
        hook.cancel(ref)
        return older

    def runs_started_by(self, units: Sequence[Any]) -> list[JobRef]:
        refs = []
        for unit in units:
            if (ref := self.look_for_start(unit)) is not None:
                refs.append(ref)
        return refs

    def stop_for_restart(
        self, running: Sequence[JobRef], deadline: float | None = None
    ) -> list[Savepoint | None]:
        described = ", ".join(self.hook.describe(ref) for ref in running)
        self.log.info("%s running and if_running='restart': stopping first", described)
        savepoints = self.hook.stop_many(running, savepoint=True)
        wait_stopped(self, running, deadline)
        for savepoint in savepoints:
            if savepoint:
                self.log.info("Restarting from savepoint %s", savepoint)
        return savepoints

    def on_kill(self) -> None:
        self._killed = True
        if not self.cancel_on_kill:
            return
        # Airflow calls this from a signal handler, perhaps while a request is in flight.
        self.hook.fresh_transport()
        self.stop_runs([*self._job_refs, *self.runs_started_by(self._starting)], "Task killed")

    def stop_runs(self, refs: Sequence[JobRef], why: str) -> None:
        hook = self.hook
        for ref in refs:
            try:
                if hook.is_active(self.poll(ref)):
                    hook.cancel(ref)
                    self.log.info("%s: asked the platform to stop %s", why, hook.describe(ref))
            except FlinkCloudApiError as exc:
                self.log.error("%s, but stopping %s failed: %s", why, hook.describe(ref), exc)


def wait_stopped(task: FlinkJobTask[Any], refs: Sequence[JobRef], deadline: float | None) -> list[JobStatus]:
    """Wait until every job in ``refs`` has stopped; fail at once when the platform says stopping failed."""
    hook = task.hook

    def stopped(status: JobStatus) -> Verdict:
        text = hook.stop_error(status)
        if text is not None:
            raise JobFailedError(
                f"stopping {hook.describe(status.ref)} failed (native state {status.native_state}): {text}",
                result=status.result(),
            )
        return Verdict.REACHED if hook.is_stopped(status) else Verdict.WAITING

    watch = task.new_watch(refs, stopped, "a stopped state", deadline)
    return watch.settle(watch.wait_sync(task.poll))


class FlinkJobStopOperator(FlinkJobTask[HookT], BaseOperator):
    """Stop jobs (with a savepoint where the platform offers it) and wait until they have stopped."""

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
        self.conn_id = conn_id or self.default_conn_id
        self.savepoint = savepoint
        self.wait = wait
        self.poll_interval = as_seconds(poll_interval, "poll_interval") or 10.0
        self.timeout = as_seconds(timeout, "timeout")

    @abstractmethod
    def job_refs(self) -> list[JobRef]:
        """The ids of the jobs to stop; empty when there is nothing to stop."""

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.hook
        deadline = time.time() + self.timeout if self.timeout else None
        hook.deadline = deadline
        refs = self.job_refs()
        if not refs:
            self.log.info("Nothing to stop: no active run was found")
            if self.multi_job:
                return self.build_result([])
            return {"platform": hook.platform_name, "stopped": False, "state": None}
        statuses = [self.poll(ref) for ref in refs]
        results = [{**status.result(), "stopped": False} for status in statuses]
        active = [i for i, status in enumerate(statuses) if hook.is_active(status)]
        for i, status in enumerate(statuses):
            if i not in active:
                self.log.info(
                    "%s is %s (native state %s), not running: nothing to stop",
                    hook.describe(status.ref),
                    status.state.value,
                    status.native_state,
                )
        if active:
            running = [statuses[i].ref for i in active]
            self.persist(context, running)
            savepoints = hook.stop_many(running, savepoint=self.savepoint)
            for i, savepoint in zip(active, savepoints, strict=True):
                self.log.info("Asked the platform to stop %s", hook.describe(statuses[i].ref))
                results[i].update(stopped=True, savepoint=savepoint)
            if self.wait:
                for i, status in zip(active, wait_stopped(self, running, deadline), strict=True):
                    results[i].update(status.result())
        return self.build_result(results)
