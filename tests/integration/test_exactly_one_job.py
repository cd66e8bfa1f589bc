"""Exactly one job, stopped for sure, every deadline kept: hostile networks and workers, on every platform.

DAG runs use real Airflow (``dag.test()``) against the emulator and its fault injection. Where two
workers must act at the same moment, or a kill must arrive while a request is in flight, the operators'
``execute`` and ``on_kill`` run in threads of this process, as a worker's task runner calls them.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import EmulatorControl
from support.airflow_run import run_dag
from support.platforms import PlatformKit
from support.workers import Background, execute, in_parallel, wait_until

pytestmark = pytest.mark.integration

DEFERRABLE = pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])


# -- 1. a start whose reply comes too late, or not at all --------------------------------------------


def test_a_start_answered_after_the_read_timeout_is_found_not_repeated(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl, task_logs: Any
) -> None:
    conn_id = platform_conn("late_reply", extra={"read_timeout": 1, "start_confirm_seconds": 10})
    kit.inject_fault(emulator, "late_response", kit.start_operation, delay_seconds=3)
    with make_dag("late_start") as dag:
        kit.start_streaming("start", conn_id=conn_id, poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert kit.calls(emulator)[kit.start_operation] == 1
    assert len(kit.active_runs(emulator, kit.streaming_job)) == 1
    logs = task_logs()
    assert "The start request got no clear answer" in logs and "The start took effect" in logs
    assert "did not take effect" not in logs


def test_an_unconfirmed_start_fails_the_try_and_the_retry_looks_before_starting(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl, task_logs: Any
) -> None:
    conn_id = platform_conn("dropped", extra={"start_confirm_seconds": 0.5, "retry_max_attempts": 1})
    # The request is dropped before the platform acts on it: nothing to find.
    kit.inject_fault(emulator, "drop", kit.start_operation)
    with make_dag("unconfirmed") as dag:
        kit.start_streaming("start", conn_id=conn_id, poll_interval=0.2)
    first = run_dag(dag)
    assert first.task_states == {"start": "failed"}
    assert kit.calls(emulator)[kit.start_operation] == 1
    assert kit.active_runs(emulator, kit.streaming_job) == []
    logs = task_logs()
    assert "could not confirm whether the start took effect" in logs
    assert "A retry looks again before starting" in logs
    assert "did not take effect" not in logs
    # The retry (here: the DAG run again) looks, finds nothing, and starts once.
    second = run_dag(dag)
    assert second.task_states == {"start": "success"}
    assert len(kit.active_runs(emulator, kit.streaming_job)) == 1


# -- 2. two task instances start the same job at the same moment ----------------------------------------


def test_two_workers_starting_the_same_job_at_once_leave_one_running(
    kit: PlatformKit, platform_conn: Any, emulator: EmulatorControl
) -> None:
    # Both requests wait on the platform side, so both tasks have looked (and found nothing) first.
    kit.inject_fault(emulator, "delay", kit.start_operation, delay_seconds=1, count=2)
    first, second = in_parallel(
        lambda: execute(kit.start_streaming("a", poll_interval=0.2)),
        lambda: execute(kit.start_streaming("b", poll_interval=0.2)),
    )
    assert isinstance(first, dict) and isinstance(second, dict), (first, second)
    assert all(first[key] == second[key] for key in kit.id_keys), (first, second)
    wait_until(lambda: len(kit.active_runs(emulator, kit.streaming_job)) == 1)


# -- 4. a task killed while its start is in flight ------------------------------------------------------


def test_a_kill_while_the_start_is_in_flight_stops_what_it_made(
    kit: PlatformKit, platform_conn: Any, emulator: EmulatorControl
) -> None:
    # The platform acts at once but answers only after 4 s: the kill comes in between.
    kit.inject_fault(emulator, "late_response", kit.start_operation, delay_seconds=4)
    task = kit.start_streaming("start", poll_interval=0.2)
    worker = Background(task)
    wait_until(lambda: len(kit.active_runs(emulator, kit.streaming_job)) == 1)
    task.on_kill()  # what Airflow 3's SIGTERM handler calls, while the request is still in flight
    assert kit.active_runs(emulator, kit.streaming_job) == []
    outcome = worker.join()
    assert isinstance(outcome, Exception) and "was killed while starting" in str(outcome)
    assert kit.calls(emulator)[kit.start_operation] == 1


class Interrupted(BaseException):
    """Stands for the KeyboardInterrupt Airflow 3 raises first (SIGINT), without calling on_kill."""


def test_a_kill_that_raises_out_of_the_request_stops_the_job_within_seconds(
    kit: PlatformKit, platform_conn: Any, emulator: EmulatorControl
) -> None:
    kit.inject_fault(emulator, "late_response", kit.start_operation, delay_seconds=30)

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        # Well inside the 30 s reply, and after what precedes the start (a first deployment create waits
        # 1.5 s for a same-second twin on Alibaba Flink).
        signal.setitimer(signal.ITIMER_REAL, 3.0)
        with pytest.raises(Interrupted):
            execute(kit.start_streaming("start", poll_interval=0.2))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    # The request was cut short long before the platform's 30 s reply, and the job it made is stopped.
    assert kit.active_runs(emulator, kit.streaming_job) == []
    assert kit.calls(emulator)[kit.start_operation] == 1


# -- 5. a stop whose reply is lost ----------------------------------------------------------------------


def test_a_stop_whose_reply_was_lost_counts_when_the_job_stops(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl
) -> None:
    kit.inject_fault(emulator, "lose_response", kit.stop_operation)
    with make_dag("lost_stop") as dag:
        start = kit.start_streaming("start", poll_interval=0.2)
        stop = kit.stop("stop", "start", poll_interval=0.2)
        start >> stop
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "stop": "success"}
    assert [r["stopped"] for r in kit.stop_results(run.xcom("stop"))] == [True]
    assert [r["state"] for r in kit.stop_results(run.xcom("stop"))] == ["CANCELED"]
    assert kit.calls(emulator)[kit.stop_operation] == 1


# -- 7. the timeout bounds every wait -------------------------------------------------------------------


def test_a_long_retry_after_on_polls_is_honoured_only_up_to_the_timeout(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl, task_logs: Any
) -> None:
    kit.inject_fault(emulator, "status", kit.status_operation, status=429, retry_after=3600, count=2)
    with make_dag("retry_after") as dag:
        kit.start_batch("start", poll_interval=0.5, timeout=5)
    began = time.monotonic()
    run = run_dag(dag)
    took = time.monotonic() - began
    # The job finished within the timeout; waiting as the platform asked would have taken minutes.
    assert run.task_states == {"start": "success"}
    assert kit.faults_fired(emulator) == 2
    assert "would pass the timeout" in task_logs()
    assert took < 60, took


def test_a_long_retry_after_on_the_start_is_not_waited_for_past_the_timeout(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl, task_logs: Any
) -> None:
    kit.inject_fault(emulator, "status", kit.start_operation, status=429, retry_after=3600, count=2)
    with make_dag("start_retry_after") as dag:
        kit.start_streaming("start", poll_interval=0.5, timeout=5)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    assert "would pass the timeout" in task_logs()
    assert kit.active_runs(emulator, kit.streaming_job) == []


def test_a_restart_waits_for_the_stop_only_within_the_timeout(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl, task_logs: Any
) -> None:
    with make_dag("running") as dag:
        kit.start_streaming("start", poll_interval=0.2)
    assert run_dag(dag).task_states == {"start": "success"}
    emulator.set_timings(cancelling_seconds=600)
    with make_dag("restart") as dag:
        kit.start_streaming("restart", poll_interval=0.2, timeout=3, if_running="restart")
    began = time.monotonic()
    run = run_dag(dag)
    assert run.task_states == {"restart": "failed"}
    assert "a stopped state before the timeout" in task_logs()
    assert time.monotonic() - began < 60


# -- 8. both ways of waiting ride out the same bursts of errors -----------------------------------------


@DEFERRABLE
def test_a_burst_of_failed_polls_inside_the_window_changes_nothing(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl, deferrable: bool
) -> None:
    conn_id = platform_conn("one_attempt", extra={"retry_max_attempts": 1, "poll_error_window": 60})
    # Every poll fails at once (no transport retries), six polls in a row, both before and after deferring.
    kit.inject_fault(emulator, "status", kit.status_operation, status=503, count=3)
    kit.inject_fault(emulator, "drop", kit.status_operation, count=3)
    with make_dag("burst") as dag:
        kit.start_batch("start", conn_id=conn_id, poll_interval=0.2, deferrable=deferrable)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert kit.faults_fired(emulator) == 6


@DEFERRABLE
def test_polls_failing_for_longer_than_the_window_fail_the_task_saying_so(
    kit: PlatformKit,
    platform_conn: Any,
    make_dag: Any,
    emulator: EmulatorControl,
    deferrable: bool,
    task_logs: Any,
) -> None:
    conn_id = platform_conn("short_window", extra={"retry_max_attempts": 1, "poll_error_window": 1})
    kit.inject_fault(emulator, "status", kit.status_operation, status=503, count=10_000)
    with make_dag("failing") as dag:
        kit.start_streaming("start", conn_id=conn_id, poll_interval=0.2, deferrable=deferrable)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    logs = task_logs()
    assert "poll(s) in a row failed over" in logs and "last error:" in logs and "503" in logs


# -- 12. a sensor waiting for RUNNING on a job that already finished --------------------------------------


def test_a_sensor_for_running_accepts_a_job_that_finished_successfully(
    kit: PlatformKit, platform_conn: Any, make_dag: Any, emulator: EmulatorControl
) -> None:
    with make_dag("finished") as dag:
        start = kit.start_batch("start", poll_interval=0.2)
        watch = kit.sensor("watch", "start", target_states=["RUNNING"], poke_interval=0.2, timeout=30)
        start >> watch
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "watch": "success"}
    assert run.xcom("watch")["state"] == "SUCCESS"


# -- 13. a job stopped because the task was killed -----------------------------------------------------


def test_a_job_stopped_because_the_task_was_killed_fails_saying_so(
    kit: PlatformKit, platform_conn: Any, emulator: EmulatorControl
) -> None:
    # A streaming job awaited until SUCCESS: the task waits on until it is killed.
    task = kit.start_streaming("start", poll_interval=0.2, wait_for="SUCCESS")
    worker = Background(task)
    # Started and its ids stored: the task is waiting now.
    wait_until(
        lambda: "flinkcloud_job" in worker.ti.xcom and len(kit.active_runs(emulator, kit.streaming_job)) == 1
    )
    task.on_kill()
    outcome = worker.join()
    assert isinstance(outcome, Exception)
    assert "was stopped because this task was killed (cancel_on_kill=True)" in str(outcome)
    assert "no error text" not in str(outcome)
