"""What only Huawei Cloud DLI does, run by real Airflow against the emulator: jobs defined (created or
updated by name, ``run=False``), DLI's own spec limits, batch run and stop of several jobs, restarts that
resume from a savepoint, and duplicate names.

The behaviours every platform shares (start, wait, failures, retries, reattach, validation, auth, stop,
sensor) are in ``test_contract.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import EmulatorControl
from airflow_provider_flinkcloud.operators.huawei_dli import (
    DliFlinkCreateJarJobOperator,
    DliFlinkRunJobsOperator,
    DliFlinkStopJobsOperator,
)
from support.airflow_run import run_dag
from support.platforms.huawei_dli import jar_job
from support.workers import execute, in_parallel

pytestmark = pytest.mark.integration


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


def test_retried_create_whose_reply_was_lost_makes_no_second_job(make_dag, dli_conn, emulator, task_logs):
    emulator.inject_fault("lose_response", platform="huawei_dli", operation="CreateFlinkJarJob", count=1)
    with make_dag("lost_create") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=jar_job(), poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert counter(emulator, "creates_by_name", "clickstream-sessionizer") == 1
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 1
    assert len(jobs(emulator)) == 1
    logs = task_logs()
    assert "The create request got no clear answer" in logs and "but the job exists" in logs
    assert "did not take effect" not in logs


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
    ],
    ids=["name", "cu_number", "entrypoint"],
)
def test_dli_limits_fail_before_any_request(make_dag, dli_conn, emulator, task_logs, job, message) -> None:
    with make_dag("badspec") as dag:
        DliFlinkCreateJarJobOperator(task_id="start", job=job, retries=3)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    assert message in task_logs()
    assert sum(emulator.counters()["huawei_dli"]["calls"].values()) == 0


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


def test_two_runs_of_the_same_job_at_once_leave_it_running_once(make_dag, dli_conn, emulator) -> None:
    [job_id] = define_jobs(make_dag, "clickstream-sessionizer")
    emulator.inject_fault(
        "delay", platform="huawei_dli", operation="BatchRunFlinkJobs", delay_seconds=1, count=2
    )
    first, second = in_parallel(
        lambda: execute(DliFlinkRunJobsOperator(task_id="a", job_ids=[job_id], poll_interval=0.2)),
        lambda: execute(DliFlinkRunJobsOperator(task_id="b", job_ids=[job_id], poll_interval=0.2)),
    )
    assert isinstance(first, dict) and isinstance(second, dict), (first, second)
    assert [j["job_id"] for j in first["jobs"]] == [j["job_id"] for j in second["jobs"]] == [str(job_id)]
    assert [j["state"] for j in first["jobs"] + second["jobs"]] == ["RUNNING", "RUNNING"]
    assert counter(emulator, "runs_by_name", "clickstream-sessionizer") == 1


def test_a_define_only_task_says_the_definition_is_current_and_the_last_run_apart(
    make_dag, dli_conn, emulator
) -> None:
    with make_dag("ran_and_stopped") as dag:
        run = DliFlinkCreateJarJobOperator(task_id="run", job=jar_job(), poll_interval=0.2)
        stop = DliFlinkStopJobsOperator(
            task_id="stop", job_ids="{{ ti.xcom_pull(task_ids='run')['job_id'] }}", poll_interval=0.2
        )
        run >> stop
    assert set(run_dag(dag).task_states.values()) == {"success"}
    with make_dag("redefine") as dag:
        DliFlinkCreateJarJobOperator(task_id="define", job=jar_job(cu_number=4), run=False)
    result = run_dag(dag).xcom("define")
    # The earlier run's CANCELED is not this task's outcome: it is reported apart, as the last run.
    assert result["definition"] == "updated" and "state" not in result
    assert result["last_run"] == {"state": "CANCELED", "native_state": "job_cancel_success"}
