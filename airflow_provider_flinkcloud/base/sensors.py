"""The sensor, written once for every platform."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.base.compat import BaseSensorOperator, PokeReturnValue, default_deferrable
from airflow_provider_flinkcloud.base.tasks import FlinkJobTask, HookT
from airflow_provider_flinkcloud.core.jobs import JobRef, describe_targets, judge, with_implied
from airflow_provider_flinkcloud.core.states import parse_target_states

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context
    from airflow_provider_flinkcloud.core.watch import JobWatch


class FlinkJobSensor(FlinkJobTask[HookT], BaseSensorOperator):
    """Wait until a job reaches one of ``target_states``; any other terminal state fails at once."""

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
        self.conn_id = conn_id or self.default_conn_id
        given = parse_target_states(target_states)
        self.target_states = sorted(s.value for s in given)
        self.targets = with_implied(given)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = float(self.poke_interval)
        self._persisted = False

    @abstractmethod
    def job_ref(self) -> JobRef:
        """The ids of the job to watch."""

    def watch_for(self, deadline: float | None) -> JobWatch:
        return self.new_watch(
            [self.job_ref()], lambda s: judge(s, self.targets), describe_targets(self.targets), deadline
        )

    @cached_property
    def _poke_watch(self) -> JobWatch:
        # Airflow enforces the sensor's timeout between pokes; the watch keeps the error count.
        return self.watch_for(None)

    def poke(self, context: Context) -> Any:
        watch = self._poke_watch
        decision = watch.poll_sync(self.poll)
        self.persist_seen(context, watch)
        if decision.waits:
            return False
        return PokeReturnValue(is_done=True, xcom_value=watch.settle(decision)[0].result())

    def persist_seen(self, context: Context, watch: JobWatch) -> None:
        """Store the ids and the console link once, with what the platform said of the job (the ids a
        sensor is given may be fewer than the link needs, e.g. a Volcengine instance without its app)."""
        if self._persisted:
            return
        seen = watch.latest.get(0)
        self.persist(context, [seen.ref if seen is not None else self.job_ref()])
        self._persisted = seen is not None

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        watch = self.watch_for(time.time() + float(self.timeout))
        decision = watch.poll_sync(self.poll)
        self.persist_seen(context, watch)
        if decision.waits:
            self.defer_watch(watch, self.targets, cancel_on_kill=False)
        return watch.settle(watch.wait_sync(self.poll, first=decision))[0].result()

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        return self.finish_from_event(event)[0].result()
