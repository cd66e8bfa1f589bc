"""One trigger for every platform: watches the jobs over the shared async client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Generic

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flinkcloud.base.tasks import HookT
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Verdict, describe_targets, verdict_for
from airflow_provider_flinkcloud.core.states import parse_target_states
from airflow_provider_flinkcloud.core.watch import JobWatch, Next, WatchEvent


class FlinkJobTrigger(BaseTrigger, Generic[HookT]):
    """Polls until every job has settled (reached ``target_states`` or ended otherwise) or ``deadline``
    (epoch seconds) passes, with the same :class:`JobWatch` rules as a synchronous wait.

    A platform subclasses it once, setting ``hook_class``; the registry must name the subclass as that
    platform's trigger, which is checked when the class is defined.
    """

    hook_class: type[HookT]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hook_class = cls.__dict__.get("hook_class")
        if hook_class is None:
            raise TypeError(f"{cls.__qualname__}: a trigger must set hook_class")
        spec = getattr(hook_class, "platform", None)
        path = f"{cls.__module__}.{cls.__qualname__}"
        if spec is not None and spec.trigger_path != path:
            raise TypeError(f"{path}: the registry names {spec.trigger_path} as the {spec.label} trigger")

    def __init__(
        self,
        *,
        conn_id: str,
        refs: Sequence[JobRef],
        target_states: list[str],
        poll_interval: float,
        deadline: float | None = None,
        cancel_on_kill: bool = True,
        failing_since: float | None = None,
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
        # When the worker's polls began to fail, so the error window runs on across the deferral.
        self.failing_since = failing_since
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
                "failing_since": self.failing_since,
                "last_logged": dict(self.last_logged),
            },
        )

    def _hook(self) -> HookT:
        return self.hook_class(conn_id=self.conn_id)

    def _judging(self) -> tuple[Callable[[JobStatus], Verdict], str]:
        """How a status is judged, and the target states as the messages name them. (A helper, so that
        the sleeping ``run`` holds no set of targets of its own, only the one ``verdict_for`` shares.)"""
        targets = parse_target_states(self.target_states)
        return verdict_for(targets), describe_targets(targets)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        verdict_of, awaited = self._judging()
        try:
            # The connection is read once, without blocking the event loop.
            client = await hook.async_client()
        except JobSpecError as exc:
            report = WatchEvent(Next.ERROR, tuple(self.refs), awaited, {}, message=str(exc))
            yield TriggerEvent(report.to_dict())
            return
        # What a trigger holds while it sleeps, a triggerer holds once per watched job, for months: the
        # verdict and the class's logger are shared (the triggerer routes a line to its task's log by the
        # context it runs in, not by the logger object), and each status call is built once, with no
        # closure (the transport signs every attempt anew).
        watch = JobWatch(
            hook,
            self.refs,
            verdict_of,
            awaited=awaited,
            poll_interval=self.poll_interval,
            deadline=self.deadline,
            error_window=client.settings.wait.poll_error_window,
            failing_since=self.failing_since,
            log=type(self).logger(),
            last_logged=self.last_logged,
        )
        # One dict of what was logged, the watch's, not a copy beside it.
        self.last_logged = watch.last_logged
        # (map, not a comprehension, whose closure would keep ``hook`` in a cell for the trigger's life)
        decision = await watch.wait_async(hook.acall, tuple(map(hook.status_call, watch.refs)))
        yield TriggerEvent(WatchEvent.of(decision, watch).to_dict())

    async def on_kill(self) -> None:
        """Airflow >= 3.3 calls this only when a user kills the deferred task."""
        if not self.cancel_on_kill:
            return
        hook = self._hook()
        for ref in self.refs:
            status = await hook.acall(hook.status_call(ref))
            if hook.is_active(status):
                await hook.acall(hook.cancel_call(ref))
                self.log.info("Task killed while deferred: asked the platform to stop %s", hook.describe(ref))
