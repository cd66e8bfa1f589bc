"""Start and stop instances of Alibaba Cloud Realtime Compute (Blink) jobs (foas 2018-11-11)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.alibaba import (
    check_job_names,
    checked_job_names,
    instance_ref,
    optional_blink_instance_id,
)
from airflow_provider_flinkcloud.base.operators import FlinkJobStartOperator, FlinkJobStopOperator
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import ALIBABA

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.alibaba import RealtimeComputeHook  # noqa: F401 (named in the generic base)


class RealtimeComputeStartJobOperator(FlinkJobStartOperator["RealtimeComputeHook"]):
    """Start an instance of a committed Blink job (``StartJob``) and watch it.

    :param project_name: the Blink project.
    :param job_name: the job, created and committed (published) in the Blink console.
    :param parameters: StartJob's ``parameterJson`` as a dict (or JSON text), e.g.
        ``{"startOffset": "1730103603000"}`` (epoch milliseconds to read the sources from).
    :param wait_for: ``"RUNNING"``, ``"SUCCESS"`` or ``None``; default SUCCESS for ``FLINK_BATCH`` jobs,
        RUNNING for ``FLINK_STREAM`` jobs (read with ``GetJob``).
    :param if_running: ``"reattach"`` (default), ``"fail"`` or ``"restart"`` (stop with a checkpoint,
        then start again) when the job already has a live instance.

    Also ``conn_id``, ``deferrable``, ``poll_interval``, ``timeout`` and ``cancel_on_kill``. Returns
    ``{"platform", "project_name", "job_name", "instance_id", "state", "native_state", "console_url"}``.
    """

    platform = ALIBABA
    template_fields = ("project_name", "job_name", "parameters")
    template_fields_renderers = {"parameters": "json"}

    def __init__(
        self,
        *,
        project_name: str,
        job_name: str,
        parameters: dict[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        check_job_names(project_name, job_name)
        super().__init__(**kwargs)
        self.project_name = project_name
        self.job_name = job_name
        self.parameters = parameters

    def job_spec(self) -> dict[str, Any]:
        return {"project_name": self.project_name, "job_name": self.job_name, "parameters": self.parameters}


class RealtimeComputeStopInstanceOperator(FlinkJobStopOperator["RealtimeComputeHook"]):
    """Stop a Blink job instance (``ModifyInstanceState`` to ``TERMINATED``) and wait until it has stopped.

    Give ``instance_id``, or leave it out to stop whatever instance of the job is live. With
    ``trigger_checkpoint=True`` (or ``savepoint=True``) Blink takes a checkpoint as it stops (Blink >=
    3.5.0). Stopping an instance that is not running is a no-op that says so.
    """

    platform = ALIBABA
    template_fields = ("project_name", "job_name", "instance_id")

    def __init__(
        self,
        *,
        project_name: str,
        job_name: str,
        instance_id: str | int | None = None,
        trigger_checkpoint: bool | None = None,
        **kwargs: Any,
    ) -> None:
        check_job_names(project_name, job_name)
        check_input(optional_blink_instance_id, instance_id, "instance_id")
        if trigger_checkpoint is not None:
            kwargs["savepoint"] = trigger_checkpoint
        super().__init__(**kwargs)
        self.project_name = project_name
        self.job_name = job_name
        self.instance_id = instance_id

    def job_refs(self) -> list[JobRef]:
        # Checked after templating and before the first request.
        project_name, job_name = checked_job_names(self, self.project_name, self.job_name)
        instance_id = self.checked(optional_blink_instance_id, self.instance_id, "instance_id")
        if instance_id:
            return [instance_ref(project_name, job_name, instance_id)]
        active = self.hook.active_instance(project_name, job_name)
        return [active] if active else []
