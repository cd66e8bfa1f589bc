"""The one watch engine: from each round of polls it decides what happens next.

The synchronous wait in a worker, the poll a worker makes before deferring, a sensor's poke and the
trigger all feed their poll outcomes (a status or an API error, per job) to a :class:`JobWatch`, so the
error tolerance, the deadline and the log lines are decided here once. What the trigger sends back is a
:class:`WatchEvent`; the worker turns it into the same :class:`Decision` the synchronous wait reaches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError, JobFailedError, JobTimeoutError
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Verdict, job_key
from airflow_provider_flinkcloud.core.platform import JobPlatform

# How long polls may keep failing (each after the transport's own retries) before a watch gives up,
# unless the connection says otherwise (extra ``poll_error_window``); a non-retryable error (auth,
# invalid request, not found) ends it at once. Three minutes ride out a gateway restart or a minute
# of 5xx and dropped connections.
DEFAULT_POLL_ERROR_WINDOW = 180.0

Outcome = JobStatus | FlinkCloudApiError
# What the async driver sends per job (the trigger's status calls).
C = TypeVar("C")


class Next(str, Enum):
    WAIT = "wait"
    REACHED = "reached"
    FAILED = "failed"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True)
class Decision:
    """What happens after a round: wait ``delay`` seconds and poll ``waiting`` again, or stop."""

    next: Next
    statuses: Mapping[int, JobStatus]
    waiting: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    delay: float = 0.0
    message: str = ""

    @property
    def waits(self) -> bool:
        return self.next is Next.WAIT


class WatchError(JobFailedError):
    """The jobs could not be watched (persistent or non-retryable API errors)."""


@dataclass(frozen=True)
class WatchEvent:
    """The trigger's report to the worker (serialised into the trigger event)."""

    next: Next
    refs: tuple[JobRef, ...]
    awaited: str
    statuses: Mapping[int, JobStatus]
    waiting: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    message: str = ""
    last_logged: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, decision: Decision, watch: JobWatch) -> WatchEvent:
        return cls(
            next=decision.next,
            refs=tuple(watch.refs),
            awaited=watch.awaited,
            statuses=decision.statuses,
            waiting=decision.waiting,
            failed=decision.failed,
            message=decision.message,
            last_logged=dict(watch.last_logged),
        )

    def decision(self) -> Decision:
        return Decision(self.next, self.statuses, self.waiting, self.failed, message=self.message)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.next.value,
            "refs": [dict(ref) for ref in self.refs],
            "awaited": self.awaited,
            "jobs": {str(i): s.to_dict() for i, s in self.statuses.items()},
            "waiting": list(self.waiting),
            "failed": list(self.failed),
            "last_logged": dict(self.last_logged),
        }
        if self.message:
            data["message"] = self.message
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchEvent:
        try:
            return cls(
                next=Next(data["status"]),
                refs=tuple(dict(ref) for ref in data["refs"]),
                awaited=str(data.get("awaited") or ""),
                statuses={int(i): JobStatus.from_dict(s) for i, s in (data.get("jobs") or {}).items()},
                waiting=tuple(data.get("waiting") or ()),
                failed=tuple(data.get("failed") or ()),
                message=str(data.get("message") or ""),
                last_logged=dict(data.get("last_logged") or {}),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise WatchError(
                f"the trigger sent an event this provider cannot read ({exc}): {data!r}"
            ) from None


class JobWatch:
    """Watches ``refs`` until each has settled (``verdict_of`` says REACHED or FAILED) or ``deadline``
    (epoch seconds) passes. Feed it each round's outcomes with :meth:`observe`."""

    def __init__(
        self,
        platform: JobPlatform,
        refs: Sequence[JobRef],
        verdict_of: Callable[[JobStatus], Verdict],
        *,
        awaited: str,
        poll_interval: float,
        deadline: float | None = None,
        error_window: float = DEFAULT_POLL_ERROR_WINDOW,
        failing_since: float | None = None,
        multi_job: bool = False,
        log: logging.Logger | logging.LoggerAdapter[Any] | Any = None,
        last_logged: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not refs:
            raise ValueError("refs: there must be at least one job to watch")
        self.platform = platform
        self.refs = [dict(ref) for ref in refs]
        self.verdict_of = verdict_of
        self.awaited = awaited
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.error_window = error_window
        # When the current run of failed polls began (None while polls succeed).
        self.failing_since = failing_since
        # A task over a list of jobs returns {"platform", "jobs": [...]}, even for a list of one.
        self.multi_job = multi_job
        self.log = log or logging.getLogger(__name__)
        self.last_logged: dict[str, str] = dict(last_logged or {})
        self.clock = clock
        # Per job, the key of ``last_logged`` (computed once: a triggerer polls each job for months).
        self.keys = tuple(job_key(ref) for ref in self.refs)
        self.latest: dict[int, JobStatus] = {}
        # Tuples, not lists: the collector stops tracking a tuple of strings or ints (issue 12).
        self.waiting: tuple[int, ...] = tuple(range(len(self.refs)))
        self.failed_rounds = 0 if failing_since is None else 1

    # -- one round ---------------------------------------------------------------------------------

    def observe(self, outcomes: Mapping[int, Outcome]) -> Decision:
        """Take one round of poll outcomes (for the jobs in ``waiting``) and decide what comes next."""
        errors = [o for o in outcomes.values() if isinstance(o, FlinkCloudApiError)]
        for i, outcome in outcomes.items():
            if isinstance(outcome, JobStatus):
                # An unchanged status keeps the object already held, so the new one dies young instead
                # of surviving into the oldest generation, whose growth is what sets off the long full
                # collections of a triggerer (issue 12).
                if self.latest.get(i) != outcome:
                    self.latest[i] = outcome
                self._log_change(i, outcome)
        if errors:
            self.failed_rounds += 1
            now = self.clock()
            if self.failing_since is None:
                self.failing_since = now
            failing_for = now - self.failing_since
            fatal = next((e for e in errors if not self.platform.is_retryable(e)), None)
            if fatal is not None or (self.failed_rounds >= 2 and failing_for >= self.error_window):
                message = (
                    f"{self.failed_rounds} poll(s) in a row failed over {failing_for:.0f}s; last error: "
                    f"{fatal or errors[-1]}"
                )
                return self.decision(Next.ERROR, message=message)
            self.log.warning(
                "Polling failed (%s); %d poll(s) in a row over %.0fs, polling on for up to %.0fs",
                errors[-1],
                self.failed_rounds,
                failing_for,
                self.error_window,
            )
        else:
            self.failed_rounds, self.failing_since = 0, None
            self.waiting = tuple(
                i for i in self.waiting if self.verdict_of(self.latest[i]) is Verdict.WAITING
            )
            if not self.waiting:
                failed = tuple(
                    i for i in sorted(self.latest) if self.verdict_of(self.latest[i]) is Verdict.FAILED
                )
                return self.decision(Next.FAILED if failed else Next.REACHED, failed=failed)
        if self.deadline is None:
            return self.decision(Next.WAIT, delay=self.poll_interval)
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            return self.decision(Next.TIMEOUT, message="the deadline passed")
        return self.decision(Next.WAIT, delay=min(self.poll_interval, remaining))

    def decision(self, next_: Next, **fields: Any) -> Decision:
        """A decision on the statuses seen so far (the trigger ends with one when it cannot start)."""
        return Decision(next_, dict(self.latest), self.waiting, **fields)

    def _log_change(self, i: int, status: JobStatus) -> None:
        key = self.keys[i]
        change = f"{status.state.value}/{status.native_state}"
        if self.last_logged.get(key) != change:
            self.log.info(
                "%s is %s (native state %s); console: %s",
                self.platform.describe(self.refs[i]),
                status.state.value,
                status.native_state,
                status.console_url or "n/a",
            )
        self.last_logged[key] = change

    # -- drivers -----------------------------------------------------------------------------------

    def poll_sync(self, poll: Callable[[JobRef], JobStatus]) -> Decision:
        outcomes: dict[int, Outcome] = {}
        for i in self.waiting:
            try:
                outcomes[i] = poll(self.refs[i])
            except FlinkCloudApiError as exc:
                outcomes[i] = exc
        return self.observe(outcomes)

    def wait_sync(
        self,
        poll: Callable[[JobRef], JobStatus],
        first: Decision | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Decision:
        """Poll until the watch stops waiting; ``first`` is a decision already reached this try."""
        decision = first or self.poll_sync(poll)
        while decision.next is Next.WAIT:
            sleep(decision.delay)
            decision = self.poll_sync(poll)
        return decision

    async def wait_async(self, send: Callable[[C], Awaitable[JobStatus]], calls: Sequence[C]) -> Decision:
        """Poll until the watch stops waiting, sending ``calls[i]`` (built once per ref) for job ``i``."""
        while True:
            decision = self.observe(await self._poll_async(send, calls))
            if not decision.waits:
                return decision
            delay = decision.delay
            # Asleep, a watch holds nothing of its last round but the latest statuses: a triggerer keeps
            # thousands asleep at once, and a full garbage collection walks all they hold (issue 12).
            del decision
            await asyncio.sleep(delay)

    async def _poll_async(
        self, send: Callable[[C], Awaitable[JobStatus]], calls: Sequence[C]
    ) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        if len(self.waiting) == 1:
            # One job (nearly every trigger): awaited in place, without gather's task and future.
            (i,) = self.waiting
            try:
                outcomes[i] = await send(calls[i])
            except FlinkCloudApiError as exc:
                outcomes[i] = exc
            return outcomes
        polled = await asyncio.gather(*(send(calls[i]) for i in self.waiting), return_exceptions=True)
        for i, outcome in zip(self.waiting, polled, strict=True):
            if not isinstance(outcome, JobStatus | FlinkCloudApiError):
                raise outcome
            outcomes[i] = outcome
        return outcomes

    # -- the end -----------------------------------------------------------------------------------

    def settle(self, decision: Decision, timeout_hint: str = "") -> list[JobStatus]:
        """The final statuses when every job reached its target; otherwise raise the matching error."""
        if decision.next is Next.REACHED:
            return [decision.statuses[i] for i in range(len(self.refs))]
        if decision.next is Next.FAILED:
            failed = [decision.statuses[i] for i in decision.failed]
            raise JobFailedError(self.failures_message(failed), result=self.result_of(decision))
        if decision.next is Next.TIMEOUT:
            raise JobTimeoutError(self.timeout_message(decision, timeout_hint))
        described = ", ".join(self.platform.describe(ref) for ref in self.refs)
        raise WatchError(f"watching {described} failed: {decision.message}")

    def result_of(self, decision: Decision) -> dict[str, Any]:
        results = [decision.statuses[i].result() for i in sorted(decision.statuses)]
        if not self.multi_job and results:
            return results[0]
        return {"platform": self.platform.platform_name, "jobs": results}

    def failure_message(self, status: JobStatus) -> str:
        return (
            f"{self.platform.describe(status.ref)} ended {status.state.value} (native state "
            f"{status.native_state}): {self.platform.failure_text(status)}"
            + (f"; console: {status.console_url}" if status.console_url else "")
        )

    def failures_message(self, failed: Sequence[JobStatus]) -> str:
        if len(self.refs) == 1:
            return self.failure_message(failed[0])
        return f"{len(failed)} of {len(self.refs)} jobs failed: " + " | ".join(
            self.failure_message(s) for s in failed
        )

    def timeout_message(self, decision: Decision, hint: str) -> str:
        parts = []
        for i in decision.waiting:
            status = decision.statuses.get(i)
            state = status.state.value if status else "not yet seen"
            parts.append(
                f"{self.platform.describe(self.refs[i])} did not reach {self.awaited} before the timeout; "
                f"it is {state} and was left as it is{hint}"
            )
        return "; ".join(parts)
