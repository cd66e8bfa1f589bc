"""The Volcengine Flink test kit: applications started by ``VolcengineFlinkStartApplicationOperator``."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud.emulator import (
    VOLCENGINE_SECRET_KEY,
    EmulatorControl,
)
from airflow_provider_flinkcloud.operators.volcengine import (
    VolcengineFlinkCancelInstanceOperator,
    VolcengineFlinkStartApplicationOperator,
)
from airflow_provider_flinkcloud.sensors.volcengine import VolcengineFlinkInstanceSensor
from support.platforms.base import PlatformKit

PROJECT_ID = "flinkcloud-test"


def streaming_app(name: str = "orders-enrichment") -> dict[str, Any]:
    return {
        "JobType": "FLINK_STREAMING_SQL",
        "JobName": name,
        "UniqueKey": f"{name}-key",
        "EngineVersion": "FLINK_VERSION_1_16",
        "SqlText": "INSERT INTO sink SELECT * FROM orders;",
        "DeployRequest": {"Queue": "default", "ResourcePool": "pool-a", "SchedulePolicy": "GANG"},
    }


def batch_app(name: str = "daily-rollup") -> dict[str, Any]:
    return {
        "JobType": "FLINK_BATCH_JAR",
        "JobName": name,
        "UniqueKey": f"{name}-key",
        "Jar": "tos://bucket/jobs/rollup.jar",
        "MainClass": "com.example.Rollup",
        "Args": "--day 2024-01-01",
    }


def instance_of(start_task_id: str) -> str:
    return f"{{{{ ti.xcom_pull(task_ids='{start_task_id}')['instance_id'] }}}}"


class VolcengineKit(PlatformKit):
    name = "volcengine"
    good_id = "1840123456789012345"
    bad_ids = (
        "instance_id",
        ["../../x", "abc", "", None, True, "-1", "18401234567890123456789"],
        "must be a Volcengine id (a positive int64, as digits)",
    )

    def sensor_on(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return VolcengineFlinkInstanceSensor(task_id=task_id, instance_id=job, **kwargs)

    def stop_of(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return VolcengineFlinkCancelInstanceOperator(task_id=task_id, instance_id=job, **kwargs)

    secret_key = VOLCENGINE_SECRET_KEY

    streaming_job = "orders-enrichment"
    batch_job = "daily-rollup"
    id_keys = ("project_id", "application_id", "instance_id")
    console_id_key = "application_id"
    native_running = "RUNNING"
    native_success = "SUCCEEDED"
    native_failed = {"startup": "FAILED", "running": "FAILED"}
    error_text = "org.apache.flink.table.api.ValidationException: Table 'orders' not found in catalog"
    status_operation = "GetApplicationInstance"
    start_operation = "StartApplicationInstance"
    stop_operation = "CancelApplicationInstance"
    auth_error_texts = ("SignatureDoesNotMatch", "HTTP 401")
    # ``SchedulePolicy`` belongs in ``DeployRequest``, not at the top of the App.
    bad_field = "App.SchedulePolicy"
    bad_reason = "Extra inputs are not permitted"

    def start_streaming(self, task_id: str, **kwargs: Any) -> Any:
        return VolcengineFlinkStartApplicationOperator(task_id=task_id, app=streaming_app(), **kwargs)

    def start_batch(self, task_id: str, **kwargs: Any) -> Any:
        return VolcengineFlinkStartApplicationOperator(task_id=task_id, app=batch_app(), **kwargs)

    def bad_start(self, task_id: str, **kwargs: Any) -> Any:
        bad = {**streaming_app(), "SchedulePolicy": "GANG"}
        return VolcengineFlinkStartApplicationOperator(task_id=task_id, app=bad, **kwargs)

    def stop(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return VolcengineFlinkCancelInstanceOperator(
            task_id=task_id, instance_id=instance_of(start_task_id), **kwargs
        )

    def sensor(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return VolcengineFlinkInstanceSensor(
            task_id=task_id, instance_id=instance_of(start_task_id), **kwargs
        )

    def stop_results(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        return [result]

    def expected_fields(self, job_name: str) -> dict[str, Any]:
        return {"project_id": PROJECT_ID}

    def active_runs(self, emulator: EmulatorControl, job: str) -> list[str]:
        instances = emulator.state()[self.name]["instances"]
        return [i["Id"] for i in instances if i["JobName"] == job and i["State"] in ("STARTING", "RUNNING")]

    def start_counts(self, emulator: EmulatorControl, job: str) -> dict[str, int]:
        starts = emulator.counters().get(self.name, {}).get("starts_by_name", {})
        return {"starts": starts.get(job, 0)}
