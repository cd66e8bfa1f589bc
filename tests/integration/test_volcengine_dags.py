"""Volcengine Flink operators and sensor run by real Airflow against the emulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import VOLCENGINE_SECRET_KEY, EmulatorControl
from airflow_provider_flinkcloud.operators.volcengine import (
    VolcengineFlinkCancelInstanceOperator,
    VolcengineFlinkStartApplicationOperator,
)
from airflow_provider_flinkcloud.sensors.volcengine import VolcengineFlinkInstanceSensor
from support.airflow_run import run_dag
from support.fixtures import PROJECT_ID

pytestmark = pytest.mark.integration


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


def calls(emulator: EmulatorControl, action: str) -> int:
    return emulator.counters().get("volcengine", {}).get("calls", {}).get(action, 0)


def starts(emulator: EmulatorControl, name: str) -> int:
    return emulator.counters().get("volcengine", {}).get("starts_by_name", {}).get(name, 0)


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_streaming_job_reaches_running(make_dag, volcengine_conn, emulator, deferrable) -> None:
    with make_dag("streaming") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2, deferrable=deferrable
        )
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    result = run.xcom("start")
    assert result["state"] == "RUNNING" and result["native_state"] == "RUNNING"
    assert result["platform"] == "volcengine" and result["project_id"] == PROJECT_ID
    assert result["instance_id"] and result["application_id"]
    assert "appId=" + result["application_id"] in result["console_url"]
    assert starts(emulator, "orders-enrichment") == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_batch_job_waits_for_success(make_dag, volcengine_conn, emulator, deferrable) -> None:
    with make_dag("batch") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="rollup", app=batch_app(), poll_interval=0.2, deferrable=deferrable
        )
    run = run_dag(dag)
    assert run.task_states == {"rollup": "success"}
    assert run.xcom("rollup")["state"] == "SUCCESS"
    assert run.xcom("rollup")["native_state"] == "SUCCEEDED"


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_failed_job_fails_task_with_platform_error_text(
    make_dag, volcengine_conn, emulator, task_logs, deferrable
):
    error = "org.apache.flink.table.api.ValidationException: Table 'orders' not found in catalog"
    emulator.fail_job("daily-rollup", error, phase="running", after_seconds=0.2)
    with make_dag("failing") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="rollup", app=batch_app(), poll_interval=0.2, deferrable=deferrable, retries=0
        )
    run = run_dag(dag)
    assert run.task_states == {"rollup": "failed"}
    output = task_logs()
    assert error in output
    assert "ended FAILED" in output


def test_transient_errors_on_status_polls_change_nothing(make_dag, volcengine_conn, emulator) -> None:
    emulator.inject_fault("status", operation="GetApplicationInstance", status=503, count=2)
    emulator.inject_fault("status", operation="GetApplicationInstance", status=429, retry_after=0.2, count=1)
    with make_dag("flaky") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="rollup", app=batch_app(), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"rollup": "success"}
    assert emulator.counters()["volcengine"]["faults_fired"] == 3
    assert starts(emulator, "daily-rollup") == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_rerun_while_running_reattaches(make_dag, volcengine_conn, emulator, deferrable) -> None:
    with make_dag("reattach") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2, deferrable=deferrable
        )
    first = run_dag(dag)
    second = run_dag(dag)
    assert first.task_states == second.task_states == {"start": "success"}
    assert second.xcom("start")["instance_id"] == first.xcom("start")["instance_id"]
    assert starts(emulator, "orders-enrichment") == 1


def test_if_running_fail_refuses_a_second_start(make_dag, volcengine_conn, emulator, task_logs) -> None:
    with make_dag("first") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", app=streaming_app(), poll_interval=0.2)
    assert run_dag(dag).task_states == {"start": "success"}
    with make_dag("strict") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2, if_running="fail"
        )
    assert run_dag(dag).task_states == {"start": "failed"}
    assert "already running and if_running='fail'" in task_logs()
    assert starts(emulator, "orders-enrichment") == 1


def test_if_running_restart_takes_savepoint_and_restores(make_dag, volcengine_conn, emulator) -> None:
    with make_dag("first") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", app=streaming_app(), poll_interval=0.2)
    first = run_dag(dag).xcom("start")
    with make_dag("restart") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2, if_running="restart"
        )
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    second = run.xcom("start")
    assert second["instance_id"] != first["instance_id"]
    assert second["application_id"] == first["application_id"]
    assert starts(emulator, "orders-enrichment") == 2
    instances = {i["Id"]: i for i in _instances(emulator)}
    assert instances[first["instance_id"]]["State"] == "STOPPED"
    assert instances[second["instance_id"]]["RestoreStrategy"]["Type"] == "FROM_SAVEPOINT"


def _instances(emulator: EmulatorControl) -> list[dict[str, Any]]:
    state = emulator.state()["volcengine"]
    return list(state["instances"].values()) if isinstance(state["instances"], dict) else state["instances"]


def test_bad_spec_fails_before_any_request(make_dag, volcengine_conn, emulator, task_logs) -> None:
    bad = {**streaming_app(), "SchedulePolicy": "GANG"}
    with make_dag("badspec") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", app=bad, retries=3)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    output = task_logs()
    assert "App.SchedulePolicy: Extra inputs are not permitted" in output
    assert sum(emulator.counters().get("volcengine", {}).get("calls", {}).values()) == 0


def test_wrong_secret_gives_auth_error_and_secret_never_logged(
    make_dag, volcengine_conn, emulator, task_logs
):
    wrong_secret = "wr0ng-s3cret-value-4f9a"
    volcengine_conn("volc_wrong", password=wrong_secret)
    with make_dag("auth") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", conn_id="volc_wrong", app=streaming_app())
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    output = task_logs()
    assert "SignatureDoesNotMatch" in output and "HTTP 401" in output
    assert wrong_secret not in output
    assert VOLCENGINE_SECRET_KEY not in output
    assert starts(emulator, "orders-enrichment") == 0


def test_cancel_stops_the_job_and_second_cancel_is_a_noop(
    make_dag, volcengine_conn, emulator, task_logs
) -> None:
    start_result = "{{ ti.xcom_pull(task_ids='start')['instance_id'] }}"
    with make_dag("cancel") as dag:
        start = VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2
        )
        cancel = VolcengineFlinkCancelInstanceOperator(
            task_id="cancel", instance_id=start_result, poll_interval=0.2
        )
        again = VolcengineFlinkCancelInstanceOperator(task_id="cancel_again", instance_id=start_result)
        start >> cancel >> again
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "cancel": "success", "cancel_again": "success"}
    assert run.xcom("cancel")["stopped"] is True
    assert run.xcom("cancel")["state"] == "CANCELED"
    assert run.xcom("cancel_again")["stopped"] is False
    assert calls(emulator, "CancelApplicationInstance") == 1
    assert "not running: nothing to stop" in task_logs()


def test_cancel_by_application_with_savepoint(make_dag, volcengine_conn, emulator) -> None:
    with make_dag("cancel_app") as dag:
        start = VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2
        )
        cancel = VolcengineFlinkCancelInstanceOperator(
            task_id="cancel",
            application_id="{{ ti.xcom_pull(task_ids='start')['application_id'] }}",
            savepoint=True,
            poll_interval=0.2,
        )
        start >> cancel
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "cancel": "success"}
    assert run.xcom("cancel")["savepoint"]["savepoint_id"]
    assert run.xcom("cancel")["state"] == "CANCELED"


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_sensor_waits_for_success(make_dag, volcengine_conn, emulator, deferrable) -> None:
    with make_dag("sensor") as dag:
        start = VolcengineFlinkStartApplicationOperator(task_id="start", app=batch_app(), wait_for=None)
        watch = VolcengineFlinkInstanceSensor(
            task_id="watch",
            instance_id="{{ ti.xcom_pull(task_ids='start')['instance_id'] }}",
            poke_interval=0.2,
            deferrable=deferrable,
        )
        start >> watch
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "watch": "success"}
    assert run.xcom("start")["state"] in ("PENDING", "RUNNING")
    assert run.xcom("watch")["state"] == "SUCCESS"


def test_sensor_fails_fast_on_other_terminal_state(make_dag, volcengine_conn, emulator, task_logs) -> None:
    emulator.fail_job("daily-rollup", "java.lang.OutOfMemoryError: Java heap space", phase="startup")
    with make_dag("sensor_fail") as dag:
        start = VolcengineFlinkStartApplicationOperator(task_id="start", app=batch_app(), wait_for=None)
        watch = VolcengineFlinkInstanceSensor(
            task_id="watch",
            instance_id="{{ ti.xcom_pull(task_ids='start')['instance_id'] }}",
            poke_interval=0.2,
            timeout=60,
        )
        start >> watch
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "watch": "failed"}
    assert "java.lang.OutOfMemoryError: Java heap space" in task_logs()


def test_timeout_fails_the_task_and_leaves_the_job(make_dag, volcengine_conn, emulator, task_logs) -> None:
    emulator.set_timings(batch_seconds=30)
    with make_dag("timeout") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="rollup", app=batch_app(), poll_interval=0.2, timeout=1
        )
    run = run_dag(dag)
    assert run.task_states == {"rollup": "failed"}
    assert "did not reach SUCCESS before the timeout" in task_logs()
    assert calls(emulator, "CancelApplicationInstance") == 0


def test_start_whose_reply_was_lost_is_not_repeated(make_dag, volcengine_conn, emulator, task_logs) -> None:
    emulator.inject_fault("lose_response", operation="StartApplicationInstance", count=1)
    with make_dag("lost_reply") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", app=streaming_app(), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert calls(emulator, "StartApplicationInstance") == 1
    assert starts(emulator, "orders-enrichment") == 1
    assert "The start request failed" in task_logs() and "but took effect" in task_logs()


def test_start_rejected_before_taking_effect_is_started_again(make_dag, volcengine_conn, emulator, task_logs):
    emulator.inject_fault("status", operation="StartApplicationInstance", status=503, count=1)
    with make_dag("start_503") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", app=streaming_app(), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert calls(emulator, "StartApplicationInstance") == 2
    assert starts(emulator, "orders-enrichment") == 1
    assert "did not take effect; starting again" in task_logs()
