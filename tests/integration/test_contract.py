"""The contract every platform keeps, run by real Airflow (``dag.test()``) against the emulator.

Each test runs once per platform of the registry (``airflow_provider_flinkcloud.registry.PLATFORMS``),
driven through that platform's public operators and sensor by its test kit (``support.platforms``).
What is particular to one platform is tested in ``test_<platform>_*.py`` beside this file.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.registry import PLATFORMS
from support.airflow_run import DagRunResult, run_dag
from support.platforms import KITS, PlatformKit

pytestmark = pytest.mark.integration

DEFERRABLE = pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
PHASES = pytest.mark.parametrize("phase", ["startup", "running"])


def test_every_registry_platform_has_a_kit() -> None:
    missing = sorted(set(PLATFORMS) - set(KITS))
    assert not missing, f"registry platforms without a test kit in tests/support/platforms/: {missing}"
    unknown = sorted(set(KITS) - set(PLATFORMS))
    assert not unknown, f"test kits for platforms the registry does not declare: {unknown}"
    for name, kit in KITS.items():
        assert kit.spec is PLATFORMS[name]


def assert_started(kit: PlatformKit, result: dict[str, Any], job: str) -> None:
    """What every start result carries: the platform, both states, the console link and the job's ids."""
    assert result["platform"] == kit.name
    for key in kit.id_keys:
        assert result[key], f"{key} missing from {result}"
    assert result["console_url"] and str(result[kit.console_id_key]) in result["console_url"]
    for key, value in kit.expected_fields(job).items():
        assert result[key] == value, key


def started_once(kit: PlatformKit, emulator: Any, job: str) -> bool:
    counts = kit.start_counts(emulator, job)
    return set(counts.values()) == {1}


def same_job(kit: PlatformKit, first: dict[str, Any], second: dict[str, Any]) -> bool:
    return all(first[key] == second[key] for key in kit.id_keys)


@DEFERRABLE
def test_streaming_start_reaches_running(kit, platform_conn, make_dag, emulator, deferrable) -> None:
    with make_dag("streaming") as dag:
        kit.start_streaming("start", poll_interval=0.2, deferrable=deferrable)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    result = run.xcom("start")
    assert (result["state"], result["native_state"]) == ("RUNNING", kit.native_running)
    assert_started(kit, result, kit.streaming_job)
    assert started_once(kit, emulator, kit.streaming_job), kit.start_counts(emulator, kit.streaming_job)


@DEFERRABLE
def test_batch_start_waits_for_success(kit, platform_conn, make_dag, emulator, deferrable) -> None:
    with make_dag("batch") as dag:
        kit.start_batch("rollup", poll_interval=0.2, deferrable=deferrable)
    run = run_dag(dag)
    assert run.task_states == {"rollup": "success"}
    result = run.xcom("rollup")
    assert (result["state"], result["native_state"]) == ("SUCCESS", kit.native_success)
    assert_started(kit, result, kit.batch_job)
    assert started_once(kit, emulator, kit.batch_job), kit.start_counts(emulator, kit.batch_job)


@DEFERRABLE
@PHASES
def test_remote_failure_fails_the_task_with_the_platform_error_text(
    kit, platform_conn, make_dag, emulator, task_logs, phase, deferrable
) -> None:
    with make_dag("failing") as dag:
        kit.start_failing(emulator, "rollup", phase, poll_interval=0.2, deferrable=deferrable, retries=0)
    run = run_dag(dag)
    assert run.task_states == {"rollup": "failed"}
    output = task_logs()
    assert kit.error_text in output
    assert f"ended FAILED (native state {kit.native_failed[phase]})" in output
    assert started_once(kit, emulator, kit.batch_job)


@DEFERRABLE
def test_transient_errors_on_status_polls_change_nothing(
    kit, platform_conn, make_dag, emulator, deferrable
) -> None:
    kit.inject_fault(emulator, "status", kit.status_operation, status=503, count=2)
    kit.inject_fault(emulator, "status", kit.status_operation, status=429, retry_after=0.2, count=1)
    with make_dag("flaky") as dag:
        kit.start_batch("rollup", poll_interval=0.2, deferrable=deferrable)
    run = run_dag(dag)
    assert run.task_states == {"rollup": "success"}
    assert run.xcom("rollup")["state"] == "SUCCESS"
    assert kit.faults_fired(emulator) == 3
    assert started_once(kit, emulator, kit.batch_job), kit.start_counts(emulator, kit.batch_job)


