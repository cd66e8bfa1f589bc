"""``target_states`` as users give it: one state as text is that state, never its letters."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.core.states import JobState, parse_target_states


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("RUNNING", {JobState.RUNNING}),
        (" running ", {JobState.RUNNING}),
        (JobState.SUCCESS, {JobState.SUCCESS}),
        (["SUCCESS", "running"], {JobState.SUCCESS, JobState.RUNNING}),
        ({"FAILED"}, {JobState.FAILED}),
        (("CANCELED",), {JobState.CANCELED}),
    ],
)
def test_one_state_or_a_collection_of_states(given: Any, expected: set[JobState]) -> None:
    assert parse_target_states(given) == frozenset(expected)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("RUNING", "target_states: 'RUNING' is not a job state (allowed: PENDING, RUNNING"),
        (None, "target_states: must be a job state or a set of job states, got None"),
        (3, "target_states: must be a job state or a set of job states, got 3"),
        ({"RUNNING": True}, "target_states: must be a job state or a set of job states"),
        ([1], "target_states: 1 is not a job state"),
        ([], "target_states: must name at least one job state"),
        ("", "target_states: '' is not a job state"),
    ],
)
def test_anything_else_fails_naming_target_states(given: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_target_states(given)
    assert str(info.value).startswith(message)
