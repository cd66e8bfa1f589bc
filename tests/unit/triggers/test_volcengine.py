"""The Volcengine trigger: serialization, and its watch loop and on_kill against the emulator."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_flinkcloud.core.jobs import JobStatus, job_key, verdict_for
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.core.transport import ApiCall
from airflow_provider_flinkcloud.core.watch import Decision, JobWatch
from airflow_provider_flinkcloud.emulator import EmulatorControl
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
from airflow_provider_flinkcloud.triggers.volcengine import VolcengineFlinkInstanceTrigger

DEFAULT_CONN = "volcengine_flink_default"
FLINK_ERROR = "org.apache.flink.table.api.ValidationException: Table 'orders' not found"


def streaming_app(name: str = "orders-enrichment") -> dict[str, Any]:
    return {
        "JobType": "FLINK_STREAMING_SQL",
        "JobName": name,
        "UniqueKey": f"{name}-key",
        "SqlText": "INSERT INTO sink SELECT * FROM orders;",
    }


@pytest.fixture
def start_instance(volcengine_conn: Any, emulator: EmulatorControl) -> Callable[..., dict[str, str]]:
    """Start an instance through the hook (as the operator does) and return its ref."""

    def start(app: dict[str, Any] | None = None) -> dict[str, str]:
        hook = VolcengineFlinkHook()
        return hook.start(hook.validate_spec({"app": app or streaming_app()}))

    return start


def trigger_for(ref: dict[str, str], **kwargs: Any) -> VolcengineFlinkInstanceTrigger:
    settings: dict[str, Any] = {
        "conn_id": DEFAULT_CONN,
        "target_states": ["RUNNING"],
        "poll_interval": 0.05,
        "deadline": time.time() + 30,
    }
    settings.update(kwargs)
    return VolcengineFlinkInstanceTrigger(refs=[ref], **settings)


async def events_of(trigger: VolcengineFlinkInstanceTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def calls(emulator: EmulatorControl, action: str) -> int:
    return emulator.counters().get("volcengine", {}).get("calls", {}).get(action, 0)


def instance_state(emulator: EmulatorControl, instance_id: str) -> str:
    instances = emulator.state()["volcengine"]["instances"]
    return next(i["State"] for i in instances if i["Id"] == instance_id)


# -- serialization --------------------------------------------------------------------------------


def test_serialize_round_trips() -> None:
    trigger = VolcengineFlinkInstanceTrigger(
        conn_id="volc_prod",
        refs=[{"instance_id": "1840646077740994561", "application_id": "42", "project_id": "p"}],
        target_states=["success", "Running"],
        poll_interval=15,
        deadline=1_900_000_000.5,
        cancel_on_kill=False,
        failing_since=1_899_999_990.0,
        last_logged={"instance 1840646077740994561": "RUNNING/RUNNING"},
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_flinkcloud.triggers.volcengine.VolcengineFlinkInstanceTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert type(rebuilt) is VolcengineFlinkInstanceTrigger
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs == {
        "conn_id": "volc_prod",
        "refs": [{"instance_id": "1840646077740994561", "application_id": "42", "project_id": "p"}],
        "target_states": ["RUNNING", "SUCCESS"],
        "poll_interval": 15.0,
        "deadline": 1_900_000_000.5,
        "cancel_on_kill": False,
        "failing_since": 1_899_999_990.0,
        "last_logged": {"instance 1840646077740994561": "RUNNING/RUNNING"},
    }


def test_serialize_defaults() -> None:
    _, kwargs = VolcengineFlinkInstanceTrigger(
        conn_id="c", refs=[{"instance_id": "1"}], target_states=["SUCCESS"], poll_interval=1
    ).serialize()
    assert kwargs["deadline"] is None and kwargs["cancel_on_kill"] is True
    assert kwargs["failing_since"] is None
    assert json.loads(json.dumps(kwargs)) == kwargs


def test_trigger_keeps_its_own_copy_of_the_ref() -> None:
    ref = {"instance_id": "1"}
    trigger = VolcengineFlinkInstanceTrigger(
        conn_id="c", refs=[ref], target_states=["SUCCESS"], poll_interval=1
    )
    ref["instance_id"] = "2"
    assert trigger.serialize()[1]["refs"] == [{"instance_id": "1"}]


def test_bad_target_state_is_rejected() -> None:
    with pytest.raises(ValueError, match="'DONE'"):
        VolcengineFlinkInstanceTrigger(
            conn_id="c", refs=[{"instance_id": "1"}], target_states=["DONE"], poll_interval=1
        )


# -- run against the emulator -------------------------------------------------------------------


async def test_streaming_job_reaches_running(start_instance: Any, emulator: EmulatorControl) -> None:
    ref = start_instance()
    events = await events_of(trigger_for(ref))
    assert len(events) == 1
    event = events[0]
    assert event["status"] == "reached" and event.get("message") is None
    job = event["jobs"]["0"]
    assert (job["state"], job["native_state"]) == ("RUNNING", "RUNNING")
    assert job["instance_id"] == ref["instance_id"] and job["ref"]["application_id"] == ref["application_id"]
    assert "instanceId=" + ref["instance_id"] in job["console_url"]
    assert event["last_logged"] == {job_key(ref): "RUNNING/RUNNING"}
    # The worker rebuilds the status from the event.
    status = JobStatus.from_dict(job)
    assert status.state is JobState.RUNNING and status.ref == job["ref"]
    assert json.loads(json.dumps(event)) == event


async def test_failed_job_yields_failed_with_the_job(start_instance: Any, emulator: EmulatorControl) -> None:
    emulator.fail_job("orders-enrichment", FLINK_ERROR, phase="startup")
    ref = start_instance()
    events = await events_of(trigger_for(ref))
    assert [e["status"] for e in events] == ["failed"]
    job = events[0]["jobs"]["0"]
    assert (job["state"], job["native_state"]) == ("FAILED", "FAILED")
    assert job["instance_id"] == ref["instance_id"]
    # The event carries what the worker needs to fetch the platform's error text.
    assert FLINK_ERROR in VolcengineFlinkHook().failure_text(JobStatus.from_dict(job))


async def test_deadline_passed_yields_timeout(start_instance: Any, emulator: EmulatorControl) -> None:
    ref = start_instance()
    # A streaming job never reaches SUCCESS; the deadline is already over after the first poll.
    events = await events_of(trigger_for(ref, target_states=["SUCCESS"], deadline=time.time() - 1))
    assert [e["status"] for e in events] == ["timeout"]
    assert events[0]["jobs"]["0"]["state"] in ("PENDING", "RUNNING")
    assert calls(emulator, "CancelApplicationInstance") == 0  # a timeout leaves the job alone


async def test_polls_through_transient_errors(
    start_instance: Any, volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    ref = start_instance()
    extra = {"retry_max_attempts": 1, "poll_error_window": 30}
    conn_id = volcengine_conn("volc_single_attempt", extra=extra)
    emulator.inject_fault("status", operation="GetApplicationInstance", status=503, count=3)
    events = await events_of(trigger_for(ref, conn_id=conn_id))
    assert [e["status"] for e in events] == ["reached"]
    assert emulator.counters()["volcengine"]["faults_fired"] == 3
    assert calls(emulator, "GetApplicationInstance") >= 4


async def test_polls_failing_for_longer_than_the_window_yield_error(
    start_instance: Any, volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    ref = start_instance()
    extra = {"retry_max_attempts": 1, "poll_error_window": 0.2}
    conn_id = volcengine_conn("volc_single_attempt", extra=extra)
    emulator.inject_fault("status", operation="GetApplicationInstance", status=503, count=1000)
    events = await events_of(trigger_for(ref, conn_id=conn_id))
    assert [e["status"] for e in events] == ["error"]
    message = events[0]["message"]
    assert "ServiceUnavailable" in message and "HTTP 503" in message
    polls = calls(emulator, "GetApplicationInstance")
    assert polls >= 2 and f"{polls} poll(s) in a row failed over" in message
    assert events[0]["jobs"] == {}  # it was never seen


async def test_auth_error_yields_error_at_once(
    start_instance: Any, volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    ref = start_instance()
    wrong = "wr0ng-s3cret-value"
    conn_id = volcengine_conn("volc_wrong", password=wrong)
    events = await events_of(trigger_for(ref, conn_id=conn_id))
    assert [e["status"] for e in events] == ["error"]
    assert "SignatureDoesNotMatch" in events[0]["message"]
    assert "1 poll(s) in a row failed" in events[0]["message"]
    assert wrong not in events[0]["message"]
    assert calls(emulator, "GetApplicationInstance") == 1


async def test_unknown_instance_yields_error(volcengine_conn: Any, emulator: EmulatorControl) -> None:
    events = await events_of(trigger_for({"instance_id": "999999"}))
    assert [e["status"] for e in events] == ["error"]
    assert calls(emulator, "GetApplicationInstance") == 1


# -- on_kill ------------------------------------------------------------------------------------------


async def test_on_kill_cancels_an_active_instance(start_instance: Any, emulator: EmulatorControl) -> None:
    ref = start_instance()
    await trigger_for(ref).on_kill()
    assert calls(emulator, "CancelApplicationInstance") == 1
    assert instance_state(emulator, ref["instance_id"]) in ("CANCELLING", "STOPPED")


async def test_on_kill_without_cancel_on_kill_does_nothing(
    start_instance: Any, emulator: EmulatorControl
) -> None:
    ref = start_instance()
    await trigger_for(ref, cancel_on_kill=False).on_kill()
    assert calls(emulator, "CancelApplicationInstance") == 0
    assert calls(emulator, "GetApplicationInstance") == 0
    assert instance_state(emulator, ref["instance_id"]) in ("STARTING", "RUNNING")


async def test_on_kill_leaves_an_ended_instance_alone(start_instance: Any, emulator: EmulatorControl) -> None:
    emulator.set_timings(starting_seconds=0)
    emulator.fail_job("orders-enrichment", FLINK_ERROR, phase="startup")
    ref = start_instance()
    assert instance_state(emulator, ref["instance_id"]) == "FAILED"
    await trigger_for(ref).on_kill()
    assert calls(emulator, "GetApplicationInstance") == 1
    assert calls(emulator, "CancelApplicationInstance") == 0


async def test_on_kill_does_not_cancel_twice(start_instance: Any, emulator: EmulatorControl) -> None:
    ref = start_instance()
    hook = VolcengineFlinkHook()
    hook.call(hook.cancel_call(ref))
    await trigger_for(ref).on_kill()  # CANCELLING is not active: nothing more to stop
    assert calls(emulator, "CancelApplicationInstance") == 1


def held_by(frames: list[Any]) -> list[Any]:
    """What the suspended frames hold: their locals, and one level into containers and plain objects."""
    held: list[Any] = []
    for frame in frames:
        for value in frame.f_locals.values():
            held.append(value)
            if isinstance(value, list | tuple | set | frozenset):
                held.extend(value)
            elif isinstance(value, dict):
                held.extend(value.values())
            elif hasattr(value, "__dict__") and not isinstance(
                value, type | types.ModuleType | types.FunctionType
            ):
                held.extend(vars(value).values())
    for call in [h for h in held if isinstance(h, ApiCall)]:
        held.extend([call.parse, *(getattr(call.parse, name, None) for name in ("parse", "convert"))])
    return held


async def test_a_trigger_asleep_between_polls_holds_no_closure_and_nothing_of_its_last_round(
    start_instance: Any, emulator: EmulatorControl
) -> None:
    # A triggerer keeps thousands of these asleep for months; every object one holds is walked by each
    # full garbage collection, whose pauses are the triggerer's loop lag (issue 12).
    ref = start_instance()
    trigger = trigger_for(ref, target_states=["SUCCESS"], poll_interval=600.0, deadline=None)
    events = trigger.run()
    first = asyncio.ensure_future(events.__anext__())
    try:
        chain: list[Any] = []
        for _ in range(500):
            await asyncio.sleep(0.01)
            chain = [events]
            while (
                awaited := getattr(chain[-1], "ag_await", None) or getattr(chain[-1], "cr_await", None)
            ) is not None:
                chain.append(awaited)
            if any(getattr(link, "cr_code", None) is asyncio.sleep.__code__ for link in chain):
                break
        else:
            pytest.fail(f"the trigger never went to sleep between polls: {chain}")
        assert calls(emulator, "GetApplicationInstance") == 1
        sleeping = next(
            i for i, link in enumerate(chain) if getattr(link, "cr_code", None) is asyncio.sleep.__code__
        )
        frames = [getattr(link, "ag_frame", None) or link.cr_frame for link in chain[:sleeping]]
        held = held_by(frames)
        # A closure made once at import (a client's shared reply reader) is not per trigger.
        closures = [
            h
            for h in held
            if isinstance(h, types.FunctionType)
            and h.__closure__
            and not any(h is v for v in vars(sys.modules[h.__module__]).values())
        ]
        assert not closures, f"closures held while asleep: {closures}"
        assert not [h for h in held if isinstance(h, types.CellType)]
        assert not [h for h in held if isinstance(h, Decision)], "the last round's decision is kept"
        watch = next(h for h in held if isinstance(h, JobWatch))
        assert watch.verdict_of is verdict_for(frozenset({JobState.SUCCESS}))
        assert watch.log is VolcengineFlinkInstanceTrigger.logger()
    finally:
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await events.aclose()
