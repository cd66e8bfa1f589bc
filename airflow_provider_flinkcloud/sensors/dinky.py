"""Wait for a Dinky job instance to reach a state."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.dinky import dinky_id
from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.sensors import FlinkJobSensor
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import DINKY

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.dinky import DinkyHook  # noqa: F401 (named in the generic base)


class DinkyJobInstanceSensor(FlinkJobSensor["DinkyHook"]):
    """Succeeds when the job instance reaches one of ``target_states`` (default ``{"SUCCESS"}``:
    FINISHED).

    :param job_instance_id: the instance to watch (``job_instance_id`` of a submit's result), or
    :param dinky_task_id: a Dinky task, whose newest job instance is watched (looked up once).

    Any other terminal state fails the sensor at once with the instance's ``error``: FAILED once it
    has held ``failed_hold_seconds`` (connection extra, default 60), CANCELED, and UNKNOWN (unless the
    connection sets ``fail_on_unknown`` false). ``deferrable=True`` waits in the triggerer.
    """

    platform = DINKY
    template_fields = ("job_instance_id", "dinky_task_id")

    def __init__(
        self,
        *,
        job_instance_id: int | str | None = None,
        dinky_task_id: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        if job_instance_id is not None and dinky_task_id is not None:
            raise ValueError("give job_instance_id or dinky_task_id, not both")
        if dinky_task_id is None:
            check_input(dinky_id, job_instance_id, "job_instance_id")
        else:
            check_input(dinky_id, dinky_task_id, "dinky_task_id")
        super().__init__(**kwargs)
        self.job_instance_id = job_instance_id
        self.dinky_task_id = dinky_task_id

    def job_ref(self) -> JobRef:
        return self._job_ref

    @cached_property
    def _job_ref(self) -> JobRef:
        # Checked after templating and before the first request.
        if self.dinky_task_id is None:
            return {"job_instance_id": str(self.checked(dinky_id, self.job_instance_id, "job_instance_id"))}
        task_id = self.checked(dinky_id, self.dinky_task_id, "dinky_task_id")
        ref = self.hook.newest_ref(task_id)
        if ref is None:
            raise AirflowFailException(f"{self.task_id}: Dinky task {task_id} has no job instance to watch")
        return ref
