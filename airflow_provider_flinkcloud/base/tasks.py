"""What the start and stop operators and the sensors share: the typed hook, the watch, the link.

A DAG file imports this module, so it imports only what a task needs when it is constructed: the hook
(with its client, signer and transport) and the watch are loaded when the task runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.links import FlinkConsoleLink
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Verdict
from airflow_provider_flinkcloud.registry import PlatformSpec

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context
    from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
    from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
    from airflow_provider_flinkcloud.core.states import JobState
    from airflow_provider_flinkcloud.core.watch import JobWatch

HookT = TypeVar("HookT", bound="FlinkCloudHook[Any]")
T = TypeVar("T")

JOB_XCOM_KEY = "flinkcloud_job"


def trigger_timeout(deadline: float | None) -> timedelta | None:
    # Airflow's own trigger timeout is only a safety net: the trigger reports the deadline itself.
    if deadline is None:
        return None
    return timedelta(seconds=max(0.0, deadline - time.time()) + 60)


class FlinkJobTask(Generic[HookT]):
    """Mixed into every operator and sensor of a platform, which names its registry entry (``platform``).

    From that entry come the hook, the console link and the trigger; ``conn_id`` is always a template
    field. A class without ``platform`` (a base) is left alone. The hook class is typed by the generic
    parameter (``FlinkJobSensor["MyHook"]``, a name, so that the module need not import the hook).
    """

    platform: ClassVar[PlatformSpec]
    # Whether the task drives a list of jobs; its result is then {"platform", "jobs": [...]}.
    multi_job: ClassVar[bool] = False
    timeout_hint: ClassVar[str] = ""
    conn_id: str
    poll_interval: float
    task_id: str
    log: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every operator and sensor templates its connection id, as ``aws_template_fields`` does.
        fields = tuple(getattr(cls, "template_fields", ()))
        if "conn_id" not in fields:
            cls.template_fields = ("conn_id", *fields)  # type: ignore[attr-defined]
        spec = cls.__dict__.get("platform")
        if spec is None:
            return
        if not isinstance(spec, PlatformSpec):
            raise TypeError(
                f"{cls.__qualname__}.platform must be a registry entry (PlatformSpec), got {spec!r}"
            )
        link_class = spec.load(spec.console_link_path)
        if not (isinstance(link_class, type) and issubclass(link_class, FlinkConsoleLink)):
            raise TypeError(f"{link_class!r} (console link of {spec.name}) is no FlinkConsoleLink")
        if "operator_extra_links" not in cls.__dict__:
            cls.operator_extra_links = (link_class(),)  # type: ignore[attr-defined]

    @property
    def default_conn_id(self) -> str:
        return self.platform.default_conn_id

    @property
    def hook_class(self) -> type[HookT]:
        # Loaded by a task that runs, not by the DAG file that constructs it.
        hook: type[HookT] = self.platform.load(self.platform.hook_path)
        return hook

    def checked(self, check: Callable[[Any, str], T], value: Any, name: str) -> T:
        """A task argument checked when the task runs (after templating), before any request.

        A bad value cannot get better by retrying, so it fails the task for good, naming the argument.
        """
        try:
            return check(value, name)
        except ValueError as exc:
            raise AirflowFailException(f"{self.task_id}: {exc}") from exc

    @cached_property
    def hook(self) -> HookT:
        return self.hook_class(conn_id=self.conn_id)

    @property
    def console_link_class(self) -> type[FlinkConsoleLink]:
        link: type[FlinkConsoleLink] = self.platform.load(self.platform.console_link_path)
        return link

    @property
    def trigger_class(self) -> type[FlinkJobTrigger[Any]]:
        # Loaded only by a task that defers, so parsing a DAG file does not import the trigger.
        trigger: type[FlinkJobTrigger[Any]] = self.platform.load(self.platform.trigger_path)
        return trigger

    def poll(self, ref: JobRef) -> JobStatus:
        return self.hook.call(self.hook.status_call(ref))

    def new_watch(
        self,
        refs: Sequence[JobRef],
        verdict_of: Callable[[JobStatus], Verdict],
        awaited: str,
        deadline: float | None,
        last_logged: dict[str, str] | None = None,
    ) -> JobWatch:
        from airflow_provider_flinkcloud.core.watch import JobWatch

        return JobWatch(
            self.hook,
            refs,
            verdict_of,
            awaited=awaited,
            poll_interval=self.poll_interval,
            deadline=deadline,
            error_window=self.hook.client.settings.wait.poll_error_window,
            multi_job=self.multi_job,
            log=self.log,
            last_logged=last_logged,
        )

    def build_result(self, results: Sequence[dict[str, Any]]) -> dict[str, Any]:
        if self.multi_job:
            return {"platform": self.hook.platform_name, "jobs": list(results)}
        return results[0]

    def persist(self, context: Context, refs: Sequence[JobRef]) -> None:
        """Store the ids and the console-link parameters the moment the jobs exist."""
        platform = self.hook.platform_name
        ids = (
            {"platform": platform, "jobs": list(refs)}
            if self.multi_job
            else {"platform": platform, **refs[0]}
        )
        context["ti"].xcom_push(key=JOB_XCOM_KEY, value=ids)
        self.console_link_class.persist(context, self.hook.link_params(refs))

    def make_trigger(
        self, watch: JobWatch, targets: frozenset[JobState], cancel_on_kill: bool
    ) -> FlinkJobTrigger[Any]:
        return self.trigger_class(
            conn_id=self.conn_id,
            refs=list(watch.refs),
            target_states=sorted(s.value for s in targets),
            poll_interval=self.poll_interval,
            deadline=watch.deadline,
            cancel_on_kill=cancel_on_kill,
            failing_since=watch.failing_since,
            last_logged=dict(watch.last_logged),
        )

    def defer_watch(self, watch: JobWatch, targets: frozenset[JobState], cancel_on_kill: bool) -> None:
        self.defer(  # type: ignore[attr-defined]
            trigger=self.make_trigger(watch, targets, cancel_on_kill),
            method_name="execute_complete",
            timeout=trigger_timeout(watch.deadline),
        )

    def finish_from_event(self, event: dict[str, Any]) -> list[JobStatus]:
        """The trigger's report, settled exactly as a synchronous wait would settle it."""
        from airflow_provider_flinkcloud.core.watch import WatchEvent

        report = WatchEvent.from_dict(event)
        watch = self.new_watch(
            report.refs, lambda s: Verdict.WAITING, report.awaited, None, dict(report.last_logged)
        )
        return watch.settle(report.decision(), self.timeout_hint)