@DEFERRABLE
def test_rerun_while_running_reattaches_and_starts_nothing(
    kit, platform_conn, make_dag, emulator, task_logs, deferrable
) -> None:
    with make_dag("reattach") as dag:
        kit.start_streaming("start", poll_interval=0.2, deferrable=deferrable)
    first = run_dag(dag)
    second = run_dag(dag)
    assert first.task_states == second.task_states == {"start": "success"}
    assert second.xcom("start")["state"] == "RUNNING"
    assert same_job(kit, first.xcom("start"), second.xcom("start"))
    assert started_once(kit, emulator, kit.streaming_job), kit.start_counts(emulator, kit.streaming_job)
    assert "already running: reattaching, nothing started" in task_logs()


def test_if_running_fail_refuses_a_second_start(kit, platform_conn, make_dag, emulator, task_logs) -> None:
    with make_dag("first") as dag:
        kit.start_streaming("start", poll_interval=0.2)
    assert run_dag(dag).task_states == {"start": "success"}
    with make_dag("strict") as dag:
        kit.start_streaming("start", poll_interval=0.2, if_running="fail")
    assert run_dag(dag).task_states == {"start": "failed"}
    assert "already running and if_running='fail'" in task_logs()
    assert started_once(kit, emulator, kit.streaming_job), kit.start_counts(emulator, kit.streaming_job)


def test_start_whose_reply_was_lost_is_not_repeated(
    kit, platform_conn, make_dag, emulator, task_logs
) -> None:
    kit.inject_fault(emulator, "lose_response", kit.start_operation, count=1)
    with make_dag("lost_reply") as dag:
        kit.start_streaming("start", poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert kit.calls(emulator)[kit.start_operation] == 1
    assert started_once(kit, emulator, kit.streaming_job), kit.start_counts(emulator, kit.streaming_job)
    output = task_logs()
    assert "The start request got no clear answer" in output and "The start took effect" in output
    assert "did not take effect" not in output


def test_start_refused_before_taking_effect_is_started_again(
    kit, platform_conn, make_dag, emulator, task_logs
) -> None:
    kit.inject_fault(emulator, "status", kit.start_operation, status=503, count=1)
    with make_dag("start_503") as dag:
        kit.start_streaming("start", poll_interval=0.2)
    run = run_dag(dag)
    assert run.task_states == {"start": "success"}
    assert kit.calls(emulator)[kit.start_operation] == 2
    assert started_once(kit, emulator, kit.streaming_job), kit.start_counts(emulator, kit.streaming_job)
    assert "did not take effect; starting again" in task_logs()


def test_bad_spec_fails_before_any_request(kit, platform_conn, make_dag, emulator, task_logs) -> None:
    with make_dag("badspec") as dag:
        kit.bad_start("start", retries=3)
    run = run_dag(dag)
    # Failed for good (no retry left pending), naming the field, and without a single API call.
    assert run.task_states == {"start": "failed"}
    assert f"{kit.bad_field}: {kit.bad_reason}" in task_logs()
    assert sum(kit.calls(emulator).values()) == 0


def test_wrong_secret_gives_an_auth_error_and_no_secret_is_logged(
    kit, platform_conn, make_dag, emulator, task_logs
) -> None:
    wrong_secret = f"wr0ng-{kit.name}-s3cret-4f9a"
    conn_id = platform_conn(f"{kit.name}_wrong", password=wrong_secret)
    with make_dag("auth") as dag:
        kit.start_streaming("start", conn_id=conn_id, retries=0)
    run = run_dag(dag)
    assert run.task_states == {"start": "failed"}
    output = task_logs()
    for text in kit.auth_error_texts:
        assert text in output
    assert wrong_secret not in output
    assert kit.secret_key not in output
    assert set(kit.start_counts(emulator, kit.streaming_job).values()) == {0}


def test_stop_then_a_second_stop_is_a_noop_that_says_so(
    kit, platform_conn, make_dag, emulator, task_logs
) -> None:
    with make_dag("stop") as dag:
        start = kit.start_streaming("start", poll_interval=0.2)
        stop = kit.stop("stop", "start", poll_interval=0.2)
        again = kit.stop("stop_again", "start", poll_interval=0.2)
        start >> stop >> again
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "stop": "success", "stop_again": "success"}
    [stopped] = kit.stop_results(run.xcom("stop"))
    assert stopped["stopped"] is True and stopped["state"] == "CANCELED"
    [again_result] = kit.stop_results(run.xcom("stop_again"))
    assert again_result["stopped"] is False and again_result["state"] == "CANCELED"
    assert kit.calls(emulator)[kit.stop_operation] == 1
    assert "not running: nothing to stop" in task_logs()


