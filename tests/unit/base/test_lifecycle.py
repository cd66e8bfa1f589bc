"""The shared lifecycle (start, reattach, wait or defer, stop, sense) against the fake platform.

The operators run outside a DAG with a minimal context; a deferral runs its trigger inline, so both
ways of waiting are compared on the same jobs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.operators import FlinkJobStartOperator
from airflow_provider_flinkcloud.base.tasks import JOB_XCOM_KEY
from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.core.errors import (
    ConnectionFailedError,
    InvalidRequestError,
    JobFailedError,
    JobTimeoutError,
    StartUnconfirmedError,
    ThrottledError,
    TransientError,
)
from airflow_provider_flinkcloud.core.transport import RetryPolicy
from airflow_provider_flinkcloud.core.watch import WatchError
from support.fake_platform import (
    CLOUD,
    FAKE,
    FakeClient,
    FakeHook,
    FakeSensor,
    FakeStartOperator,
    FakeStopOperator,
    FakeTrigger,
    fault,
)
from support.workers import WorkerTI


@pytest.fixture(autouse=True)
def cloud() -> Iterator[None]:
    CLOUD.reset()
    yield
    CLOUD.reset()


def run(task: Any, ti: WorkerTI | None = None) -> Any:
    """Execute like a worker; a deferral runs the trigger inline and resumes with its event."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    context: Any = {"ti": ti or WorkerTI()}
    try:
        return task.execute(context)
    except TaskDeferred as deferred:
        trigger, method_name = deferred.trigger, deferred.method_name
    assert isinstance(trigger, FakeTrigger)

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload

    return getattr(task, method_name)(context, asyncio.run(first_event()))


def start(deferrable: bool = False, **kwargs: Any) -> FakeStartOperator:
    return FakeStartOperator(
        task_id="start", spec={"name": "etl"}, poll_interval=0.01, deferrable=deferrable, **kwargs
    )


both_ways = pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])


@both_ways
def test_start_waits_until_running(deferrable: bool) -> None:
    CLOUD.scripts["etl"] = ["pending", "pending", "running"]
    ti = WorkerTI()
    result = run(start(deferrable), ti)
    assert result == {
        "platform": "fake",
        "job_id": "1",
        "state": "RUNNING",
        "native_state": "running",
        "console_url": None,
    }
    assert CLOUD.calls["start"] == 1
    # The ids and the link are stored before any waiting.
    assert ti.xcom[JOB_XCOM_KEY] == {"platform": "fake", "job_id": "1"}
    assert ti.xcom["fake_console"] == {"job_id": "1"}


@both_ways
def test_a_bounded_job_is_waited_for_until_success(deferrable: bool) -> None:
    CLOUD.scripts["etl"] = ["pending", "running", "success"]
    task = FakeStartOperator(
        task_id="t", spec={"name": "etl", "bounded": True}, poll_interval=0.01, deferrable=deferrable
    )
    assert run(task)["state"] == "SUCCESS"


@both_ways
def test_a_failed_job_fails_the_task_with_the_platform_text(deferrable: bool) -> None:
    CLOUD.scripts["etl"] = ["pending", "failed"]
    with pytest.raises(
        JobFailedError, match=r"fake job 1 ended FAILED \(native state failed\): fake job 1 broke"
    ):
        run(start(deferrable))


@both_ways
def test_both_ways_ride_out_failed_polls_within_the_error_window(deferrable: bool) -> None:
    # The fake connection's window is 0.5 s; five failed polls 0.01 s apart stay well inside it.
    CLOUD.scripts["etl"] = ["pending", "running"]
    fault("status", TransientError, times=5)
    assert run(start(deferrable))["state"] == "RUNNING"
    assert CLOUD.calls["start"] == 1


@both_ways
def test_both_ways_give_up_when_polls_fail_for_longer_than_the_window(deferrable: bool) -> None:
    CLOUD.scripts["etl"] = ["pending", "running"]
    fault("status", TransientError, times=10_000)
    with pytest.raises(WatchError, match=r"poll\(s\) in a row failed over \d+s; last error: .*status broke"):
        run(start(deferrable))


@both_ways
def test_the_deadline_fails_the_task_and_leaves_the_job_alone(deferrable: bool) -> None:
    CLOUD.scripts["etl"] = ["pending"]
    with pytest.raises(JobTimeoutError, match=r"did not reach RUNNING/SUCCESS .*a retry reattaches"):
        run(start(deferrable, timeout=0.05))
    assert CLOUD.calls["cancel"] == 0


def test_a_rerun_reattaches_and_starts_nothing(caplog: pytest.LogCaptureFixture) -> None:
    run(start())
    assert run(start())["job_id"] == "1"
    assert CLOUD.calls["start"] == 1


def test_if_running_fail_refuses() -> None:
    run(start())
    with pytest.raises(AirflowFailException, match="fake job 1 is already running and if_running='fail'"):
        run(start(if_running="fail"))


def test_a_start_whose_reply_was_lost_is_not_sent_again() -> None:
    CLOUD.lost["start"] = 1
    assert run(start())["job_id"] == "1"
    assert CLOUD.calls["start"] == 1


