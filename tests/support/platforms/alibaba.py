"""The Alibaba Realtime Compute (Blink, foas) test kit: instances of the emulator's committed jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import ALIBABA_SECRET_KEY, Emulator, EmulatorControl
from airflow_provider_flinkcloud.emulator.alibaba import DEFAULT_PROJECT
from airflow_provider_flinkcloud.operators.alibaba import (
    RealtimeComputeStartJobOperator,
    RealtimeComputeStopInstanceOperator,
)
from airflow_provider_flinkcloud.sensors.alibaba import RealtimeComputeInstanceSensor
from support.platforms.base import PlatformKit

PROJECT = DEFAULT_PROJECT
LIVE_STATES = ("WAITING", "RUNNING", "PAUSED")


def blink_connections(
    emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """A fixture (``blink_conn = pytest.fixture(blink_connections)``): points
    ``alibaba_realtime_compute_default`` at the emulator; call it to add another connection."""
    from support.fixtures import _connections_to

    return _connections_to(AlibabaKit(), emulator_server.url, monkeypatch)


def instance_of(start_task_id: str) -> str:
    return f"{{{{ ti.xcom_pull(task_ids='{start_task_id}')['instance_id'] }}}}"


class AlibabaKit(PlatformKit):
    name = "alibaba"
    good_id = "412536"
    bad_ids = (
        "instance_id",
        ["../../x", "abc", "", None, True, "-1", "0", "18401234567890123456789"],
        "must be a Blink instance id (a positive int64, as digits)",
    )

    def sensor_on(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return RealtimeComputeInstanceSensor(
            task_id=task_id, project_name=PROJECT, job_name=self.streaming_job, instance_id=job, **kwargs
        )

    def stop_of(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        return RealtimeComputeStopInstanceOperator(
            task_id=task_id, project_name=PROJECT, job_name=self.streaming_job, instance_id=job, **kwargs
        )

    secret_key = ALIBABA_SECRET_KEY

    # Committed jobs the emulator holds in its project: a FLINK_STREAM and a FLINK_BATCH one.
    streaming_job = "orders-enrichment"
    batch_job = "daily-rollup"
    id_keys = ("project_name", "job_name", "instance_id")
    console_id_key = "instance_id"
    native_running = "RUNNING"
    native_success = "SUCCESS"
    native_failed = {"startup": "FAILED", "running": "FAILED"}
    error_text = "org.apache.flink.table.api.ValidationException: Table 'orders' not found"
    status_operation = "GetInstance"
    start_operation = "StartJob"
    stop_operation = "ModifyInstanceState"
    auth_error_texts = ("SignatureDoesNotMatch", "HTTP 400")
    # StartJob's parameterJson is an object of options, not a list.
    bad_field = "parameters"
    bad_reason = "must be a dict (or a JSON object as text)"

    def start(self, task_id: str, job: str, **kwargs: Any) -> Any:
        return RealtimeComputeStartJobOperator(task_id=task_id, project_name=PROJECT, job_name=job, **kwargs)

    def start_streaming(self, task_id: str, **kwargs: Any) -> Any:
        return self.start(task_id, self.streaming_job, **kwargs)

    def start_batch(self, task_id: str, **kwargs: Any) -> Any:
        return self.start(task_id, self.batch_job, **kwargs)

    def bad_start(self, task_id: str, **kwargs: Any) -> Any:
        return self.start(task_id, self.streaming_job, parameters=["startOffset", "1730103603000"], **kwargs)

    def stop(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        return RealtimeComputeStopInstanceOperator(
            task_id=task_id,
            project_name=PROJECT,
            job_name=self.streaming_job,
            instance_id=instance_of(start_task_id),
            **kwargs,
        )

    def sensor(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        # The sensor runs after a start of either job; the job name comes from that start's result.
        job = f"{{{{ ti.xcom_pull(task_ids='{start_task_id}')['job_name'] }}}}"
        instance_id = instance_of(start_task_id)
        return RealtimeComputeInstanceSensor(
            task_id=task_id, project_name=PROJECT, job_name=job, instance_id=instance_id, **kwargs
        )

    def stop_results(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        return [result]

    def expected_fields(self, job_name: str) -> dict[str, Any]:
        return {"project_name": PROJECT, "job_name": job_name}

    def active_runs(self, emulator: EmulatorControl, job: str) -> list[str]:
        instances = emulator.state()[self.name]["instances"]
        return [
            str(i["Id"])
            for i in instances
            if i["JobName"] == job and i["ActualState"] in LIVE_STATES and i["ExpectState"] != "TERMINATED"
        ]

    def start_counts(self, emulator: EmulatorControl, job: str) -> dict[str, int]:
        starts = emulator.counters().get(self.name, {}).get("starts_by_name", {})
        return {"starts": starts.get(job, 0)}
