"""Huawei Cloud DLI operators and sensor run by real Airflow against the emulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import DLI_SECRET_KEY, EmulatorControl
from airflow_provider_flinkcloud.operators.huawei_dli import (
    DliFlinkCreateJarJobOperator,
    DliFlinkCreateSqlJobOperator,
    DliFlinkRunJobsOperator,
    DliFlinkStopJobsOperator,
)
from airflow_provider_flinkcloud.sensors.huawei_dli import DliFlinkJobSensor
from support.airflow_run import run_dag

pytestmark = pytest.mark.integration

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


def counter(emulator: EmulatorControl, kind: str, key: str) -> int:
    return emulator.counters().get("huawei_dli", {}).get(kind, {}).get(key, 0)


def jobs(emulator: EmulatorControl) -> dict[str, dict[str, Any]]:
    return {str(job["job_id"]): job for job in emulator.state()["huawei_dli"]["jobs"]}


def define_jobs(make_dag, *names: str, **extra: Any) -> list[str]:
    """Create stopped jobs (run=False) and return their ids."""
    with make_dag("define") as dag:
        for name in names:
            DliFlinkCreateJarJobOperator(task_id=f"define_{name}", job=jar_job(name, **extra), run=False)
    run = run_dag(dag)
    assert set(run.task_states.values()) == {"success"}, run.task_states
    return [run.xcom(f"define_{name}")["job_id"] for name in names]


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_jar_job_is_created_run_and_reaches_running(make_dag, dli_conn, emulator, deferrable) -> None:
    with make_dag("jar") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), poll_interval=0.2, deferrable=deferrable)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    result = run.xcom("start")
    assert (result["state"], result["native_state"]) == ("RUNNING", "job_running")
    assert result["platform"] == "huawei_dli" and result["job_name"] == "clickstream-sessionizer"
    assert result["console_url"].endswith(f"/detail/{result['job_id']}")
    assert jobs(emulator)[result["job_id"]]["status"] == "job_running"
    assert counter(emulator, "creates_by_name", "clickstream-sessionizer") == 1
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_bounded_sql_job_waits_for_job_finish(make_dag, dli_conn, emulator, deferrable) -> None:
    with make_dag("batch_sql") as dag:
        DliFlinkCreateSqlJobOperator(
            task_id="rollup", job=sql_job("daily-gmv", BATCH_SQL), poll_interval=0.2, deferrable=deferrable
        )
    run = run_dag(dag)
    assert run.task_states == {"rollup": "success"}
    assert (run.xcom("rollup")["state"], run.xcom("rollup")["native_state"]) == ("SUCCESS", "job_finish")


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_failing_job_fails_the_task_with_status_desc(make_dag, dli_conn, emulator, task_logs, deferrable):
    error = "Flink job failed: java.lang.ClassNotFoundException: com.example.Sessionizer"
    emulator.fail_job("clickstream-sessionizer", error, platform="huawei_dli", phase="startup")
    with make_dag("failing") as dag:
        DliFlinkCreateJarJobOperator(
            task_id="start", job=jar_job(), poll_interval=0.2, deferrable=deferrable, retries=0
        )
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    output = task_logs()
    assert error in output
    assert "ended FAILED (native state job_submit_fail)" in output


def test_transient_errors_on_status_polls_change_nothing(make_dag, dli_conn, emulator) -> None:
    emulator.inject_fault("status", platform="huawei_dli", operation="ShowFlinkJob", status=503, count=2)
    emulator.inject_fault(
        "status", platform="huawei_dli", operation="ShowFlinkJob", status=429, retry_after=0.2, count=1
    )
    with make_dag("flaky") as dag:
        DliFlinkCreateSqlJobOperator(task_id="rollup", job=sql_job("daily-gmv", BATCH_SQL), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"rollup": "success"}
    assert emulator.counters()["huawei_dli"]["faults_fired"] == 3
    assert counter(emulator, "runs_by_name", "daily-gmv") == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_rerun_while_running_reattaches(make_dag, dli_conn, emulator, deferrable) -> None:
    with make_dag("reattach") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), poll_interval=0.2, deferrable=deferrable)
    first = run_dag(dag)
    second = run_dag(dag)
    assert first.task_states == second.task_states == {"start": "success"}
    assert second.xcom("start")["job_id"] == first.xcom("start")["job_id"]
    assert counter(emulator, "creates_by_name", "clickstream-sessionizer") == 1
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 1


def test_retried_create_whose_reply_was_lost_makes_no_second_job(make_dag, dli_conn, emulator, task_logs):
    emulator.inject_fault("lose_response", platform="huawei_dli", operation="CreateFlinkJarJob", count=1)
    with make_dag("lost_create") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert counter(emulator, "creates_by_name", "clickstream-sessionizer") == 1
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 1
    assert len(jobs(emulator)) == 1
    assert "did not take effect; starting again" in task_logs()


def test_run_whose_reply_was_lost_is_not_repeated(make_dag, dli_conn, emulator, task_logs) -> None:
    emulator.inject_fault("lose_response", platform="huawei_dli", operation="BatchRunFlinkJobs", count=1)
    with make_dag("lost_run") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 1
    assert "but took effect" in task_logs()


def test_a_second_definition_of_the_same_name_updates_the_job(make_dag, dli_conn, emulator) -> None:
    [job_id] = define_jobs(make_dag, "clickstream-sessionizer")
    with make_dag("redefine") as dag:
        DliFlinkCreateJarJobOperator(
            task_id="define", job=jar_job(entrypoint_args="--window 5min"), run=False
        )
    run = run_dag(dag)
    result = run.xcom("define")
    assert result["job_id"] == job_id and result["created"] is False and result["updated"] is True
    assert counter(emulator, "creates_by_name", "clickstream-sessionizer") == 1
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 0
    assert jobs(emulator)[job_id]["spec"]["entrypoint_args"] == "--window 5min"


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (jar_job("x" * 58), "name: String should have at most 57 characters"),
        (jar_job(cu_number=500), "cu_number: Input should be less than or equal to 400"),
        (jar_job(entrypoint=None), "entrypoint: required"),
        (jar_job(queue="q"), "queue: Extra inputs are not permitted"),
    ],
    ids=["name", "cu_number", "entrypoint", "typo"],
)
def test_bad_spec_fails_before_any_request(make_dag, dli_conn, emulator, task_logs, job, message) -> None:
    with make_dag("badspec") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=job, retries=3)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    assert message in task_logs()
    assert sum(emulator.counters()["huawei_dli"]["calls"].values()) == 0


def test_wrong_secret_gives_auth_error_and_secret_never_logged(make_dag, dli_conn, emulator, task_logs):
    wrong_secret = "wr0ng-dli-s3cret-7c1e"
    dli_conn("dli_wrong", password=wrong_secret)
    with make_dag("auth") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", conn_id="dli_wrong", job=jar_job(), retries=0)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    output = task_logs()
    assert "APIG.0301" in output and "HTTP 401" in output
    assert wrong_secret not in output and DLI_SECRET_KEY not in output
    assert counter(emulator, "creates_by_name", "clickstream-sessionizer") == 0


def test_run_jobs_in_one_batch_and_skip_the_one_already_running(make_dag, dli_conn, emulator) -> None:
    first, second = define_jobs(make_dag, "job-a", "job-b")
    with make_dag("run_one") as dag:
        DliFlinkRunJobsOperator(task_id="run", job_ids=[first], poll_interval=0.2)
    assert run_dag(dag).task_states == {"run": "success"}
    with make_dag("run_both") as dag:
        DliFlinkRunJobsOperator(task_id="run", job_ids=[first, second], poll_interval=0.2, deferrable=True)
    run = run_dag(dag)
    assert run.task_states == {"run": "success"}
    result = run.xcom("run")
    assert [job["job_id"] for job in result["jobs"]] == [first, second]
    assert {job["state"] for job in result["jobs"]} == {"RUNNING"}
    assert counter(emulator, "runs_by_name", "job-a") == 1
    assert counter(emulator, "runs_by_name", "job-b") == 1
    assert emulator.counters()["huawei_dli"]["calls"]["BatchRunFlinkJobs"] == 2


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_run_of_three_jobs_where_one_fails_names_that_job(
    make_dag, dli_conn, emulator, task_logs, deferrable
):
    ids = define_jobs(make_dag, "job-a", "job-b", "job-c", runtime_config={"execution.runtime-mode": "batch"})
    error = "org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy"
    emulator.fail_job("job-b", error, platform="huawei_dli", phase="running", after_seconds=0.1)
    with make_dag("run_three") as dag:
        DliFlinkRunJobsOperator(
            task_id="run",
            job_ids=ids,
            wait_for="SUCCESS",
            poll_interval=0.2,
            deferrable=deferrable,
            retries=0,
        )
    emulator.set_timings(batch_seconds=0.5)
    run = run_dag(dag)
    assert run.task_states == {"run": "failed"}
    output = task_logs()
    assert f"1 of 3 jobs failed: DLI Flink job {ids[1]} (job-b) ended FAILED" in output
    assert error in output
    assert f"DLI Flink job {ids[0]} (job-a) ended" not in output
    # The others were run in the same batch and finished.
    assert {jobs(emulator)[i]["status"] for i in (ids[0], ids[2])} == {"job_finish"}
    assert counter(emulator, "runs_by_name", "job-a") == 1 and counter(emulator, "runs_by_name", "job-c") == 1


def test_stop_jobs_with_savepoint_then_second_stop_is_a_noop(make_dag, dli_conn, emulator, task_logs) -> None:
    ids = define_jobs(make_dag, "job-a", "job-b")
    with make_dag("stop") as dag:
        start = DliFlinkRunJobsOperator(task_id="run", job_ids=[ids[0]], poll_interval=0.2)
        stop = DliFlinkStopJobsOperator(task_id="stop", job_ids=ids, savepoint=True, poll_interval=0.2)
        again = DliFlinkStopJobsOperator(task_id="stop_again", job_ids=ids, poll_interval=0.2)
        start >> stop >> again
    run = run_dag(dag)
    assert run.task_states == {"run": "success", "stop": "success", "stop_again": "success"}
    stopped = {job["job_id"]: job for job in run.xcom("stop")["jobs"]}
    assert stopped[ids[0]]["stopped"] is True and stopped[ids[0]]["state"] == "CANCELED"
    assert stopped[ids[1]]["stopped"] is False and stopped[ids[1]]["native_state"] == "job_init"
    assert not any(job["stopped"] for job in run.xcom("stop_again")["jobs"])
    assert emulator.counters()["huawei_dli"]["calls"]["BatchStopFlinkJobs"] == 1
    assert jobs(emulator)[ids[0]]["savepoints"]
    assert "not running: nothing to stop" in task_logs()


def test_if_running_restart_stops_with_savepoint_and_resumes(make_dag, dli_conn, emulator) -> None:
    with make_dag("first") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), poll_interval=0.2)
    first = run_dag(dag).xcom("start")
    with make_dag("restart") as dag:
        DliFlinkCreateJarJobOperator(
            task_id="start", job=jar_job(entrypoint_args="--v2"), poll_interval=0.2, if_running="restart"
        )
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert run.xcom("start")["job_id"] == first["job_id"]
    job = jobs(emulator)[first["job_id"]]
    assert len(job["runs"]) == 2 and job["runs"][-1]["resume_savepoint"] is True
    assert job["runs"][-1]["restored_from"]
    assert job["spec"]["entrypoint_args"] == "--v2"
    assert counter(emulator, "creates_by_name", "clickstream-sessionizer") == 1


def test_if_running_fail_refuses_to_run_again(make_dag, dli_conn, emulator, task_logs) -> None:
    with make_dag("first") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), poll_interval=0.2)
    assert run_dag(dag).task_states == {"start": "success"}
    with make_dag("strict") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), if_running="fail")
    assert run_dag(dag).task_states == {"start": "failed"}
    assert "is already running and if_running='fail'" in task_logs()
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_sensor_waits_for_success(make_dag, dli_conn, emulator, deferrable) -> None:
    with make_dag("sensor") as dag:
        submit = DliFlinkCreateSqlJobOperator(
            task_id="submit", job=sql_job("daily-gmv", BATCH_SQL), wait_for=None
        )
        watch = DliFlinkJobSensor(
            task_id="watch",
            job_id="{{ ti.xcom_pull(task_ids='submit')['job_id'] }}",
            poke_interval=0.2,
            deferrable=deferrable,
        )
        submit >> watch
    run = run_dag(dag)
    assert run.task_states == {"submit": "success", "watch": "success"}
    assert run.xcom("watch")["native_state"] == "job_finish"


def test_sensor_fails_fast_on_another_terminal_state(make_dag, dli_conn, emulator, task_logs) -> None:
    error = "Job is in arrears or frozen: job_running_exception"
    # Long enough after job_running for the submit task (polling every 0.2 s) to see it running first.
    emulator.fail_job("orders-enrichment", error, platform="huawei_dli", phase="running", after_seconds=3)
    with make_dag("sensor_fail") as dag:
        submit = DliFlinkCreateSqlJobOperator(task_id="submit", job=sql_job(), poll_interval=0.2)
        watch = DliFlinkJobSensor(
            task_id="watch",
            job_id="{{ ti.xcom_pull(task_ids='submit')['job_id'] }}",
            poke_interval=0.2,
            timeout=60,
        )
        submit >> watch
    run = run_dag(dag)
    assert run.task_states == {"submit": "success", "watch": "failed"}
    assert error in task_logs() and "job_running_exception" in task_logs()


def test_duplicate_names_on_the_platform_are_refused(make_dag, dli_conn, emulator, task_logs) -> None:
    define_jobs(make_dag, "job-a")
    # Someone made a second job of the same name in the console.
    from airflow_provider_flinkcloud.hooks.huawei_dli import DliFlinkHook

    hook = DliFlinkHook()
    hook.call(hook.client.create_job_call("jar", jar_job("job-a")))
    with make_dag("dupes") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job("job-a"), retries=0)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    assert "DLI has 2 Flink jobs named 'job-a'" in task_logs()
    assert counter(emulator, "runs_by_name", "job-a") == 0
