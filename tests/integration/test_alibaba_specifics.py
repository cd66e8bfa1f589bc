"""What only Blink (foas) does, run by real Airflow against the emulator: restarts that stop with a
checkpoint, stopping the live instance of a job, uncommitted jobs, StartJob's parameters, STS keys and
the trigger's row.

The behaviours every platform shares are in ``test_contract.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import (
    ALIBABA_STS_ACCESS_KEY,
    ALIBABA_STS_SECRET_KEY,
    ALIBABA_STS_TOKEN,
    EmulatorControl,
)
from airflow_provider_flinkcloud.hooks.alibaba import RealtimeComputeHook
from airflow_provider_flinkcloud.operators.alibaba import (
    RealtimeComputeStartJobOperator,
    RealtimeComputeStopInstanceOperator,
)
from airflow_provider_flinkcloud.triggers.alibaba import RealtimeComputeInstanceTrigger
from support.airflow_run import run_dag
from support.platforms.alibaba import PROJECT, blink_connections

pytestmark = pytest.mark.integration

STREAM_JOB = "fraud-alerts"
blink_conn = pytest.fixture(blink_connections)


def instances(emulator: EmulatorControl, job: str) -> list[dict[str, Any]]:
    return [i for i in emulator.state()["alibaba"]["instances"] if i["JobName"] == job]


def start(task_id: str, job: str = STREAM_JOB, **kwargs: Any) -> RealtimeComputeStartJobOperator:
    return RealtimeComputeStartJobOperator(
        task_id=task_id, project_name=PROJECT, job_name=job, poll_interval=0.2, **kwargs
    )


def test_if_running_restart_stops_with_a_checkpoint_and_starts_again(make_dag, blink_conn, emulator) -> None:
    with make_dag("first") as dag:
        start("start")
    first = run_dag(dag).xcom("start")
    with make_dag("restart") as dag:
        start("restart", if_running="restart")
    run = run_dag(dag)
    assert run.task_states == {"restart": "success"}
    second = run.xcom("restart")
    assert second["instance_id"] != first["instance_id"] and second["state"] == "RUNNING"
    by_id = {str(i["Id"]): i for i in instances(emulator, STREAM_JOB)}
    assert by_id[first["instance_id"]]["ActualState"] == "TERMINATED"
    assert by_id[first["instance_id"]]["CheckpointOnStop"] is True
    counters = emulator.counters()["alibaba"]
    assert counters["starts_by_name"] == {STREAM_JOB: 2} and counters["stops_by_name"] == {STREAM_JOB: 1}


def test_a_stop_without_an_instance_id_stops_the_live_instance(make_dag, blink_conn, emulator) -> None:
    with make_dag("stop_live") as dag:
        started = start("start")
        stop = RealtimeComputeStopInstanceOperator(
            task_id="stop", project_name=PROJECT, job_name=STREAM_JOB, poll_interval=0.2
        )
        started >> stop
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "stop": "success"}
    stopped = run.xcom("stop")
    assert stopped["stopped"] is True and stopped["instance_id"] == run.xcom("start")["instance_id"]
    assert stopped["native_state"] == "TERMINATED"
    assert [i["CheckpointOnStop"] for i in instances(emulator, STREAM_JOB)] == [False]


def test_an_uncommitted_job_fails_the_task_for_good_without_a_start(
    make_dag, blink_conn, emulator, task_logs
) -> None:
    hook = RealtimeComputeHook()
    body = {"jobName": "draft-job", "jobType": "FLINK_BATCH", "apiType": "SQL", "code": "SELECT 1"}
    hook.call(
        hook.client.roa("CreateJob", "POST", f"/api/v2/projects/{PROJECT}/jobs", lambda r: r, body=body)
    )
    with make_dag("uncommitted") as dag:
        start("start", job="draft-job", retries=2)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    assert "is not committed: commit (publish) it in the Blink console" in task_logs()
    assert "StartJob" not in emulator.counters()["alibaba"]["calls"]


def test_templated_parameters_reach_start_job_as_parameter_json(make_dag, blink_conn, emulator) -> None:
    with make_dag("parameters") as dag:
        start("start", job="daily-rollup", parameters={"bizdate": "{{ 'day-' ~ 7 }}", "retries": 3})
    assert run_dag(dag).task_states == {"start": "success"}
    [instance] = instances(emulator, "daily-rollup")
    assert instance["ParameterJson"] == '{"bizdate":"day-7","retries":3}'


def test_sts_credentials_start_a_job(make_dag, blink_conn, emulator) -> None:
    conn_id = blink_conn(
        "blink_sts",
        login=ALIBABA_STS_ACCESS_KEY,
        password=ALIBABA_STS_SECRET_KEY,
        extra={"security_token": ALIBABA_STS_TOKEN},
    )
    with make_dag("sts") as dag:
        start("start", conn_id=conn_id)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"} and run.xcom("start")["state"] == "RUNNING"


def test_the_trigger_row_holds_ids_and_no_secret() -> None:
    ref = {"project_name": PROJECT, "job_name": STREAM_JOB, "instance_id": "412536"}
    trigger = RealtimeComputeInstanceTrigger(
        conn_id="alibaba_realtime_compute_default", refs=[ref], target_states=["RUNNING"], poll_interval=5
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_flinkcloud.triggers.alibaba.RealtimeComputeInstanceTrigger"
    assert kwargs["refs"] == [ref] and kwargs["conn_id"] == "alibaba_realtime_compute_default"
    assert not {"login", "password", "extra", "security_token"} & set(kwargs)
