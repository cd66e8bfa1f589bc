"""The Alibaba Cloud Realtime Compute for Apache Flink test kit: deployments created (or updated by
name) and started by one operator, watched by GetJob, stopped by StopJob."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud.emulator import ALIBABA_FLINK_SECRET_KEY, EmulatorControl
from airflow_provider_flinkcloud.models.alibaba_flink import ACTIVE_JOB_STATES
from airflow_provider_flinkcloud.operators.alibaba_flink import (
    AlibabaFlinkDeploymentOperator,
    AlibabaFlinkStopJobOperator,
)
from airflow_provider_flinkcloud.sensors.alibaba_flink import AlibabaFlinkJobSensor
from support.platforms.base import PlatformKit

RESOURCES = {
    "basicResourceSetting": {
        "parallelism": 1,
        "jobmanagerResourceSettingSpec": {"cpu": 1, "memory": "4 GiB"},
        "taskmanagerResourceSettingSpec": {"cpu": 1, "memory": "4 GiB"},
    }
}


def deployment(
    name: str, *, batch: bool = False, sql: str = "INSERT INTO sink SELECT * FROM orders;"
) -> dict[str, Any]:
    """A SQL deployment as CreateDeployment takes it."""
    body: dict[str, Any] = {
        "name": name,
        "executionMode": "BATCH" if batch else "STREAMING",
        "engineVersion": "vvr-8.0.10-flink-1.17",
        "artifact": {"kind": "SQLSCRIPT", "sqlArtifact": {"sqlScript": sql}},
        "deploymentTarget": {"mode": "PER_JOB", "name": "default-queue"},
    }
    if batch:
        body["batchResourceSetting"] = {"maxSlot": 2, **RESOURCES}
    else:
        body["streamingResourceSetting"] = {"resourceSettingMode": "BASIC", **RESOURCES}
    return body


def job_of(start_task_id: str) -> str:
    return f"{{{{ ti.xcom_pull(task_ids='{start_task_id}')['job_id'] }}}}"


class AlibabaFlinkKit(PlatformKit):
    name = "alibaba_flink"
    good_id = "58718c99-3b29-4c5e-93bb-c9fc4ec6a1b2"
    bad_ids = (
        "job_id",
        ["../../x", "abc", "", None, True, "58718c99-3b29-4c5e-93bb-c9fc4ec6a1b2/../x"],
        "must be a UUID such as 58718c99-3b29-4c5e-93bb-c9fc4ec6a1b2",
    )

    def sensor_on(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return AlibabaFlinkJobSensor(task_id=task_id, job_id=job, **kwargs)

    def stop_of(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return AlibabaFlinkStopJobOperator(task_id=task_id, job_id=job, **kwargs)

    secret_key = ALIBABA_FLINK_SECRET_KEY

    streaming_job = "orders-enrichment"
    batch_job = "daily-gmv"
    id_keys = ("job_id", "deployment_id")
    console_id_key = "deployment_id"
    native_running = "RUNNING"
    native_success = "FINISHED"
    native_failed = {"startup": "FAILED", "running": "FAILED"}
    error_text = "org.apache.flink.table.api.ValidationException: Object 'orders' not found"
    status_operation = "GetJob"
    start_operation = "StartJobWithParams"
    stop_operation = "StopJob"
    auth_error_texts = ("SignatureDoesNotMatch", "HTTP 400")
    # parallelism belongs in streamingResourceSetting.basicResourceSetting, not at the top.
    bad_field = "parallelism"
    bad_reason = "Extra inputs are not permitted"

    def start_streaming(self, task_id: str, **kwargs: Any) -> Any:
        return AlibabaFlinkDeploymentOperator(
            task_id=task_id, deployment=deployment(self.streaming_job), **kwargs
        )

    def start_batch(self, task_id: str, **kwargs: Any) -> Any:
        return AlibabaFlinkDeploymentOperator(
            task_id=task_id, deployment=deployment(self.batch_job, batch=True), **kwargs
        )

    def bad_start(self, task_id: str, **kwargs: Any) -> Any:
        bad = {**deployment(self.streaming_job), "parallelism": 4}
        return AlibabaFlinkDeploymentOperator(task_id=task_id, deployment=bad, **kwargs)

    def stop(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return AlibabaFlinkStopJobOperator(task_id=task_id, job_id=job_of(start_task_id), **kwargs)

    def sensor(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return AlibabaFlinkJobSensor(task_id=task_id, job_id=job_of(start_task_id), **kwargs)

    def stop_results(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        return [result]

    def expected_fields(self, job_name: str) -> dict[str, Any]:
        return {"deployment_name": job_name, "namespace": "default-namespace"}

    def active_runs(self, emulator: EmulatorControl, job: str) -> list[str]:
        jobs = emulator.state()[self.name]["jobs"]
        return [
            j["jobId"]
            for j in jobs
            if j["deploymentName"] == job and j["status"]["currentJobStatus"] in ACTIVE_JOB_STATES
        ]

    def start_counts(self, emulator: EmulatorControl, job: str) -> dict[str, int]:
        counters = emulator.counters().get(self.name, {})
        return {
            "creates": counters.get("creates_by_name", {}).get(job, 0),
            "starts": counters.get("starts_by_name", {}).get(job, 0),
        }
