"""Task arguments checked where the task is constructed (``poll_interval``, ``timeout``), and which
values are left for after templating."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_flinkcloud.core.arguments import as_seconds, is_template


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(30, 30.0), (0.5, 0.5), ("15", 15.0), (" 2.5 ", 2.5), (timedelta(minutes=2), 120.0), (None, None)],
)
def test_durations_in_seconds(value: Any, seconds: float | None) -> None:
    assert as_seconds(value, "timeout") == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "timeout: must be a number of seconds or a timedelta, got 'abc'"),
        ("fast", "timeout: must be a number of seconds or a timedelta, got 'fast'"),
        (True, "timeout: must be a number of seconds or a timedelta, got True"),
        ([30], "timeout: must be a number of seconds or a timedelta, got [30]"),
        (float("nan"), "timeout: must be a number of seconds or a timedelta, got nan"),
        ("inf", "timeout: must be a number of seconds or a timedelta, got 'inf'"),
        (0, "timeout: must be positive, got 0"),
        (-5, "timeout: must be positive, got -5"),
        (timedelta(seconds=-1), "timeout: must be positive, got datetime.timedelta(days=-1, seconds=86399)"),
    ],
)
def test_bad_durations_name_the_argument(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        as_seconds(value, "timeout")
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "templated"),
    [
        ("{{ ti.xcom_pull(task_ids='start')['job_id'] }}", True),
        ("{% if true %}1{% endif %}", True),
        (["{{ params.a }}", 2], True),
        (object(), True),
        ("101", False),
        ("../../x", False),
        ([101, "102"], False),
        (101, False),
        (None, False),
        (True, False),
    ],
)
def test_what_is_left_for_after_templating(value: Any, templated: bool) -> None:
    assert is_template(value) is templated
