"""One trigger for every platform: polls the job's status over the shared async client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from airflow_provider_flinkcloud.core.compat import BaseTrigger, TriggerEvent
from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError
from airflow_provider_flinkcloud.core.hook import FlinkCloudHook
from airflow_provider_flinkcloud.core.lifecycle import JobStatus, Verdict, judge, log_state_change
from airflow_provider_flinkcloud.core.states import ACTIVE_STATES, parse_target_states

DEFAULT_MAX_CONSECUTIVE_ERRORS = 8


class FlinkJobTrigger(BaseTrigger):
    """Polls until the job reaches ``target_states``, ends otherwise, or ``deadline`` (epoch seconds) passes.

    Transient API errors (after the transport's own retries) do not end the watch until
    ``max_consecutive_errors`` in a row; an auth or invalid-request error ends it at once.
    """

    hook_class: ClassVar[type[FlinkCloudHook[Any]]]

    def __init__(
        self,
        *,
        conn_id: str,
        ref: dict[str, str],
        target_states: list[str],
        poll_interval: float,
        deadline: float | None = None,
        cancel_on_kill: bool = True,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        last_logged: str | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.ref = dict(ref)
        self.target_states = sorted(s.value for s in parse_target_states(target_states))
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.cancel_on_kill = cancel_on_kill
        self.max_consecutive_errors = max_consecutive_errors
        self.last_logged = last_logged

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "ref": self.ref,
                "target_states": self.target_states,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "cancel_on_kill": self.cancel_on_kill,
                "max_consecutive_errors": self.max_consecutive_errors,
                "last_logged": self.last_logged,
            },
        )

    def _hook(self) -> FlinkCloudHook[Any]:
        return self.hook_class(conn_id=self.conn_id)

    def _event(self, kind: str, status: JobStatus | None, message: str | None = None) -> TriggerEvent:
        payload: dict[str, Any] = {"status": kind, "message": message, "last_logged": self.last_logged}
        if status is not None:
            payload["job"] = status.to_event()
        return TriggerEvent(payload)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        adapter = hook.adapter()
        targets = parse_target_states(self.target_states)
        label = adapter.describe(self.ref)
        errors = 0
        status: JobStatus | None = None
        while True:
            try:
                status = await hook.acall(adapter.status_call(self.ref))
                errors = 0
            except FlinkCloudApiError as exc:
                errors += 1
                if not hook.is_retryable(exc) or errors >= self.max_consecutive_errors:
                    yield self._event("error", status, f"{exc} (after {errors} consecutive failed polls)")
                    return
                self.log.warning("Polling %s failed (%s); %d in a row, polling on", label, exc, errors)
            if status is not None and errors == 0:
                self.last_logged = log_state_change(self.log, label, status, self.last_logged)
                verdict = judge(status, targets)
                if verdict is not Verdict.WAITING:
                    yield self._event(verdict.value, status)
                    return
            pause = self.poll_interval
            if self.deadline is not None:
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield self._event("timeout", status)
                    return
                pause = min(pause, remaining)
            await asyncio.sleep(pause)

    async def on_kill(self) -> None:
        """Airflow >= 3.3 calls this only when a user kills the deferred task."""
        if not self.cancel_on_kill:
            return
        hook = self._hook()
        adapter = hook.adapter()
        status = await hook.acall(adapter.status_call(self.ref))
        if status.state in ACTIVE_STATES:
            await hook.acall(adapter.cancel_call(self.ref))
            self.log.info(
                "Task killed while deferred: asked the platform to stop %s", adapter.describe(self.ref)
            )
