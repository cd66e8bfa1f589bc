"""Submit a Dinky task, take a savepoint of its job, cancel it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.dinky import dinky_id, dinky_savepoint_type
from airflow_provider_flinkcloud.base.compat import AirflowFailException, BaseOperator
from airflow_provider_flinkcloud.base.operators import FlinkJobStartOperator, FlinkJobStopOperator
from airflow_provider_flinkcloud.base.tasks import FlinkJobTask
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.registry import DINKY

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.dinky import DinkyHook  # noqa: F401 (named in the generic base)


class DinkySubmitTaskOperator(FlinkJobStartOperator["DinkyHook"]):
    """Submit a Dinky task (``POST /openapi/submitTask``) and watch its job instance.

    :param dinky_task_id: the Dinky task's id (Airflow's own ``task_id`` names this Airflow task).
    :param variables: values for the task's ``${...}`` variables (they take priority over Dinky's
        global variables).
    :param savepoint_path: start the job from this savepoint.
    :param wait_for: ``"RUNNING"``, ``"SUCCESS"`` or ``None``. Default: SUCCESS when the submit's reply
        says the task is a batch task (``jobConfig.batchModel``), else RUNNING.
    :param if_running: Dinky's submit has no "already running" check, so the task's newest job instance
        is looked at first: ``"reattach"`` (default: watch it, submit nothing), ``"fail"``, or
        ``"restart"`` (stop it with a savepoint, then submit from that savepoint).

    Also ``conn_id``, ``deferrable``, ``poll_interval``, ``timeout`` and ``cancel_on_kill``. Returns
    ``{"platform", "dinky_task_id", "job_instance_id", "jid", "state", "native_state", "console_url"}``.
    """

    platform = DINKY
    template_fields = ("dinky_task_id", "variables", "savepoint_path")
    template_fields_renderers = {"variables": "json"}

    def __init__(
        self,
        *,
        dinky_task_id: int | str,
        variables: dict[str, Any] | None = None,
        savepoint_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_input(dinky_id, dinky_task_id, "dinky_task_id")
        super().__init__(**kwargs)
        self.dinky_task_id = dinky_task_id
        self.variables = variables
        self.savepoint_path = savepoint_path

    def job_spec(self) -> dict[str, Any]:
        return {
            "dinky_task_id": self.dinky_task_id,
            "variables": self.variables,
            "savepoint_path": self.savepoint_path,
        }

    def execute(self, context: Context) -> dict[str, Any]:
        # As the base, but the default wait_for is decided once Dinky has said what the task is.
        spec = self.validated_spec()
        deadline = time.time() + self.timeout if self.timeout else None
        self.hook.deadline = deadline
        refs = self.start_or_reattach(context, spec, deadline)
        wait_for = self.hook.wait_for_started(refs[0]) if self.wait_for == "default" else self.wait_for
        return self.watch(refs, wait_for, deadline)


class DinkyCancelJobOperator(FlinkJobStopOperator["DinkyHook"]):
    """Cancel the job of a Dinky task (its newest job instance) and wait until it has stopped.

    :param dinky_task_id: the Dinky task whose job to cancel. A job that is not running is reported,
        not an error.
    :param with_savepoint: stop it with a savepoint (``/openapi/savepoint`` type ``cancel``); the result
        carries ``savepoint: {"savepoint_path": ...}`` for a later submit's ``savepoint_path``.

    Also ``wait`` (default True), ``poll_interval`` and ``timeout``. Returns ``{"platform",
    "dinky_task_id", "job_instance_id", "stopped", "state", "native_state", ...}``.
    """

    platform = DINKY
    template_fields = ("dinky_task_id",)

    def __init__(self, *, dinky_task_id: int | str, with_savepoint: bool = False, **kwargs: Any) -> None:
        check_input(dinky_id, dinky_task_id, "dinky_task_id")
        super().__init__(savepoint=with_savepoint, **kwargs)
        self.dinky_task_id = dinky_task_id
        self.with_savepoint = with_savepoint

    def job_refs(self) -> list[JobRef]:
        ref = self.hook.newest_ref(self.checked(dinky_id, self.dinky_task_id, "dinky_task_id"))
        return [ref] if ref is not None else []


class DinkySavepointOperator(FlinkJobTask["DinkyHook"], BaseOperator):
    """Take a savepoint of a Dinky task's running job (``POST /openapi/savepoint``).

    :param dinky_task_id: the Dinky task.
    :param savepoint_type: ``"trigger"`` (default: the job runs on), ``"stop"`` (stop with a savepoint,
        the job ends FINISHED) or ``"cancel"`` (cancel with a savepoint).

    Returns ``{"platform", "dinky_task_id", "job_instance_id", "jid", "savepoint_path", "state",
    "native_state", "console_url"}``.
    """

    platform = DINKY
    template_fields = ("dinky_task_id", "savepoint_type")
    ui_color = "#f2efe6"

    def __init__(
        self,
        *,
        dinky_task_id: int | str,
        savepoint_type: str = "trigger",
        conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_input(dinky_id, dinky_task_id, "dinky_task_id")
        check_input(dinky_savepoint_type, savepoint_type, "savepoint_type")
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_id
        self.dinky_task_id = dinky_task_id
        self.savepoint_type = savepoint_type
        self.poll_interval = 10.0

    def execute(self, context: Context) -> dict[str, Any]:
        hook = self.hook
        task_id = self.checked(dinky_id, self.dinky_task_id, "dinky_task_id")
        ref = hook.newest_ref(task_id)
        status = self.poll(ref) if ref is not None else None
        if ref is None or status is None or not hook.is_active(status):
            state = f" (it is {status.native_state})" if status is not None else ""
            raise AirflowFailException(
                f"{self.task_id}: Dinky task {task_id} has no running job to savepoint{state}"
            )
        self.persist(context, [status.ref])
        try:
            path = hook.savepoint(status.ref, self.savepoint_type)
        except JobSpecError as exc:
            raise AirflowFailException(f"{self.task_id}: {exc}") from exc
        self.log.info("Savepoint of %s: %s", hook.describe(status.ref), path or "(Dinky named no path)")
        return {
            "platform": hook.platform_name,
            **status.ref,
            "savepoint_path": path,
            # The job as it was when the savepoint was asked for (a "trigger" leaves it running).
            "state": status.state.value,
            "native_state": status.native_state,
            "console_url": status.console_url,
        }
