"""The Huawei Cloud DLI test kit: jobs created (or updated by name) and run by one operator."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud.emulator import (
    DLI_SECRET_KEY,
    EmulatorControl,
)
from airflow_provider_flinkcloud.models.huawei_dli import ACTIVE_STATUSES
from airflow_provider_flinkcloud.operators.huawei_dli import (
    DliFlinkCreateJarJobOperator,
    DliFlinkCreateSqlJobOperator,
    DliFlinkStopJobsOperator,
)
from airflow_provider_flinkcloud.sensors.huawei_dli import DliFlinkJobSensor
from support.platforms.base import PlatformKit

BATCH_SQL = "SET 'execution.runtime-mode' = 'batch';\nINSERT INTO gmv SELECT dt, SUM(x) FROM t GROUP BY dt;"


def jar_job(name: str = "clickstream-sessionizer", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "queue_name": "flink_queue",
        "entrypoint": "obs://jobs/sessionizer.jar",
        "main_class": "com.example.Sessionizer",
        "cu_number": 2,
        **extra,
    }


def sql_job(
    name: str = "orders-enrichment", sql: str = "INSERT INTO sink SELECT * FROM orders;"
) -> dict[str, Any]:
    return {"name": name, "queue_name": "flink_queue", "run_mode": "exclusive_cluster", "sql_body": sql}


def job_of(start_task_id: str) -> str:
    return f"{{{{ ti.xcom_pull(task_ids='{start_task_id}')['job_id'] }}}}"


class HuaweiDliKit(PlatformKit):
    name = "huawei_dli"
    good_id = "101"
    bad_ids = ("job_id", ["../../x", "abc", None, True, 0, "101/../102"], "DLI job ids are positive integers")

    def sensor_on(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return DliFlinkJobSensor(task_id=task_id, job_id=job, **kwargs)

    def stop_of(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return DliFlinkStopJobsOperator(task_id=task_id, job_ids=job, **kwargs)

    secret_key = DLI_SECRET_KEY

    # A streaming Jar job and a bounded SQL job, so both create operators are driven.
    streaming_job = "clickstream-sessionizer"
    batch_job = "daily-gmv"
    id_keys = ("job_id",)
    console_id_key = "job_id"
    native_running = "job_running"
    native_success = "job_finish"
    native_failed = {"startup": "job_submit_fail", "running": "job_running_exception"}
    error_text = "Flink job failed: java.lang.ClassNotFoundException: com.example.Sessionizer"
    status_operation = "ShowFlinkJob"
    start_operation = "BatchRunFlinkJobs"
    stop_operation = "BatchStopFlinkJobs"
    auth_error_texts = ("APIG.0301", "HTTP 401")
    # DLI's field is ``queue_name``.
    bad_field = "queue"
    bad_reason = "Extra inputs are not permitted"

    def start_streaming(self, task_id: str, **kwargs: Any) -> Any:
        return DliFlinkCreateJarJobOperator(task_id=task_id, job=jar_job(self.streaming_job), **kwargs)

    def start_batch(self, task_id: str, **kwargs: Any) -> Any:
        return DliFlinkCreateSqlJobOperator(task_id=task_id, job=sql_job(self.batch_job, BATCH_SQL), **kwargs)

    def bad_start(self, task_id: str, **kwargs: Any) -> Any:
        return DliFlinkCreateJarJobOperator(task_id=task_id, job=jar_job(queue="q"), **kwargs)

    def stop(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return DliFlinkStopJobsOperator(task_id=task_id, job_ids=job_of(start_task_id), **kwargs)

    def sensor(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return DliFlinkJobSensor(task_id=task_id, job_id=job_of(start_task_id), **kwargs)

    def stop_results(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        return list(result["jobs"])

    def expected_fields(self, job_name: str) -> dict[str, Any]:
        return {"job_name": job_name}

    def active_runs(self, emulator: EmulatorControl, job: str) -> list[str]:
        jobs = emulator.state()[self.name]["jobs"]
        return [str(j["job_id"]) for j in jobs if j["name"] == job and j["status"] in ACTIVE_STATUSES]

    def start_counts(self, emulator: EmulatorControl, job: str) -> dict[str, int]:
        counters = emulator.counters().get(self.name, {})
        return {
            "creates": counters.get("creates_by_name", {}).get(job, 0),
            "runs": counters.get("runs_by_name", {}).get(job, 0),
        }
