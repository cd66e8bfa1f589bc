"""Wait for a Huawei Cloud DLI Flink job to reach a state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.huawei_dli import dli_job_id
from airflow_provider_flinkcloud.base.sensors import FlinkJobSensor
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import HUAWEI_DLI

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.huawei_dli import DliFlinkHook  # noqa: F401 (named in the generic base)


class DliFlinkJobSensor(FlinkJobSensor["DliFlinkHook"]):
    """Succeeds when the job reaches one of ``target_states`` (default ``{"SUCCESS"}``: ``job_finish``).

    Any other terminal state (``job_submit_fail``, ``job_running_exception``, ``job_arrearage_stopped``,
    ``job_cancel_success``) fails the sensor at once with the job's ``status_desc``. ``deferrable=True``
    waits in the triggerer.
    """

    platform = HUAWEI_DLI
    template_fields = ("job_id",)

    def __init__(self, *, job_id: int | str, **kwargs: Any) -> None:
        check_input(dli_job_id, job_id, "job_id")
        super().__init__(**kwargs)
        self.job_id = job_id

    def job_ref(self) -> JobRef:
        # Checked after templating and before the first request: the id goes into the URL path.
        return {"job_id": str(self.checked(dli_job_id, self.job_id, "job_id"))}
