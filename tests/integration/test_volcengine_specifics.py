"""What only Volcengine Flink does, run by real Airflow against the emulator: restarts that restore from
a savepoint, and stopping whatever instance of an application is active.

The behaviours every platform shares (start, wait, failures, retries, reattach, validation, auth, stop,
sensor) are in ``test_contract.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import EmulatorControl
from airflow_provider_flinkcloud.operators.volcengine import (
    VolcengineFlinkCancelInstanceOperator,
    VolcengineFlinkStartApplicationOperator,
)
from airflow_provider_flinkcloud.sensors.volcengine import VolcengineFlinkInstanceSensor
from support.airflow_run import run_dag
from support.platforms.volcengine import streaming_app
from support.workers import execute, wait_until

pytestmark = pytest.mark.integration


def starts(emulator: EmulatorControl, name: str) -> int:
    return emulator.counters().get("volcengine", {}).get("starts_by_name", {}).get(name, 0)


def _instances(emulator: EmulatorControl) -> list[dict[str, Any]]:
    state = emulator.state()["volcengine"]
    return list(state["instances"].values()) if isinstance(state["instances"], dict) else state["instances"]


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


def test_cancel_by_application_with_nothing_active_is_a_noop(make_dag, volcengine_conn, emulator, task_logs):
    app_id = "{{ ti.xcom_pull(task_ids='start')['application_id'] }}"
    with make_dag("cancel_app_twice") as dag:
        start = VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2
        )
        cancel = VolcengineFlinkCancelInstanceOperator(
            task_id="cancel", application_id=app_id, poll_interval=0.2
        )
        again = VolcengineFlinkCancelInstanceOperator(task_id="cancel_again", application_id=app_id)
        start >> cancel >> again
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "cancel": "success", "cancel_again": "success"}
    assert run.xcom("cancel")["stopped"] is True
    assert run.xcom("cancel_again") == {"platform": "volcengine", "stopped": False, "state": None}
    assert emulator.counters()["volcengine"]["calls"]["CancelApplicationInstance"] == 1
    assert "no active run was found" in task_logs()


def test_start_by_application_id_starts_the_existing_application(make_dag, volcengine_conn, emulator) -> None:
    with make_dag("first") as dag:
        start = VolcengineFlinkStartApplicationOperator(
            task_id="start", app=streaming_app(), poll_interval=0.2
        )
        cancel = VolcengineFlinkCancelInstanceOperator(
            task_id="cancel",
            instance_id="{{ ti.xcom_pull(task_ids='start')['instance_id'] }}",
            poll_interval=0.2,
        )
        start >> cancel
    first = run_dag(dag)
    assert first.task_states == {"start": "success", "cancel": "success"}
    app_id = first.xcom("start")["application_id"]
    with make_dag("by_id") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", application_id=app_id, poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    result = run.xcom("start")
    assert result["application_id"] == app_id and result["state"] == "RUNNING"
    assert result["instance_id"] != first.xcom("start")["instance_id"]
    assert emulator.counters()["volcengine"]["starts_by_app"] == {app_id: 2}


# -- an application is its UniqueKey (or Id), never its JobName ----------------------------------------


def calls(emulator: EmulatorControl, action: str) -> int:
    return int(emulator.counters()["volcengine"]["calls"].get(action, 0))


def active(emulator: EmulatorControl) -> list[dict[str, Any]]:
    return [i for i in _instances(emulator) if i["State"] in ("STARTING", "RUNNING")]


def test_a_renamed_job_name_with_the_same_unique_key_reattaches(make_dag, volcengine_conn, emulator) -> None:
    with make_dag("first") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", app=streaming_app(), poll_interval=0.2)
    first = run_dag(dag).xcom("start")
    renamed = {**streaming_app(), "JobName": "orders-enrichment-v2"}
    with make_dag("renamed") as dag:
        VolcengineFlinkStartApplicationOperator(task_id="start", app=renamed, poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert run.xcom("start")["instance_id"] == first["instance_id"]
    assert calls(emulator, "StartApplicationInstance") == 1
    assert [i["Id"] for i in active(emulator)] == [first["instance_id"]]


def test_two_applications_sharing_a_job_name_stay_two(make_dag, volcengine_conn, emulator) -> None:
    one = streaming_app("shared-name")
    other = {**streaming_app("shared-name"), "UniqueKey": "another-application"}
    with make_dag("shared") as dag:
        first = VolcengineFlinkStartApplicationOperator(task_id="one", app=one, poll_interval=0.2)
        second = VolcengineFlinkStartApplicationOperator(task_id="other", app=other, poll_interval=0.2)
        first >> second
    run = run_dag(dag)
    assert run.task_states == {"one": "success", "other": "success"}
    assert run.xcom("one")["application_id"] != run.xcom("other")["application_id"]
    assert calls(emulator, "StartApplicationInstance") == 2
    assert len(active(emulator)) == 2


def test_without_a_remembered_id_a_second_instance_of_the_application_is_stopped_at_once(
    airflow_db, volcengine_conn, emulator
) -> None:
    # Another system (or a lost memory) started the application: the platform resolves the UniqueKey to
    # it, and the check right after the start keeps only the older instance.
    app = streaming_app("started-elsewhere")
    elsewhere = execute(VolcengineFlinkStartApplicationOperator(task_id="elsewhere", app=app, wait_for=None))
    forget_remembered_ids()
    result = execute(VolcengineFlinkStartApplicationOperator(task_id="start", app=app, poll_interval=0.2))
    assert result["instance_id"] == elsewhere["instance_id"]
    wait_until(lambda: [i["Id"] for i in active(emulator)] == [elsewhere["instance_id"]])
    assert calls(emulator, "CancelApplicationInstance") == 1


def forget_remembered_ids() -> None:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(Variable).filter(Variable.key.like("flinkcloud/%")).delete(synchronize_session=False)


def test_a_sensor_stores_the_full_console_link_though_it_is_given_only_the_instance(
    make_dag, volcengine_conn, emulator
) -> None:
    with make_dag("sensor_link") as dag:
        app = streaming_app()
        start = VolcengineFlinkStartApplicationOperator(task_id="start", app=app, poll_interval=0.2)
        watch = VolcengineFlinkInstanceSensor(
            task_id="watch",
            instance_id="{{ ti.xcom_pull(task_ids='start')['instance_id'] }}",
            target_states=["RUNNING"],
            poke_interval=0.2,
            timeout=30,
        )
        start >> watch
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "watch": "success"}
    started = run.xcom("start")
    link = run.xcom("watch", key="volcengine_flink_console")
    assert {k: link[k] for k in ("instance_id", "application_id", "project_id")} == {
        k: started[k] for k in ("instance_id", "application_id", "project_id")
    }