def test_a_start_racing_another_keeps_the_older_run(monkeypatch: pytest.MonkeyPatch) -> None:
    run(start())
    # The other task's job was not visible yet when this one looked.
    monkeypatch.setattr(FakeHook, "find_active", lambda self, unit: None)
    assert run(start())["job_id"] == "1"
    assert CLOUD.calls["start"] == 2 and CLOUD.jobs["2"]["states"][0] == "stopping"


def test_a_refused_start_of_a_job_that_runs_now_reattaches(monkeypatch: pytest.MonkeyPatch) -> None:
    run(start())
    # Another task ran the job between this one's look and its start ("already running").
    real_find = FakeHook.find_active
    looks = iter([None])
    monkeypatch.setattr(FakeHook, "find_active", lambda self, unit: next(looks, real_find(self, unit)))
    fault("start", InvalidRequestError, http_status=400)
    assert run(start())["job_id"] == "1"
    assert CLOUD.calls["start"] == 2 and len(CLOUD.jobs) == 1


def test_an_unconfirmed_start_fails_the_try_saying_a_retry_looks_again() -> None:
    fault("start", ConnectionFailedError)
    with pytest.raises(StartUnconfirmedError, match="could not confirm whether the start took effect"):
        run(start())
    assert CLOUD.calls["start"] == 1


def test_a_refused_start_is_sent_again_within_the_timeout_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakeClient, "retry", RetryPolicy(max_attempts=3))
    fault("start", ThrottledError, http_status=429, retry_after=3600)
    with pytest.raises(JobTimeoutError, match="would pass the timeout"):
        run(start(timeout=5))
    assert CLOUD.calls["start"] == 1


def test_a_bad_spec_fails_before_any_request_naming_the_field() -> None:
    task = FakeStartOperator(task_id="bad", spec={"name": ""})
    with pytest.raises(AirflowFailException, match="bad: invalid fake spec: name: required"):
        run(task)
    assert sum(CLOUD.calls.values()) == 0


def test_wait_for_none_returns_at_once() -> None:
    CLOUD.scripts["etl"] = ["pending"]
    assert run(start(wait_for=None))["state"] == "PENDING"
    assert CLOUD.calls["status"] == 1


def test_stop_then_stop_again_is_a_no_op() -> None:
    run(start())
    stop = FakeStopOperator(task_id="stop", job_id="1", poll_interval=0.01)
    first = run(stop)
    assert first["stopped"] is True and first["state"] == "CANCELED"
    second = run(stop)
    assert second["stopped"] is False and second["state"] == "CANCELED"
    assert CLOUD.calls["cancel"] == 1


def test_on_kill_stops_the_job_it_started() -> None:
    task = start()
    run(task)
    task.on_kill()
    assert CLOUD.calls["cancel"] == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_sensor_reaches_its_target(deferrable: bool) -> None:
    run(start())
    CLOUD.jobs["1"]["states"] = ["running", "success"]
    sensor = FakeSensor(task_id="watch", job_id="1", poke_interval=0.01, timeout=10, deferrable=deferrable)
    ti = WorkerTI()
    assert run(sensor, ti)["state"] == "SUCCESS"
    assert ti.xcom["fake_console"] == {"job_id": "1"}


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_sensor_fails_at_once_on_another_terminal_state(deferrable: bool) -> None:
    run(start())
    CLOUD.jobs["1"]["states"] = ["running", "failed"]
    sensor = FakeSensor(task_id="watch", job_id="1", poke_interval=0.01, timeout=10, deferrable=deferrable)
    with pytest.raises(JobFailedError, match="fake job 1 broke"):
        run(sensor)


# -- wiring, checked when a class is defined ----------------------------------------------------------


def test_every_task_templates_its_connection() -> None:
    for cls in (FakeStartOperator, FakeStopOperator, FakeSensor):
        assert cls.template_fields[0] == "conn_id"
    assert "spec" in FakeStartOperator.template_fields


def test_the_console_link_comes_from_the_registry_entry() -> None:
    assert [type(link).__name__ for link in FakeStartOperator.operator_extra_links] == ["FakeLink"]


def test_a_platform_that_is_no_registry_entry_is_refused() -> None:
    with pytest.raises(TypeError, match=r"platform must be a registry entry \(PlatformSpec\)"):

        class Broken(FlinkJobStartOperator[Any]):
            platform = "volcengine"  # type: ignore[assignment]


def test_a_task_loads_its_hook_from_its_registry_entry() -> None:
    task = FakeSensor(task_id="watch", job_id="1")
    assert task.hook_class is FakeHook and task.conn_id == FAKE.default_conn_id


def test_a_trigger_the_registry_does_not_name_is_refused() -> None:
    with pytest.raises(TypeError, match=r"the registry names support\.fake_platform\.FakeTrigger"):

        class Stray(FlinkJobTrigger[FakeHook]):
            hook_class = FakeHook


def test_a_trigger_without_hook_is_refused() -> None:
    with pytest.raises(TypeError, match="must set hook_class"):

        class Orphan(FlinkJobTrigger[Any]):
            pass
