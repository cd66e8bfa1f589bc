"""What only Dinky does, run by real Airflow against the emulator: logins and tokens, the server
version (0.7's API), a failed SQL submit, FAILED that must hold, the task type from the submit's
reply, variables and savepoints, restart from a savepoint, and the sensor by Dinky task.

The behaviours every platform shares are in ``test_contract.py`` and ``test_exactly_one_job.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl
from airflow_provider_flinkcloud.emulator.dinky import DINKY_API_TOKEN, DINKY_PASSWORD
from airflow_provider_flinkcloud.hooks.dinky import DinkyHook
from airflow_provider_flinkcloud.operators.dinky import (
    DinkyCancelJobOperator,
    DinkySavepointOperator,
    DinkySubmitTaskOperator,
)
from airflow_provider_flinkcloud.sensors.dinky import DinkyJobInstanceSensor
from support.airflow_run import run_dag
from support.fixtures import _connections_to
from support.platforms import kit_for
from support.platforms.dinky import TASK_IDS

pytestmark = pytest.mark.integration

STREAMING = TASK_IDS["orders_enrichment"]
BATCH = TASK_IDS["daily_gmv"]


@pytest.fixture
def dinky_conn(
    emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    return _connections_to(kit_for("dinky"), emulator_server.url, monkeypatch)


def counters(emulator: EmulatorControl) -> dict[str, Any]:
    return dict(emulator.counters().get("dinky", {}))


def instances(emulator: EmulatorControl) -> list[dict[str, Any]]:
    return list(emulator.state()["dinky"]["instances"])


def submit(task_id: str = "start", dinky_task_id: int = STREAMING, **kwargs: Any) -> DinkySubmitTaskOperator:
    kwargs.setdefault("poll_interval", 0.2)
    return DinkySubmitTaskOperator(task_id=task_id, dinky_task_id=dinky_task_id, **kwargs)


def test_a_login_is_made_once_per_task_and_its_token_is_sent(
    dinky_conn, make_dag, emulator, task_logs
) -> None:
    conn_id = dinky_conn("dinky_login", login="admin", password=DINKY_PASSWORD)
    with make_dag("login") as dag:
        start = submit(conn_id=conn_id)
        stop = DinkyCancelJobOperator(
            task_id="stop", dinky_task_id=STREAMING, conn_id=conn_id, poll_interval=0.2
        )
        start >> stop
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "stop": "success"}
    seen = counters(emulator)
    assert seen["logins_by_name"] == {"admin": 2}  # one per task, not one per call
    # Every OpenAPI call ran as the logged-in user, but the version probe that precedes the login.
    assert seen["openapi_callers"]["anonymous"] == seen["calls"]["version"] == 2
    assert seen["openapi_callers"]["admin"] == sum(seen["calls"].values()) - 2 - 2  # less logins
    assert DINKY_PASSWORD not in task_logs()


def test_a_wrong_password_fails_with_dinky_s_code_and_shows_no_secret(
    dinky_conn, make_dag, emulator, task_logs
) -> None:
    conn_id = dinky_conn("dinky_bad_login", login="admin", password="n0t-the-pa55word")
    with make_dag("bad_login") as dag:
        submit(conn_id=conn_id, retries=0)
    assert run_dag(dag).task_states == {"start": "failed"}
    logs = task_logs()
    assert "AUTHORIZE_ERROR(7)" in logs and "UserName Or Password Not Correct" in logs
    assert "n0t-the-pa55word" not in logs
    assert counters(emulator).get("submits_by_name", {}) == {}


def test_no_token_at_all_runs_anonymously_and_says_so(dinky_conn, emulator) -> None:
    dinky_conn("dinky_anonymous", password=None)
    hook = DinkyHook("dinky_anonymous")
    ok, message = hook.test_connection()
    assert (
        ok and "Dinky 1.2.0" in message and "no token: Dinky runs OpenAPI calls as its admin user" in message
    )
    ok, message = DinkyHook("dinky_default").test_connection()
    assert ok and "API token accepted" in message


def test_an_expired_login_token_is_replaced_by_a_new_login(dinky_conn, emulator) -> None:
    # Two seconds: long enough that a loaded machine's login and call fit in one token's life.
    emulator.configure("dinky", token_timeout_seconds=2.0)
    dinky_conn("dinky_expiring", login="admin", password=DINKY_PASSWORD)
    hook = DinkyHook("dinky_expiring")
    hook.call(hook.client.token_info_call())
    first = hook.client.session_token
    import time

    time.sleep(2.3)
    info = hook.call(hook.client.token_info_call())  # 401 Token Expired -> one new login -> accepted
    assert info["isLogin"] is True and hook.client.session_token != first
    assert counters(emulator)["logins_by_name"] == {"admin": 2}


def test_a_failed_sql_submit_fails_with_the_statement_and_cause_not_the_trace(
    dinky_conn, make_dag, emulator, task_logs
) -> None:
    cause = "org.apache.flink.table.api.ValidationException: Object 'enriched' not found"
    emulator.configure("dinky", submit_errors={str(STREAMING): cause})
    with make_dag("sql_error") as dag:
        submit(retries=0)
    assert run_dag(dag).task_states == {"start": "failed"}
    logs = task_logs()
    assert "EXCEPTION(5)" in logs and "Exception in executing FlinkSQL" in logs
    assert "INSERT INTO enriched SELECT * FROM orders" in logs and f"Caused by: {cause}" in logs
    assert "GeneratedMethodAccessor" not in logs  # no frames
    # Refused by Dinky: sent once, not repeated, nothing running.
    assert counters(emulator)["calls"]["submitTask"] == 1
    assert counters(emulator).get("submits_by_name", {}) == {}


def test_failed_must_hold_before_the_task_fails(dinky_conn, make_dag, emulator, task_logs) -> None:
    conn_id = dinky_conn("dinky_hold", extra={"failed_hold_seconds": 2})
    emulator.fail_job(
        "orders_enrichment",
        "java.lang.OutOfMemoryError: Java heap space",
        platform="dinky",
        phase="running",
        after_seconds=0.2,
    )
    with make_dag("hold") as dag:
        submit(conn_id=conn_id, wait_for="SUCCESS", retries=0)
    assert run_dag(dag).task_states == {"start": "failed"}
    logs = task_logs()
    # Seen FAILED but not yet final (Dinky keeps it "in transition"), then final.
    assert "is UNKNOWN (native state FAILED)" in logs
    assert "ended FAILED (native state FAILED): java.lang.OutOfMemoryError: Java heap space" in logs


def test_the_task_type_comes_from_the_submit_and_variables_reach_dinky(
    dinky_conn, make_dag, emulator
) -> None:
    with make_dag("types") as dag:
        submit("rollup", BATCH, variables={"dt": "2024-10-28", "limit": 10})
        submit("stream", STREAMING)
    run = run_dag(dag)
    assert run.task_states == {"rollup": "success", "stream": "success"}
    assert (run.xcom("rollup")["native_state"], run.xcom("stream")["native_state"]) == ("FINISHED", "RUNNING")
    [rollup] = [i for i in instances(emulator) if i["taskId"] == BATCH]
    assert rollup["variables"] == {"dt": "2024-10-28", "limit": "10"}


def test_restart_stops_with_a_savepoint_and_submits_from_it(
    dinky_conn, make_dag, emulator, task_logs
) -> None:
    with make_dag("first") as dag:
        submit()
    first = run_dag(dag).xcom("start")
    with make_dag("restart") as dag:
        submit(if_running="restart")
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    second = run.xcom("start")
    assert second["job_instance_id"] != first["job_instance_id"]
    old, new = sorted(instances(emulator), key=lambda i: i["id"])
    assert old["status"] == "CANCELED" and new["status"] == "RUNNING"
    assert new["savePointPath"].startswith("file:///flink/savepoints/savepoint-")
    seen = counters(emulator)
    assert (seen["submits_by_name"], seen["savepoints_by_name"]) == (
        {"orders_enrichment": 2},
        {"orders_enrichment": 1},
    )
    assert "Restarting from savepoint" in task_logs()


def test_savepoint_operator_and_a_sensor_by_dinky_task(dinky_conn, make_dag, emulator) -> None:
    with make_dag("savepoint") as dag:
        start = submit()
        savepoint = DinkySavepointOperator(task_id="savepoint", dinky_task_id=STREAMING)
        watch = DinkyJobInstanceSensor(
            task_id="watch", dinky_task_id=STREAMING, target_states=["RUNNING"], poke_interval=0.2, timeout=30
        )
        stop = DinkyCancelJobOperator(
            task_id="stop", dinky_task_id=STREAMING, with_savepoint=True, poll_interval=0.2
        )
        start >> savepoint >> watch >> stop
    run = run_dag(dag)
    assert set(run.task_states.values()) == {"success"}, run.task_states
    assert run.xcom("savepoint")["savepoint_path"].startswith("file:///flink/savepoints/")
    assert run.xcom("watch")["job_instance_id"] == run.xcom("start")["job_instance_id"]
    stopped = run.xcom("stop")
    assert stopped["stopped"] is True and stopped["state"] == "CANCELED"
    assert stopped["savepoint"]["savepoint_path"].startswith("file:///flink/savepoints/")
    assert counters(emulator)["savepoints_by_name"] == {"orders_enrichment": 2}


def test_dinky_0_7_submits_watches_and_cancels_with_its_own_api(
    dinky_conn, make_dag, emulator, task_logs
) -> None:
    emulator.configure("dinky", version="0.7.5")
    with make_dag("legacy") as dag:
        start = submit()
        stop = DinkyCancelJobOperator(task_id="stop", dinky_task_id=STREAMING, poll_interval=0.2)
        start >> stop
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "stop": "success"}
    assert run.xcom("start")["console_url"].endswith(f"/#/job?id={run.xcom('start')['job_instance_id']}")
    assert run.xcom("stop")["state"] == "CANCELED"
    assert "is version 0.7; the token goes in 'satoken'" in task_logs()
    calls = counters(emulator)["calls"]
    assert calls["version"] == 2 and calls["submitTask"] == 1 and calls["cancel"] == 1
    assert DINKY_API_TOKEN not in task_logs()


def test_a_connection_that_skips_the_certificate_check_works_deferred(dinky_conn, make_dag, emulator) -> None:
    # verify_ssl reaches both transports (requests' verify=, aiohttp's ssl=); the emulator is plain http.
    conn_id = dinky_conn("dinky_unverified", extra={"verify_ssl": "false"})
    with make_dag("unverified") as dag:
        submit(conn_id=conn_id, deferrable=True)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert run.xcom("start")["state"] == "RUNNING"