def test_timeout_fails_the_task_and_leaves_the_job(kit, platform_conn, make_dag, emulator, task_logs) -> None:
    emulator.set_timings(batch_seconds=30)
    with make_dag("timeout") as dag:
        kit.start_batch("rollup", poll_interval=0.2, timeout=1, retries=0)
    run = run_dag(dag)
    assert run.task_states == {"rollup": "failed"}
    assert "did not reach SUCCESS before the timeout" in task_logs()
    assert kit.calls(emulator).get(kit.stop_operation, 0) == 0


def sensor_run(kit: PlatformKit, make_dag: Any, start: str, **sensor_kwargs: Any) -> DagRunResult:
    """Start the ``start`` (streaming or batch) job without waiting, then watch it with the sensor."""
    builder = kit.start_streaming if start == "streaming" else kit.start_batch
    with make_dag("sensor") as dag:
        submit = builder("start", wait_for=None)
        watch = kit.sensor("watch", "start", poke_interval=0.2, timeout=60, **sensor_kwargs)
        submit >> watch
    return run_dag(dag)


@DEFERRABLE
def test_sensor_reaches_success(kit, platform_conn, make_dag, emulator, deferrable) -> None:
    run = sensor_run(kit, make_dag, "batch", deferrable=deferrable)
    assert run.task_states == {"start": "success", "watch": "success"}
    assert run.xcom("start")["state"] in ("PENDING", "RUNNING")
    result = run.xcom("watch")
    assert (result["state"], result["native_state"]) == ("SUCCESS", kit.native_success)


@DEFERRABLE
@PHASES
def test_sensor_fails_at_once_on_a_failed_job(
    kit, platform_conn, make_dag, emulator, task_logs, phase, deferrable
) -> None:
    # startup: a batch job that never runs; running: a streaming job (it never succeeds) that then fails.
    job = kit.batch_job if phase == "startup" else kit.streaming_job
    kit.fail_job(emulator, job, phase=phase, after_seconds=0.2)
    run = sensor_run(kit, make_dag, "batch" if phase == "startup" else "streaming", deferrable=deferrable)
    assert run.task_states == {"start": "success", "watch": "failed"}
    output = task_logs()
    assert kit.error_text in output
    assert f"ended FAILED (native state {kit.native_failed[phase]})" in output
    assert "before the timeout" not in output


def test_a_task_reads_its_connection_once(kit, platform_conn, make_dag, emulator, monkeypatch) -> None:
    """Each read logs a line (and on Airflow 2.11 may warn): one per task, not one per call."""
    hook_class = kit.spec.load(kit.spec.hook_path)
    reads: list[str] = []
    original = hook_class.get_connection.__func__

    def counted(cls: Any, conn_id: str) -> Any:
        reads.append(conn_id)
        return original(cls, conn_id)

    monkeypatch.setattr(hook_class, "get_connection", classmethod(counted))
    with make_dag("one_read") as dag:
        start = kit.start_streaming("start", poll_interval=0.2)
        stop = kit.stop("stop", "start", poll_interval=0.2)
        start >> stop
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "stop": "success"}
    assert reads == [kit.spec.default_conn_id] * 2
