"""Create or update deployments, start and stop their jobs on Alibaba Cloud Realtime Compute for Apache
Flink (fully managed, OpenAPI ``ververica`` 2022-07-18)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.alibaba_flink import (
    optional_namespace_name,
    optional_ververica_id,
    stop_strategy_name,
)
from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.operators import FlinkJobStartOperator, FlinkJobStopOperator
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.registry import ALIBABA_FLINK

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.alibaba_flink import AlibabaFlinkHook, DeploymentUnit
    from airflow_provider_flinkcloud.models.alibaba_flink import AlibabaFlinkDeployment, RestoreStrategy


def _restore_body(restore: Any) -> Any:
    from airflow_provider_flinkcloud.models.alibaba_flink import RestoreStrategy

    return restore.body() if isinstance(restore, RestoreStrategy) else restore


class AlibabaFlinkDeploymentOperator(FlinkJobStartOperator["AlibabaFlinkHook"]):
    """Create a deployment, or update the one of the same name (never a duplicate), then start it.

    :param deployment: the ``Deployment`` body of CreateDeployment as a dict (the API's camelCase keys
        or snake_case) or an :class:`AlibabaFlinkDeployment`: ``name``, ``executionMode``
        (``STREAMING`` / ``BATCH``), ``artifact``, ``deploymentTarget``, and the resource setting of the
        mode (``streamingResourceSetting`` / ``batchResourceSetting``). Checked before any request.
        Names are matched exactly (ListDeployments' filter is not); two deployments of the name fail
        the task naming both.
    :param start: start a job of it (``StartJobWithParams``) and wait per ``wait_for`` (default True);
        with False only the definition is made current.
    :param namespace: default the connection's extra ``namespace``.
    :param restore_strategy: ``"NONE"`` (default, stateless), ``"LATEST_STATE"``,
        ``"LATEST_SAVEPOINT"``, or ``{"kind": "FROM_SAVEPOINT", "savepointId": ...}``.
    :param wait_for: ``"RUNNING"``, ``"SUCCESS"`` or ``None``; default SUCCESS for BATCH, RUNNING for
        STREAMING.
    :param if_running: when a job of the deployment is STARTING or RUNNING: ``"reattach"`` (default;
        the definition is left alone), ``"fail"``, or ``"restart"`` (stop with a savepoint, update the
        definition, start from that savepoint).

    Also ``conn_id``, ``deferrable``, ``poll_interval``, ``timeout`` and ``cancel_on_kill``. Returns
    ``{"platform", "job_id", "deployment_id", "deployment_name", "namespace", "state", "native_state",
    "console_url"}``.
    """

    platform = ALIBABA_FLINK
    template_fields = ("deployment", "namespace", "restore_strategy")
    template_fields_renderers = {"deployment": "json", "restore_strategy": "json"}

    def __init__(
        self,
        *,
        deployment: dict[str, Any] | AlibabaFlinkDeployment,
        start: bool = True,
        namespace: str | None = None,
        restore_strategy: str | dict[str, Any] | RestoreStrategy | None = None,
        **kwargs: Any,
    ) -> None:
        check_input(optional_namespace_name, namespace, "namespace")
        super().__init__(**kwargs)
        self.deployment = deployment
        self.start = start
        self.namespace = namespace
        self.restore_strategy = restore_strategy

    def job_spec(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "namespace": self.namespace,
            "restore_strategy": _restore_body(self.restore_strategy),
        }

    def execute(self, context: Context) -> dict[str, Any]:
        if self.start:
            return super().execute(context)
        return self.define_only(self.validated_spec())

    def define_only(self, unit: DeploymentUnit) -> dict[str, Any]:
        """``start=False``: create or update the definition; the result says which, and starts nothing."""
        record, created = self.hook.upsert(unit)
        params = self.hook.link_params([{"namespace": unit.namespace, "deployment_id": record.deployment_id}])
        return {
            "platform": self.hook.platform_name,
            "deployment_id": record.deployment_id,
            "deployment_name": record.name,
            "namespace": unit.namespace,
            "definition": "created" if created else "updated",
            "console_url": self.console_link_class.format_link(params),
        }


class AlibabaFlinkStartJobOperator(FlinkJobStartOperator["AlibabaFlinkHook"]):
    """Start a job of an existing deployment (``StartJobWithParams``) and wait for it.

    :param deployment_id: the deployment's id; or
    :param deployment_name: its name (matched exactly; none or two of the name fail the task).
    :param restore_strategy: as for :class:`AlibabaFlinkDeploymentOperator`.
    :param namespace: default the connection's extra ``namespace``.

    ``wait_for`` defaults to SUCCESS for a BATCH deployment and RUNNING otherwise (one GetDeployment
    tells). ``if_running``, the other arguments and the result are as for the deployment operator.
    """

    platform = ALIBABA_FLINK
    template_fields = ("deployment_id", "deployment_name", "namespace", "restore_strategy")
    template_fields_renderers = {"restore_strategy": "json"}

    def __init__(
        self,
        *,
        deployment_id: str | None = None,
        deployment_name: str | None = None,
        namespace: str | None = None,
        restore_strategy: str | dict[str, Any] | RestoreStrategy | None = None,
        **kwargs: Any,
    ) -> None:
        if not deployment_id and not deployment_name:
            raise ValueError("deployment_id / deployment_name: give one of them")
        check_input(optional_ververica_id, deployment_id, "deployment_id")
        check_input(optional_namespace_name, namespace, "namespace")
        super().__init__(**kwargs)
        self.deployment_id = deployment_id
        self.deployment_name = deployment_name
        self.namespace = namespace
        self.restore_strategy = restore_strategy

    def job_spec(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id or None,
            "deployment_name": self.deployment_name or None,
            "namespace": self.namespace,
            "restore_strategy": _restore_body(self.restore_strategy),
        }


class AlibabaFlinkStopJobOperator(FlinkJobStopOperator["AlibabaFlinkHook"]):
    """Stop a job (``StopJob``) and wait until it is CANCELLED.

    :param job_id: the job to stop; or
    :param deployment_name: the deployment whose active job to stop (matched exactly).
    :param stop_strategy: ``"NONE"`` (default), ``"STOP_WITH_SAVEPOINT"`` (a savepoint, then stop; a
        later start with ``restore_strategy="LATEST_SAVEPOINT"`` resumes from it) or
        ``"STOP_WITH_DRAIN"`` (drain, for a job stopped for good).
    :param namespace: default the connection's extra ``namespace``.

    Also ``wait`` (default True), ``poll_interval`` and ``timeout``. Stopping a job that is not running
    is a no-op that says so. Returns ``{"platform", "job_id", ..., "stopped", "state", "native_state"}``.
    """

    platform = ALIBABA_FLINK
    template_fields = ("job_id", "deployment_name", "namespace", "stop_strategy")

    def __init__(
        self,
        *,
        job_id: str | None = None,
        deployment_name: str | None = None,
        namespace: str | None = None,
        stop_strategy: str = "NONE",
        **kwargs: Any,
    ) -> None:
        if not job_id and not deployment_name:
            raise ValueError("job_id / deployment_name: give one of them")
        check_input(optional_ververica_id, job_id, "job_id")
        check_input(optional_namespace_name, namespace, "namespace")
        check_input(stop_strategy_name, stop_strategy, "stop_strategy")
        super().__init__(savepoint=stop_strategy != "NONE", **kwargs)
        self.job_id = job_id
        self.deployment_name = deployment_name
        self.namespace = namespace
        self.stop_strategy = stop_strategy

    @cached_property
    def hook(self) -> AlibabaFlinkHook:
        strategy = self.checked(stop_strategy_name, self.stop_strategy, "stop_strategy")
        return self.hook_class(conn_id=self.conn_id, stop_strategy=strategy)

    def execute(self, context: Context) -> dict[str, Any]:
        result = super().execute(context)
        taken = result.get("savepoint")
        if self.wait and result.get("stopped") and isinstance(taken, dict):
            # The job has stopped, so the savepoint its stop took is complete: name it, for a later
            # start with {"kind": "FROM_SAVEPOINT", "savepointId": ...}.
            savepoint = self.hook.savepoint_of_stop(taken)
            taken.update(
                savepoint_id=savepoint.savepoint_id, savepoint_path=savepoint.savepoint_location or ""
            )
        return result

    def job_refs(self) -> list[JobRef]:
        self.savepoint = self.hook.stop_strategy != "NONE"
        namespace = self.checked(
            lambda value, _name: self.hook.namespace_of(value), self.namespace, "namespace"
        )
        job_id = self.checked(optional_ververica_id, self.job_id, "job_id")
        if job_id:
            return [{"job_id": job_id, "namespace": namespace}]
        if not self.deployment_name:
            raise AirflowFailException(
                f"{self.task_id}: job_id / deployment_name: give one of them (both rendered empty)"
            )
        from airflow_provider_flinkcloud.hooks.alibaba_flink import DeploymentUnit

        unit = DeploymentUnit(namespace, deployment_name=str(self.deployment_name))
        try:
            active = self.hook.find_active(unit)
        except JobSpecError as exc:
            raise AirflowFailException(f"{self.task_id}: {exc}") from exc
        return [active] if active else []
