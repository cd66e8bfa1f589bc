"""DLI job ids as a DAG author gives them (a number, its digits, a list, or a list rendered as text),
and everything else failing naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.arguments.huawei_dli import dli_job_id, dli_job_ids
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.hooks.huawei_dli import DliFlinkHook


@pytest.mark.parametrize(("value", "job_id"), [(101, 101), ("101", 101), (" 7 ", 7), (2**63 - 1, 2**63 - 1)])
def test_a_job_id_is_a_positive_integer(value: Any, job_id: int) -> None:
    assert dli_job_id(value) == job_id


@pytest.mark.parametrize(
    "value", ["../../x", "abc", "", "1/2", "-1", "1.5", None, True, False, 0, -3, 1.0, 2**63]
)
def test_anything_else_is_no_job_id(value: Any) -> None:
    with pytest.raises(ValueError) as info:
        dli_job_id(value)
    assert str(info.value) == f"job_id: DLI job ids are positive integers, got {value!r}"


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        (101, [101]),
        ("101", [101]),
        ([101, "102"], [101, 102]),
        ((101,), [101]),
        # What a templated field renders to, without render_template_as_native_obj.
        ("[101, 102]", [101, 102]),
        (" [101] ", [101]),
        ("['101', '102']", [101, 102]),
        ('["101", 102]', [101, 102]),
    ],
)
def test_job_ids_are_one_id_a_list_or_the_text_of_either(value: Any, ids: list[int]) -> None:
    assert dli_job_ids(value) == ids


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "job_ids: must be a job id or a list of job ids, got None"),
        ([True], "job_ids[0]: DLI job ids are positive integers, got True"),
        (True, "job_ids: must be a job id or a list of job ids, got True"),
        ([101, None], "job_ids[1]: DLI job ids are positive integers, got None"),
        (["../../x"], "job_ids[0]: DLI job ids are positive integers, got '../../x'"),
        ("abc", "job_ids[0]: DLI job ids are positive integers, got 'abc'"),
        ("101, 102", "job_ids[0]: DLI job ids are positive integers, got '101, 102'"),
        ("[101, 102", "job_ids: must be a job id or a list of job ids, got '[101, 102'"),
        ("[__import__('os')]", "job_ids: must be a job id or a list of job ids, got \"[__import__('os')]\""),
        ("[[101]]", "job_ids[0]: DLI job ids are positive integers, got [101]"),
        ({"a": 1}, "job_ids: must be a job id or a list of job ids, got {'a': 1}"),
        ([], "job_ids: must name at least 1 job, got []"),
        ("[]", "job_ids: must name at least 1 job, got '[]'"),
        ([101, "101"], "job_ids: job id 101 is given twice, got [101, '101']"),
    ],
)
def test_anything_else_fails_naming_job_ids(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        dli_job_ids(value)
    assert str(info.value) == message


def test_the_run_spec_names_the_item_once() -> None:
    with pytest.raises(JobSpecError) as info:
        DliFlinkHook().validate_spec({"kind": "jobs", "job_ids": [101, True]})
    assert str(info.value) == "invalid DLI run spec: job_ids[1]: DLI job ids are positive integers, got True"
    units = DliFlinkHook().validate_spec({"kind": "jobs", "job_ids": "[101, 102]"}).units
    assert [u.job_id for u in units] == [101, 102]
