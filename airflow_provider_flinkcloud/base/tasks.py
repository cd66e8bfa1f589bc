"""What the start and stop operators and the sensors share: the typed hook, the watch, the link."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
from airflow_provider_flinkcloud.base.links import FlinkConsoleLink
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Verdict
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.core.watch import JobWatch, WatchEvent

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context
    from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger

HookT = TypeVar("HookT", bound=FlinkCloudHook[Any])
T = TypeVar("T")

JOB_XCOM_KEY = "flinkcloud_job"


def as_seconds(value: float | timedelta | None, name: str) -> float | None:
    """A duration argument in seconds: a positive number (or numeric text) or a ``timedelta``.

    Raised as ``ValueError`` naming the argument, so a bad value fails where the task is constructed.
    """
    if value is None:
        return None
    seconds: float | None = None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            seconds = None
    if seconds is None or not math.isfinite(seconds):
        raise ValueError(f"{name}: must be a number of seconds or a timedelta, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"{name}: must be positive, got {value!r}")
    return seconds


def is_template(value: Any) -> bool:
    """Whether Airflow renders ``value`` when the task runs (Jinja text, an XComArg, ...).

    Such a value can only be checked then; any other one is checked when the task is constructed.
    """
    if value is None or isinstance(value, bool | int | float):
        return False
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, list | tuple):
        return any(is_template(item) for item in value)
    return True


def check_input(check: Callable[[Any, str], T], value: Any, name: str) -> None:
    """Check a task argument at construction, unless it is a template (then it is checked at run time)."""
    if not is_template(value):
        check(value, name)


def trigger_timeout(deadline: float | None) -> timedelta | None:
    # Airflow's own trigger timeout is only a safety net: the trigger reports the deadline itself.
    if deadline is None:
        return None
    return timedelta(seconds=max(0.0, deadline - time.time()) + 60)


class FlinkJobTask(Generic[HookT]):
    """Mixed into every operator and sensor of a platform, which sets ``hook_class``.

    From the hook's registry entry come the console link and the trigger; ``conn_id`` is always a
    template field. A class without ``hook_class`` (a base) is left alone.
    """

    hook_class: type[HookT]
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
        hook_class = cls.__dict__.get("hook_class")
        if hook_class is None:
            return
        if not (isinstance(hook_class, type) and issubclass(hook_class, FlinkCloudHook)):
            raise TypeError(f"{cls.__qualname__}.hook_class must be a FlinkCloudHook, got {hook_class!r}")
        if "platform" not in hook_class.__dict__:
            raise TypeError(f"{hook_class.__qualname__} names no platform (class ...(..., platform=SPEC))")
        link_class = hook_class.platform.load(hook_class.platform.console_link_path)
        if not issubclass(link_class, FlinkConsoleLink):
            raise TypeError(
                f"{link_class!r} (console link of {hook_class.platform.name}) is no FlinkConsoleLink"
            )
        if "operator_extra_links" not in cls.__dict__:
            cls.operator_extra_links = (link_class(),)  # type: ignore[attr-defined]

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
        spec = self.hook_class.platform
        link: type[FlinkConsoleLink] = spec.load(spec.console_link_path)
        return link

    @property
    def trigger_class(self) -> type[FlinkJobTrigger[Any]]:
        # Loaded only by a task that defers, so parsing a DAG file does not import the trigger.
        spec = self.hook_class.platform
        trigger: type[FlinkJobTrigger[Any]] = spec.load(spec.trigger_path)
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
        report = WatchEvent.from_dict(event)
        watch = self.new_watch(
            report.refs, lambda s: Verdict.WAITING, report.awaited, None, dict(report.last_logged)
        )
        return watch.settle(report.decision(), self.timeout_hint)
