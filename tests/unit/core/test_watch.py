"""The one watch engine, driven round by round with statuses and errors (no HTTP, no Airflow)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from airflow_provider_flinkcloud.core.errors import (
    AuthError,
    FlinkCloudApiError,
    JobFailedError,
    JobTimeoutError,
    TransientError,
)
from airflow_provider_flinkcloud.core.jobs import JobStatus, Verdict, judge, targets_for, verdict_for
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.core.watch import JobWatch, Next, WatchError, WatchEvent
from support.fake_platform import FakeHook

REF = {"job_id": "7"}
RUNNING = targets_for("RUNNING")


def status(state: JobState, job_id: str = "7") -> JobStatus:
    return JobStatus("fake", {"job_id": job_id}, state, state.value.lower(), error=f"job {job_id} broke")


def error(cls: type[FlinkCloudApiError] = TransientError) -> FlinkCloudApiError:
    return cls(platform="Fake Flink", operation="status", message="no luck", http_status=503)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(refs: Any = (REF,), **kwargs: Any) -> JobWatch:
    settings: dict[str, Any] = {"awaited": "RUNNING", "poll_interval": 5.0, **kwargs}
    return JobWatch(FakeHook(), list(refs), lambda s: judge(s, RUNNING), **settings)


def test_waits_then_reaches() -> None:
    w = watch()
    first = w.observe({0: status(JobState.PENDING)})
    assert (first.next, first.delay, first.waiting) == (Next.WAIT, 5.0, (0,))
    done = w.observe({0: status(JobState.RUNNING)})
    assert done.next is Next.REACHED
    assert [s.state for s in w.settle(done)] == [JobState.RUNNING]


def test_a_failed_job_fails_with_the_platform_text() -> None:
    w = watch()
    decision = w.observe({0: status(JobState.FAILED)})
    assert decision.next is Next.FAILED and decision.failed == (0,)
    with pytest.raises(JobFailedError, match=r"fake job 7 ended FAILED \(native state failed\): job 7 broke"):
        w.settle(decision)


def test_unknown_state_keeps_waiting() -> None:
    assert watch().observe({0: status(JobState.UNKNOWN)}).next is Next.WAIT


def test_transient_errors_are_ridden_out_for_the_error_window() -> None:
    clock = Clock()
    w = watch(error_window=60.0, clock=clock)
    assert w.observe({0: error()}).next is Next.WAIT
    clock.now += 30
    assert w.observe({0: error()}).next is Next.WAIT
    # A good poll ends the run of failures: the window starts again at the next one.
    clock.now += 30
    assert w.observe({0: status(JobState.PENDING)}).next is Next.WAIT
    assert w.observe({0: error()}).next is Next.WAIT
    clock.now += 59
    assert w.observe({0: error()}).next is Next.WAIT
    clock.now += 1
    decision = w.observe({0: error()})
    assert decision.next is Next.ERROR
    assert decision.message.startswith("3 poll(s) in a row failed over 60s; last error: ")
    assert "no luck" in decision.message
    with pytest.raises(WatchError, match="watching fake job 7 failed"):
        w.settle(decision)


def test_one_failed_poll_never_ends_the_watch_even_after_the_window() -> None:
    clock = Clock()
    w = watch(error_window=1.0, clock=clock, failing_since=None)
    assert w.observe({0: error()}).next is Next.WAIT


def test_the_window_runs_on_from_where_the_worker_left_it() -> None:
    clock = Clock()
    w = watch(error_window=60.0, clock=clock, failing_since=clock.now - 61)
    assert w.observe({0: error()}).next is Next.ERROR


def test_a_non_retryable_error_ends_the_watch_at_once() -> None:
    decision = watch().observe({0: error(AuthError)})
    assert decision.next is Next.ERROR and decision.message.startswith("1 poll(s) in a row failed")


def test_the_deadline_ends_the_watch_and_shortens_the_last_pause() -> None:
    clock = Clock()
    w = watch(deadline=1007.0, clock=clock)
    assert w.observe({0: status(JobState.PENDING)}).delay == 5.0
    clock.now = 1004.0
    assert w.observe({0: status(JobState.PENDING)}).delay == 3.0
    clock.now = 1007.0
    decision = w.observe({0: status(JobState.PENDING)})
    assert decision.next is Next.TIMEOUT and decision.waiting == (0,)
    with pytest.raises(JobTimeoutError, match="did not reach RUNNING before the timeout; it is PENDING"):
        w.settle(decision, " (a retry reattaches to it)")


def test_several_jobs_settle_together_and_only_the_failed_are_named() -> None:
    w = watch(refs=[{"job_id": "1"}, {"job_id": "2"}], multi_job=True)
    first = w.observe({0: status(JobState.RUNNING, "1"), 1: status(JobState.PENDING, "2")})
    assert first.next is Next.WAIT and first.waiting == (1,)
    decision = w.observe({1: status(JobState.FAILED, "2")})
    assert decision.next is Next.FAILED and decision.failed == (1,)
    with pytest.raises(JobFailedError, match="1 of 2 jobs failed: fake job 2 ended FAILED") as raised:
        w.settle(decision)
    assert [job["job_id"] for job in raised.value.result["jobs"]] == ["1", "2"]


def test_each_state_change_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    w = watch(log=logging.getLogger("watch-test"))
    with caplog.at_level(logging.INFO, logger="watch-test"):
        for state in (JobState.PENDING, JobState.PENDING, JobState.RUNNING):
            w.observe({0: status(state)})
    lines = [r.getMessage() for r in caplog.records if "fake job 7 is" in r.getMessage()]
    assert lines == [
        "fake job 7 is PENDING (native state pending); console: n/a",
        "fake job 7 is RUNNING (native state running); console: n/a",
    ]


def test_the_trigger_event_round_trips_through_json_and_settles_the_same() -> None:
    w = watch()
    w.observe({0: status(JobState.PENDING)})
    decision = w.observe({0: status(JobState.FAILED)})
    data = WatchEvent.of(decision, w).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert "error" not in data and "message" not in data  # nothing an event viewer draws red
    report = WatchEvent.from_dict(data)
    assert report.refs == (REF,) and report.awaited == "RUNNING"
    assert report.last_logged == w.last_logged
    with pytest.raises(JobFailedError) as direct:
        w.settle(decision)
    with pytest.raises(JobFailedError) as via_event:
        watch().settle(report.decision())
    assert str(via_event.value) == str(direct.value)
    assert via_event.value.result == direct.value.result


def test_an_unreadable_event_is_a_watch_error() -> None:
    with pytest.raises(WatchError, match="cannot read"):
        WatchEvent.from_dict({"status": "reached"})


def test_an_unchanged_status_keeps_the_object_already_held() -> None:
    # A triggerer polls each job for months: the watch keeps the status it holds when a poll finds the
    # same, so the new one dies young (the garbage collector's oldest generation does not grow per poll).
    w = watch()
    first = status(JobState.PENDING)
    w.observe({0: first})
    w.observe({0: status(JobState.PENDING)})
    assert w.latest[0] is first
    changed = status(JobState.RUNNING)
    w.observe({0: changed})
    assert w.latest[0] is changed


def test_watches_waiting_for_the_same_states_share_one_verdict() -> None:
    assert verdict_for(RUNNING) is verdict_for(frozenset(RUNNING))
    assert verdict_for(RUNNING)(status(JobState.RUNNING)) is Verdict.REACHED
    assert verdict_for(RUNNING)(status(JobState.FAILED)) is Verdict.FAILED
    assert verdict_for(RUNNING)(status(JobState.PENDING)) is Verdict.WAITING
