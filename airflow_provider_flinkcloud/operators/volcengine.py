"""Start and cancel Volcengine Flink application instances."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.volcengine import optional_volcengine_id
from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.operators import FlinkJobStartOperator, FlinkJobStopOperator
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import VOLCENGINE

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook  # noqa: F401 (named in the generic base)
    from airflow_provider_flinkcloud.models.volcengine import RestoreStrategy, VolcengineFlinkApp


class VolcengineFlinkStartApplicationOperator(FlinkJobStartOperator["VolcengineFlinkHook"]):
    """Start an instance of a Volcengine Flink application (``StartApplicationInstance``) and watch it.

    :param app: the ``App`` object (dict with the platform's PascalCase keys, snake_case, or a
        :class:`VolcengineFlinkApp`). A first start needs ``UniqueKey``; ``ProjectId`` falls back to
        the connection's ``project_id``.
    :param application_id: the AppId of an existing application (``Id``); ``app`` is then optional.
    :param restore_strategy: ``FROM_NEW`` (default), ``FROM_LATEST``, or a dict
        ``{"Type": "FROM_SAVEPOINT", "SavepointId": ...}``.
    :param wait_for: ``"RUNNING"``, ``"SUCCESS"`` or ``None``; default SUCCESS for ``FLINK_BATCH_*``
        jobs, RUNNING otherwise.
    :param if_running: ``"reattach"`` (default), ``"fail"`` or ``"restart"`` (savepoint, stop, start
        from the savepoint) when an instance of the application is already active.

    Also ``conn_id``, ``deferrable``, ``poll_interval``, ``timeout`` and ``cancel_on_kill``. Returns
    ``{"platform", "instance_id", "application_id", "project_id", "state", "native_state", "console_url"}``.
    """

    platform = VOLCENGINE
    template_fields = ("app", "application_id", "restore_strategy")
    template_fields_renderers = {"app": "json", "restore_strategy": "json"}

    def __init__(
        self,
        *,
        app: dict[str, Any] | VolcengineFlinkApp | None = None,
        application_id: str | None = None,
        restore_strategy: str | dict[str, Any] | RestoreStrategy | None = None,
        **kwargs: Any,
    ) -> None:
        check_input(optional_volcengine_id, application_id, "application_id")
        super().__init__(**kwargs)
        self.app = app
        self.application_id = application_id
        self.restore_strategy = restore_strategy

    def job_spec(self) -> dict[str, Any]:
        from airflow_provider_flinkcloud.models.volcengine import RestoreStrategy

        restore = self.restore_strategy
        if isinstance(restore, RestoreStrategy):
            restore = restore.body()
        return {"application_id": self.application_id, "app": self.app, "restore_strategy": restore}


class VolcengineFlinkCancelInstanceOperator(FlinkJobStopOperator["VolcengineFlinkHook"]):
    """Stop a Volcengine Flink instance (``CancelApplicationInstance``) and wait until it has stopped.

    Give ``instance_id``, or ``application_id`` to stop whatever instance of that application is
    active. With ``savepoint=True`` a savepoint is taken first and returned. Stopping an instance that
    is not running is a no-op that says so.
    """

    platform = VOLCENGINE
    template_fields = ("instance_id", "application_id", "project_id")

    def __init__(
        self,
        *,
        instance_id: str | None = None,
        application_id: str | None = None,
        project_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not instance_id and not application_id:
            raise ValueError("instance_id / application_id: give one of them")
        check_input(optional_volcengine_id, instance_id, "instance_id")
        check_input(optional_volcengine_id, application_id, "application_id")
        super().__init__(**kwargs)
        self.instance_id = instance_id
        self.application_id = application_id
        self.project_id = project_id

    def job_refs(self) -> list[JobRef]:
        instance_id = self.checked(optional_volcengine_id, self.instance_id, "instance_id")
        if instance_id:
            return [{"instance_id": instance_id}]
        application_id = self.checked(optional_volcengine_id, self.application_id, "application_id")
        if not application_id:
            raise AirflowFailException(
                f"{self.task_id}: instance_id / application_id: give one of them (both rendered empty)"
            )
        project_id = self.project_id or self.hook.client.project_id
        if not project_id:
            raise ValueError("project_id: needed to find the active instance of an application")
        active = self.hook.active_instance(project_id, application_id)
        return [active] if active else []
