"""One trigger for every platform: polls the jobs' status over the shared async client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from airflow_provider_flinkcloud.core.compat import BaseTrigger, TriggerEvent
from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError
from airflow_provider_flinkcloud.core.hook import FlinkCloudHook
from airflow_provider_flinkcloud.core.lifecycle import (
    JobRef,
    JobStatus,
    Verdict,
    describe_targets,
    job_key,
    judge,
    log_state_change,
)
from airflow_provider_flinkcloud.core.states import parse_target_states

DEFAULT_MAX_CONSECUTIVE_ERRORS = 8


class FlinkJobTrigger(BaseTrigger):
    """Polls until every job has settled (reached ``target_states`` or ended otherwise) or ``deadline``
    (epoch seconds) passes.

    Transient API errors (after the transport's own retries) do not end the watch until
    ``max_consecutive_errors`` failed rounds in a row; an auth or invalid-request error ends it at once.
    """

    hook_class: ClassVar[type[FlinkCloudHook[Any]]]

    def __init__(
        self,
        *,
        conn_id: str,
        refs: Sequence[JobRef],
        target_states: list[str],
        poll_interval: float,
        deadline: float | None = None,
        cancel_on_kill: bool = True,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        last_logged: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        if not refs:
            raise ValueError("refs: the trigger needs at least one job to watch")
        self.conn_id = conn_id
        self.refs = [dict(ref) for ref in refs]
        self.target_states = sorted(s.value for s in parse_target_states(target_states))
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.cancel_on_kill = cancel_on_kill
        self.max_consecutive_errors = max_consecutive_errors
        self.last_logged = dict(last_logged or {})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "refs": [dict(ref) for ref in self.refs],
                "target_states": self.target_states,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "cancel_on_kill": self.cancel_on_kill,
                "max_consecutive_errors": self.max_consecutive_errors,
                "last_logged": dict(self.last_logged),
            },
        )

    def _hook(self) -> FlinkCloudHook[Any]:
        return self.hook_class(conn_id=self.conn_id)

    def _event(self, kind: str, latest: dict[int, JobStatus], **extra: Any) -> TriggerEvent:
        payload: dict[str, Any] = {"status": kind, "last_logged": dict(self.last_logged), **extra}
        if len(latest) == len(self.refs):
            payload["jobs"] = [latest[i].to_event() for i in range(len(self.refs))]
        return TriggerEvent(payload)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        adapter = hook.adapter()
        targets = parse_target_states(self.target_states)
        latest: dict[int, JobStatus] = {}
        waiting = list(range(len(self.refs)))
        failed_rounds = 0
        while True:
            polled = await asyncio.gather(
                *(hook.acall(adapter.status_call(self.refs[i])) for i in waiting), return_exceptions=True
            )
            errors: list[FlinkCloudApiError] = []
            for i, outcome in zip(waiting, polled, strict=True):
                if isinstance(outcome, FlinkCloudApiError):
                    errors.append(outcome)
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:
                    latest[i] = outcome
                    key = job_key(self.refs[i])
                    label = adapter.describe(self.refs[i])
                    self.last_logged[key] = log_state_change(
                        self.log, label, outcome, self.last_logged.get(key)
                    )
            if errors:
                failed_rounds += 1
                fatal = next((e for e in errors if not hook.is_retryable(e)), None)
                if fatal is not None or failed_rounds >= self.max_consecutive_errors:
                    error = fatal or errors[0]
                    message = f"{error} (after {failed_rounds} consecutive failed polls)"
                    yield self._event("error", latest, message=message)
                    return
                self.log.warning(
                    "Polling failed (%s); %d rounds in a row, polling on", errors[0], failed_rounds
                )
            else:
                failed_rounds = 0
                waiting = [i for i in waiting if judge(latest[i], targets) is Verdict.WAITING]
                if not waiting:
                    failed = [i for i in sorted(latest) if judge(latest[i], targets) is Verdict.FAILED]
                    yield self._event("failed" if failed else "reached", latest, failed=failed)
                    return
            pause = self.poll_interval
            if self.deadline is not None:
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield self._event(
                        "timeout",
                        latest,
                        waiting=waiting,
                        awaited=describe_targets(targets),
                        message="the deadline passed before every job had been seen",
                    )
                    return
                pause = min(pause, remaining)
            await asyncio.sleep(pause)

    async def on_kill(self) -> None:
        """Airflow >= 3.3 calls this only when a user kills the deferred task."""
        if not self.cancel_on_kill:
            return
        hook = self._hook()
        adapter = hook.adapter()
        for ref in self.refs:
            status = await hook.acall(adapter.status_call(ref))
            if adapter.is_active(status):
                await hook.acall(adapter.cancel_call(ref))
                self.log.info(
                    "Task killed while deferred: asked the platform to stop %s", adapter.describe(ref)
                )
