"""Wait for a Volcengine Flink application instance to reach a state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.volcengine import volcengine_id
from airflow_provider_flinkcloud.base.sensors import FlinkJobSensor
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import VOLCENGINE

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook  # noqa: F401 (named in the generic base)


class VolcengineFlinkInstanceSensor(FlinkJobSensor["VolcengineFlinkHook"]):
    """Succeeds when the instance reaches one of ``target_states`` (default ``{"SUCCESS"}``).

    Any other terminal state fails the sensor at once with the job's error text. ``deferrable=True``
    waits in the triggerer.
    """

    platform = VOLCENGINE
    template_fields = ("instance_id",)

    def __init__(self, *, instance_id: str, **kwargs: Any) -> None:
        check_input(volcengine_id, instance_id, "instance_id")
        super().__init__(**kwargs)
        self.instance_id = instance_id

    def job_ref(self) -> JobRef:
        # Checked after templating and before the first request.
        return {"instance_id": self.checked(volcengine_id, self.instance_id, "instance_id")}
