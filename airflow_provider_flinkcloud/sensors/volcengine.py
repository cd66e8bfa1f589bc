"""Wait for a Volcengine Flink application instance to reach a state."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud.base.sensors import FlinkJobSensor
from airflow_provider_flinkcloud.core.jobs import JobRef
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook


class VolcengineFlinkInstanceSensor(FlinkJobSensor[VolcengineFlinkHook]):
    """Succeeds when the instance reaches one of ``target_states`` (default ``{"SUCCESS"}``).

    Any other terminal state fails the sensor at once with the job's error text. ``deferrable=True``
    waits in the triggerer.
    """

    hook_class = VolcengineFlinkHook
    template_fields = ("instance_id",)

    def __init__(self, *, instance_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instance_id = instance_id

    def job_ref(self) -> JobRef:
        return {"instance_id": str(self.instance_id)}
