"""The job state model and the Volcengine native-state table (https://volcengine.com/docs/6581/1359416)."""

from __future__ import annotations

import logging
import uuid
from typing import get_args

import pytest

from airflow_provider_flinkcloud.core.jobs import JobStatus, Verdict, judge, targets_for
from airflow_provider_flinkcloud.core.states import (
    ACTIVE_STATES,
    TERMINAL_STATES,
    JobState,
    StateTable,
    parse_target_states,
)
from airflow_provider_flinkcloud.models.volcengine import (
    ACTIVE_INSTANCE_STATES,
    INSTANCE_STATES,
    InstanceStateName,
)

# Every instance state ListApplicationInstance documents, plus CREATED (records before any start).
DOCUMENTED_VOLCENGINE_STATES = {
    "STARTING": JobState.PENDING,
    "RUNNING": JobState.RUNNING,
    "CANCELLING": JobState.STOPPING,
    "SUCCEEDED": JobState.SUCCESS,
    "FAILED": JobState.FAILED,
    "STOPPED": JobState.CANCELED,
    "UNKNOWN": JobState.UNKNOWN,
    "CREATED": JobState.PENDING,
}
STATES_LOGGER = "airflow_provider_flinkcloud.core.states"


@pytest.mark.parametrize(("native", "expected"), sorted(DOCUMENTED_VOLCENGINE_STATES.items()))
def test_volcengine_state_maps_to_job_state(native: str, expected: JobState) -> None:
    assert INSTANCE_STATES(native) is expected


def test_volcengine_table_covers_every_documented_state() -> None:
    assert set(INSTANCE_STATES.mapping) == set(DOCUMENTED_VOLCENGINE_STATES)
    # The model's own literal of instance states is covered too.
    assert set(get_args(InstanceStateName)) <= set(INSTANCE_STATES.mapping)


def test_volcengine_active_lookup_states_are_active() -> None:
    # The reattach lookup lists instances in these states; each must count as an active run.
    assert {INSTANCE_STATES(s) for s in ACTIVE_INSTANCE_STATES} <= ACTIVE_STATES


def test_volcengine_terminal_states() -> None:
    terminal = {native for native, state in DOCUMENTED_VOLCENGINE_STATES.items() if state.is_terminal}
    assert terminal == {"SUCCEEDED", "FAILED", "STOPPED"}


def test_unmapped_state_is_unknown_and_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    native = f"REBALANCING_{uuid.uuid4().hex[:6].upper()}"
    with caplog.at_level(logging.WARNING, logger=STATES_LOGGER):
        assert INSTANCE_STATES(native) is JobState.UNKNOWN
        assert INSTANCE_STATES(native) is JobState.UNKNOWN
        assert INSTANCE_STATES(native) is JobState.UNKNOWN
    warnings = [r for r in caplog.records if r.name == STATES_LOGGER and native in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "Volcengine Flink" in warnings[0].getMessage()


def test_each_unmapped_value_is_warned_separately(caplog: pytest.LogCaptureFixture) -> None:
    table = StateTable("Test platform", {"UP": JobState.RUNNING})
    with caplog.at_level(logging.WARNING, logger=STATES_LOGGER):
        assert table("DOWN") is JobState.UNKNOWN
        assert table("SIDEWAYS") is JobState.UNKNOWN
        assert table("DOWN") is JobState.UNKNOWN
        assert table("UP") is JobState.RUNNING
    messages = [r.getMessage() for r in caplog.records if r.name == STATES_LOGGER]
    assert len(messages) == 2
    assert any("'DOWN'" in m for m in messages) and any("'SIDEWAYS'" in m for m in messages)


def test_missing_state_is_unknown_without_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=STATES_LOGGER):
        assert INSTANCE_STATES(None) is JobState.UNKNOWN
    assert not [r for r in caplog.records if r.name == STATES_LOGGER]


def test_parse_target_states_is_case_insensitive() -> None:
    parsed = parse_target_states(["success", "Running", JobState.FAILED, "canceled"])
    assert parsed == frozenset({JobState.SUCCESS, JobState.RUNNING, JobState.FAILED, JobState.CANCELED})


def test_parse_target_states_accepts_every_job_state() -> None:
    assert parse_target_states(s.value.lower() for s in JobState) == frozenset(JobState)


def test_parse_target_states_rejects_a_bad_name_naming_it() -> None:
    with pytest.raises(ValueError, match="target_states") as info:
        parse_target_states(["SUCCESS", "FINISHED"])
    assert "'FINISHED'" in str(info.value)
    assert "SUCCESS" in str(info.value) and "CANCELED" in str(info.value)  # lists the allowed values


def test_parse_target_states_rejects_an_empty_set() -> None:
    with pytest.raises(ValueError, match="target_states: must name at least one"):
        parse_target_states([])


def test_terminal_and_active_sets() -> None:
    assert frozenset({JobState.SUCCESS, JobState.FAILED, JobState.CANCELED}) == TERMINAL_STATES
    assert frozenset({JobState.PENDING, JobState.RUNNING, JobState.PAUSED}) == ACTIVE_STATES
    assert not TERMINAL_STATES & ACTIVE_STATES
    # Neither finished nor running: a stop in progress, and a state nobody knows.
    assert set(JobState) - TERMINAL_STATES - ACTIVE_STATES == {JobState.STOPPING, JobState.UNKNOWN}
    assert [s for s in JobState if s.is_terminal] == [JobState.SUCCESS, JobState.FAILED, JobState.CANCELED]


def test_job_state_is_its_name_as_a_string() -> None:
    assert str(JobState.RUNNING) == "RUNNING"
    assert f"{JobState.CANCELED}" == "CANCELED"
    assert JobState("PAUSED") is JobState.PAUSED


def _status(state: JobState) -> JobStatus:
    return JobStatus(platform="volcengine", ref={"instance_id": "1"}, state=state, native_state=state.value)


@pytest.mark.parametrize(
    ("state", "wait_for", "verdict"),
    [
        (JobState.PENDING, "RUNNING", Verdict.WAITING),
        (JobState.RUNNING, "RUNNING", Verdict.REACHED),
        # A batch job that already finished has passed through RUNNING.
        (JobState.SUCCESS, "RUNNING", Verdict.REACHED),
        (JobState.RUNNING, "SUCCESS", Verdict.WAITING),
        (JobState.UNKNOWN, "SUCCESS", Verdict.WAITING),
        (JobState.STOPPING, "SUCCESS", Verdict.WAITING),
        (JobState.SUCCESS, "SUCCESS", Verdict.REACHED),
        (JobState.FAILED, "RUNNING", Verdict.FAILED),
        (JobState.CANCELED, "SUCCESS", Verdict.FAILED),
    ],
)
def test_judge(state: JobState, wait_for: str, verdict: Verdict) -> None:
    assert judge(_status(state), targets_for(wait_for)) is verdict
