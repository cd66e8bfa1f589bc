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

from airflow_provider_flinkcloud.base.compat import AirflowFailException, BaseOperator, default_deferrable
from airflow_provider_flinkcloud.base.tasks import FlinkJobTask, HookT, as_seconds
from airflow_provider_flinkcloud.core.errors import (
    FlinkCloudApiError,
    JobFailedError,
    JobSpecError,
    ThrottledError,
    TransientError,
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
from airflow_provider_flinkcloud.core.watch import Next

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
        self.conn_id = conn_id or self.hook_class.default_conn_name
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
        refs = self.start_or_reattach(context, spec)
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
        if decision.next is Next.WAIT and self.deferrable and wait_for is not None:
            self.defer_watch(watch, targets, self.cancel_on_kill)
        final = watch.settle(watch.wait_sync(self.poll, first=decision), self.timeout_hint)
        return self.build_result([s.result() for s in final])

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        self._job_refs = [dict(ref) for ref in event.get("refs") or ()]
        return self.build_result([s.result() for s in self.finish_from_event(event)])

    def start_or_reattach(self, context: Context, spec: Any) -> list[JobRef]:
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
        retry = self.hook.client.retry
        hook = self.hook
        refs: dict[int, JobRef] = {}
        pending = list(range(len(units)))
        attempt = 0
        while True:
            attempt += 1
            try:
                started = hook.start_many([units[i] for i in pending], [restores[i] for i in pending])
            except (TransientError, ThrottledError) as exc:
                if not isinstance(exc, ThrottledError):
                    for i in list(pending):
                        found = hook.find_active(units[i])
                        if found is not None:
                            self.log.warning(
                                "The start request failed (%s) but took effect: %s", exc, hook.describe(found)
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
                self.log.info("Started %s", hook.describe(ref))
                refs[i] = ref
            return [refs[i] for i in range(len(units))]

    def stop_for_restart(self, running: Sequence[JobRef]) -> list[Savepoint | None]:
        described = ", ".join(self.hook.describe(ref) for ref in running)
        self.log.info("%s running and if_running='restart': stopping first", described)
        savepoints = self.hook.stop_many(running, savepoint=True)
        wait_stopped(self, running, None)
        for savepoint in savepoints:
            if savepoint:
                self.log.info("Restarting from savepoint %s", savepoint)
        return savepoints

    def on_kill(self) -> None:
        if not self.cancel_on_kill:
            return
        hook = self.hook
        for ref in self._job_refs:
            try:
                if hook.is_active(self.poll(ref)):
                    hook.call(hook.cancel_call(ref))
                    self.log.info("Task killed: asked the platform to stop %s", hook.describe(ref))
            except FlinkCloudApiError as exc:
                self.log.error("Task killed, but stopping %s failed: %s", hook.describe(ref), exc)


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
        self.conn_id = conn_id or self.hook_class.default_conn_name
        self.savepoint = savepoint
        self.wait = wait
        self.poll_interval = as_seconds(poll_interval, "poll_interval") or 10.0
        self.timeout = as_seconds(timeout, "timeout")

    @abstractmethod
    def job_refs(self) -> list[JobRef]:
        """The ids of the jobs to stop; empty when there is nothing to stop."""

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.hook
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
                deadline = time.time() + self.timeout if self.timeout else None
                for i, status in zip(active, wait_stopped(self, running, deadline), strict=True):
                    results[i].update(status.result())
        return self.build_result(results)
