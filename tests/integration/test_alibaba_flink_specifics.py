"""What only Alibaba Cloud Realtime Compute for Apache Flink does, run by real Airflow against the
emulator: deployments created or updated by name (never duplicated, also when two tasks create at once
or a create's reply is lost), starts by id or name, restarts from the savepoint of a stop, stop
strategies, and stopping a deployment's active job by name.

The behaviours every platform shares are in ``test_contract.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl
from airflow_provider_flinkcloud.operators.alibaba_flink import (
    AlibabaFlinkDeploymentOperator,
    AlibabaFlinkStartJobOperator,
    AlibabaFlinkStopJobOperator,
)
from support.airflow_run import run_dag
from support.fixtures import _connections_to
from support.platforms import kit_for
from support.platforms.alibaba_flink import deployment
from support.workers import execute, in_parallel

pytestmark = pytest.mark.integration
NAME = "orders-enrichment"


@pytest.fixture
def conn(
    emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Points ``alibaba_flink_default`` at the emulator; call it to add another connection."""
    return _connections_to(kit_for("alibaba_flink"), emulator_server.url, monkeypatch)


def counter(emulator: EmulatorControl, kind: str, key: str = NAME) -> int:
    return emulator.counters().get("alibaba_flink", {}).get(kind, {}).get(key, 0)


def state(emulator: EmulatorControl) -> dict[str, Any]:
    return emulator.state()["alibaba_flink"]


def test_a_changed_definition_updates_the_deployment_of_its_name(make_dag, conn, emulator) -> None:
    with make_dag("define") as dag:
        AlibabaFlinkDeploymentOperator(task_id="first", deployment=deployment(NAME), start=False)
    first = run_dag(dag)
    with make_dag("redefine") as dag:
        AlibabaFlinkDeploymentOperator(
            task_id="second", deployment=deployment(NAME, sql="INSERT INTO b SELECT 2;"), start=False
        )
    second = run_dag(dag)
    assert first.xcom("first")["definition"] == "created" and second.xcom("second")["definition"] == "updated"
    assert first.xcom("first")["deployment_id"] == second.xcom("second")["deployment_id"]
    [stored] = state(emulator)["deployments"]
    assert stored["artifact"]["sqlArtifact"]["sqlScript"] == "INSERT INTO b SELECT 2;"
    assert (counter(emulator, "creates_by_name"), counter(emulator, "updates_by_name")) == (1, 1)
    assert counter(emulator, "starts_by_name") == 0


