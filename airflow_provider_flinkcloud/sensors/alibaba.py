"""Wait for a Blink job instance to reach a state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.alibaba import (
    blink_instance_id,
    check_job_names,
    checked_job_names,
    instance_ref,
)
from airflow_provider_flinkcloud.base.sensors import FlinkJobSensor
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import ALIBABA

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.alibaba import RealtimeComputeHook  # noqa: F401 (named in the generic base)


class RealtimeComputeInstanceSensor(FlinkJobSensor["RealtimeComputeHook"]):
    """Succeeds when the instance reaches one of ``target_states`` (default ``{"SUCCESS"}``).

    Any other terminal state (FAILED, or TERMINATED: CANCELED) fails the sensor at once with Blink's
    ``LastErrorMessage``. ``deferrable=True`` waits in the triggerer.
    """

    platform = ALIBABA
    template_fields = ("project_name", "job_name", "instance_id")

    def __init__(self, *, project_name: str, job_name: str, instance_id: str | int, **kwargs: Any) -> None:
        check_job_names(project_name, job_name)
        check_input(blink_instance_id, instance_id, "instance_id")
        super().__init__(**kwargs)
        self.project_name = project_name
        self.job_name = job_name
        self.instance_id = instance_id

    def job_ref(self) -> JobRef:
        # Checked after templating and before the first request.
        project_name, job_name = checked_job_names(self, self.project_name, self.job_name)
        return instance_ref(
            project_name, job_name, self.checked(blink_instance_id, self.instance_id, "instance_id")
        )
