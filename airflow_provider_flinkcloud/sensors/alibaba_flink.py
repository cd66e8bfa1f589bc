"""Wait for an Alibaba Cloud Realtime Compute for Apache Flink job to reach a state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.arguments.alibaba_flink import optional_namespace_name, ververica_id
from airflow_provider_flinkcloud.base.sensors import FlinkJobSensor
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import ALIBABA_FLINK

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.alibaba_flink import AlibabaFlinkHook  # noqa: F401 (named in the generic base)


class AlibabaFlinkJobSensor(FlinkJobSensor["AlibabaFlinkHook"]):
    """Succeeds when the job reaches one of ``target_states`` (default ``{"SUCCESS"}``: ``FINISHED``).

    :param job_id: the job (a run of a deployment), e.g. the ``job_id`` a start task returned.
    :param namespace: the job's namespace; default the connection's extra ``namespace``.

    Any other terminal state (``FAILED``, ``CANCELLED``) fails the sensor at once with the job's
    ``status.failure.message``. ``deferrable=True`` waits in the triggerer.
    """

    platform = ALIBABA_FLINK
    template_fields = ("job_id", "namespace")

    def __init__(self, *, job_id: str, namespace: str | None = None, **kwargs: Any) -> None:
        check_input(ververica_id, job_id, "job_id")
        check_input(optional_namespace_name, namespace, "namespace")
        super().__init__(**kwargs)
        self.job_id = job_id
        self.namespace = namespace

    def job_ref(self) -> JobRef:
        # Checked after templating and before the first request: both go into the URL path.
        job_id = self.checked(ververica_id, self.job_id, "job_id")
        namespace = self.checked(
            lambda value, _name: self.hook.namespace_of(value), self.namespace, "namespace"
        )
        return {"job_id": job_id, "namespace": namespace}