def test_a_create_whose_reply_was_lost_makes_no_second_deployment(
    make_dag, conn, emulator, task_logs
) -> None:
    emulator.inject_fault("lose_response", platform="alibaba_flink", operation="CreateDeployment", count=1)
    with make_dag("lost_create") as dag:
        AlibabaFlinkDeploymentOperator(task_id="start", deployment=deployment(NAME), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert len(state(emulator)["deployments"]) == 1
    assert counter(emulator, "creates_by_name") == 1 and counter(emulator, "starts_by_name") == 1
    assert "The create request got no clear answer" in task_logs()


def test_two_tasks_creating_the_same_name_at_once_leave_one_deployment(conn, emulator) -> None:
    # Both list before either creates (every list takes two seconds), so both create.
    emulator.inject_fault(
        "delay", platform="alibaba_flink", operation="ListDeployments", delay_seconds=2.0, count=6
    )
    first, second = in_parallel(
        lambda: execute(
            AlibabaFlinkDeploymentOperator(task_id="a", deployment=deployment(NAME), start=False)
        ),
        lambda: execute(
            AlibabaFlinkDeploymentOperator(task_id="b", deployment=deployment(NAME), start=False)
        ),
    )
    assert isinstance(first, dict) and isinstance(second, dict), (first, second)
    assert first["deployment_id"] == second["deployment_id"]
    assert [d["deploymentId"] for d in state(emulator)["deployments"]] == [first["deployment_id"]]
    # On a loaded machine the second task may list only after the first created (then it creates none);
    # either way exactly one deployment is left, and any duplicate made was deleted.
    creates, deletes = counter(emulator, "creates_by_name"), counter(emulator, "deletes_by_name")
    assert (creates, deletes) in ((2, 1), (1, 0)), (creates, deletes)


def test_a_start_by_name_and_a_stop_by_name(make_dag, conn, emulator) -> None:
    with make_dag("by_name") as dag:
        define = AlibabaFlinkDeploymentOperator(task_id="define", deployment=deployment(NAME), start=False)
        start = AlibabaFlinkStartJobOperator(task_id="start", deployment_name=NAME, poll_interval=0.2)
        stop = AlibabaFlinkStopJobOperator(task_id="stop", deployment_name=NAME, poll_interval=0.2)
        again = AlibabaFlinkStopJobOperator(task_id="again", deployment_name=NAME, poll_interval=0.2)
        define >> start >> stop >> again
    run = run_dag(dag)
    assert set(run.task_states.values()) == {"success"}, run.task_states
    assert run.xcom("start")["state"] == "RUNNING"
    assert (
        run.xcom("stop")["job_id"] == run.xcom("start")["job_id"] and run.xcom("stop")["state"] == "CANCELED"
    )
    # Nothing is active any more: nothing to stop.
    assert run.xcom("again") == {"platform": "alibaba_flink", "stopped": False, "state": None}
    assert counter(emulator, "stops_by_name") == 1


def test_a_start_by_a_name_no_deployment_has_fails_naming_it(make_dag, conn, emulator, task_logs) -> None:
    with make_dag("no_such") as dag:
        AlibabaFlinkStartJobOperator(task_id="start", deployment_name="nope", retries=0)
    assert run_dag(dag).task_states == {"start": "failed"}
    assert "deployment_name: namespace default-namespace has no deployment named 'nope'" in task_logs()


def test_restart_stops_with_a_savepoint_and_starts_from_it(make_dag, conn, emulator, task_logs) -> None:
    with make_dag("first") as dag:
        AlibabaFlinkDeploymentOperator(task_id="start", deployment=deployment(NAME), poll_interval=0.2)
    first = run_dag(dag)
    with make_dag("restart") as dag:
        AlibabaFlinkDeploymentOperator(
            task_id="start",
            deployment=deployment(NAME, sql="INSERT INTO v2 SELECT * FROM orders;"),
            if_running="restart",
            poll_interval=0.2,
        )
    second = run_dag(dag)
    assert second.task_states == {"start": "success"}
    assert second.xcom("start")["job_id"] != first.xcom("start")["job_id"]
    jobs = {job["jobId"]: job for job in state(emulator)["jobs"]}
    [savepoint] = state(emulator)["savepoints"]
    assert savepoint["savepointOrigin"] == "STOP_WITH_SAVEPOINT"
    assert savepoint["jobId"] == first.xcom("start")["job_id"]
    assert jobs[first.xcom("start")["job_id"]]["status"]["currentJobStatus"] == "CANCELLED"
    restarted = jobs[second.xcom("start")["job_id"]]
    assert restarted["restoreStrategy"] == {"kind": "FROM_SAVEPOINT", "savepointId": savepoint["savepointId"]}
    assert restarted["artifact"]["sqlArtifact"]["sqlScript"] == "INSERT INTO v2 SELECT * FROM orders;"
    assert counter(emulator, "starts_by_name") == 2 and counter(emulator, "creates_by_name") == 1


def test_stop_with_drain_is_asked_for_as_given(make_dag, conn, emulator) -> None:
    with make_dag("drain") as dag:
        start = AlibabaFlinkDeploymentOperator(
            task_id="start", deployment=deployment(NAME), poll_interval=0.2
        )
        stop = AlibabaFlinkStopJobOperator(
            task_id="stop",
            job_id="{{ ti.xcom_pull(task_ids='start')['job_id'] }}",
            stop_strategy="STOP_WITH_DRAIN",
            poll_interval=0.2,
        )
        start >> stop
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "stop": "success"}
    assert run.xcom("stop")["savepoint"]["stop_strategy"] == "STOP_WITH_DRAIN"
    [savepoint] = state(emulator)["savepoints"]
    assert savepoint["savepointOrigin"] == "STOP_WITH_SAVEPOINT" and savepoint["stopWithDrainEnabled"] is True


def test_a_bad_stop_strategy_fails_when_the_operator_is_constructed(make_dag) -> None:
    with make_dag("bad_strategy"), pytest.raises(ValueError) as info:
        AlibabaFlinkStopJobOperator(
            task_id="stop", job_id="58718c99-3b29-4c5e-93bb-c9fc4ec6a1b2", stop_strategy="KILL"
        )
    assert str(info.value) == (
        "stop_strategy: must be one of NONE, STOP_WITH_SAVEPOINT, STOP_WITH_DRAIN, got 'KILL'"
    )


def test_a_connection_without_workspace_fails_naming_it(make_dag, conn, emulator, task_logs) -> None:
    conn_id = conn("alibaba_flink_no_ws", extra={"workspace": ""})
    with make_dag("no_ws") as dag:
        AlibabaFlinkDeploymentOperator(
            task_id="start", conn_id=conn_id, deployment=deployment(NAME), retries=3
        )
    assert run_dag(dag).task_states == {"start": "failed"}
    assert "connection 'alibaba_flink_no_ws': extra workspace is required" in task_logs()
    assert sum(emulator.counters().get("alibaba_flink", {}).get("calls", {}).values()) == 0


def test_the_connection_test_lists_one_deployment_and_names_what_is_wrong(conn, emulator) -> None:
    from airflow_provider_flinkcloud.hooks.alibaba_flink import AlibabaFlinkHook

    ok, message = AlibabaFlinkHook().test_connection()
    assert ok and message.startswith("Connection to Alibaba Cloud Realtime Compute for Apache Flink at http")
    assert emulator.counters()["alibaba_flink"]["calls"] == {"ListDeployments": 1}
    ok, message = AlibabaFlinkHook(conn_id=conn("alibaba_flink_wrong", password="wr0ng")).test_connection()
    assert not ok and "SignatureDoesNotMatch" in message and "wr0ng" not in message
    ok, message = AlibabaFlinkHook(
        conn_id=conn("alibaba_flink_no_ns", extra={"namespace": ""})
    ).test_connection()
    assert not ok and message.startswith("extra namespace is needed to test the connection")
