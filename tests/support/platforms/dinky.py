"""The Dinky test kit: tasks of the emulator's catalogue submitted by id, watched by job instance."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_flinkcloud.emulator import EmulatorControl
from airflow_provider_flinkcloud.emulator.dinky import DEFAULT_TASKS, DINKY_API_TOKEN
from airflow_provider_flinkcloud.models.dinky import ACTIVE_STATUSES
from airflow_provider_flinkcloud.operators.dinky import DinkyCancelJobOperator, DinkySubmitTaskOperator
from airflow_provider_flinkcloud.sensors.dinky import DinkyJobInstanceSensor
from support.platforms.base import PlatformKit

TASK_IDS = {task.name: task.id for task in DEFAULT_TASKS}


def from_xcom(start_task_id: str, key: str) -> str:
    return f"{{{{ ti.xcom_pull(task_ids='{start_task_id}')['{key}'] }}}}"


class DinkyKit(PlatformKit):
    name = "dinky"
    good_id = "1"
    bad_ids = (
        "job_instance_id",
        ["../../x", "abc", "", None, True, 0, "7/../8", "2147483648"],
        "Dinky ids are positive integers (at most 2147483647)",
    )

    def sensor_on(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return DinkyJobInstanceSensor(task_id=task_id, job_instance_id=job, **kwargs)

    def stop_of(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return DinkyCancelJobOperator(task_id=task_id, dinky_task_id=job, **kwargs)

    secret_key = DINKY_API_TOKEN

    streaming_job = "orders_enrichment"
    batch_job = "daily_gmv"
    id_keys = ("dinky_task_id", "job_instance_id")
    console_id_key = "job_instance_id"
    native_running = "RUNNING"
    native_success = "FINISHED"
    native_failed = {"startup": "FAILED", "running": "FAILED"}
    error_text = (
        "org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy"
    )
    status_operation = "getJobInstance"
    start_operation = "submitTask"
    stop_operation = "cancel"
    # A wrong API token: /api/tokenInfo answers HTTP 401 with code 7.
    auth_error_texts = ("AUTHORIZE_ERROR(7)", "HTTP 401")
    bad_field = "variables"
    bad_reason = "region: a variable value is text or a number"

    def connection(self, url: str, **overrides: Any) -> str:
        """Addressed as users address Dinky, by host / port / schema (the emulator's own connection
        names it by extra ``endpoint``); FAILED is final at once here (the hold is tested in
        test_dinky_specifics.py)."""
        address = urlsplit(url)
        fields = {"host": address.hostname, "port": address.port, "schema": address.scheme, **overrides}
        extra = {"failed_hold_seconds": 0, **fields.pop("extra", {})}
        conn = json.loads(super().connection(url, extra=extra, **fields))
        if "endpoint" not in extra:
            conn["extra"].pop("endpoint", None)
        return json.dumps(conn)

    def start_streaming(self, task_id: str, **kwargs: Any) -> Any:
        return DinkySubmitTaskOperator(task_id=task_id, dinky_task_id=TASK_IDS[self.streaming_job], **kwargs)

    def start_batch(self, task_id: str, **kwargs: Any) -> Any:
        return DinkySubmitTaskOperator(task_id=task_id, dinky_task_id=TASK_IDS[self.batch_job], **kwargs)

    def bad_start(self, task_id: str, **kwargs: Any) -> Any:
        return DinkySubmitTaskOperator(
            task_id=task_id, dinky_task_id=TASK_IDS[self.batch_job], variables={"region": {"eu": 1}}, **kwargs
        )

    def stop(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return DinkyCancelJobOperator(
            task_id=task_id, dinky_task_id=from_xcom(start_task_id, "dinky_task_id"), **kwargs
        )

    def sensor(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return DinkyJobInstanceSensor(
            task_id=task_id, job_instance_id=from_xcom(start_task_id, "job_instance_id"), **kwargs
        )

    def stop_results(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        return [result]

    def expected_fields(self, job_name: str) -> dict[str, Any]:
        return {"dinky_task_id": str(TASK_IDS[job_name])}

    def active_runs(self, emulator: EmulatorControl, job: str) -> list[str]:
        instances = emulator.state()[self.name]["instances"]
        return [str(i["id"]) for i in instances if i["name"] == job and i["status"] in ACTIVE_STATUSES]

    def start_counts(self, emulator: EmulatorControl, job: str) -> dict[str, int]:
        counters = emulator.counters().get(self.name, {})
        return {"submits": counters.get("submits_by_name", {}).get(job, 0)}


__all__ = ["TASK_IDS", "DinkyKit"]
