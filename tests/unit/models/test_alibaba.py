"""The foas models: the spec checked before any request, replies read in both list shapes, the state table."""

from __future__ import annotations

import pytest

from airflow_provider_flinkcloud.arguments.alibaba import blink_instance_id, blink_name
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.models.alibaba import (
    INSTANCE_STATES,
    BlinkInstance,
    GetJobResult,
    ListInstanceResult,
    RealtimeComputeStartSpec,
    StartJobResult,
)


def spec(**fields: object) -> RealtimeComputeStartSpec:
    data = {"project_name": "p", "job_name": "j", **fields}
    result: RealtimeComputeStartSpec = validate_model(RealtimeComputeStartSpec, data, "Blink job spec")
    return result


def test_parameters_become_start_jobs_parameter_json() -> None:
    assert (
        spec(parameters={"startOffset": "1730103603000"}).parameter_json()
        == '{"startOffset":"1730103603000"}'
    )
    assert spec(parameters='{"a": 1}').parameters == {"a": 1}
    assert spec().parameter_json() is None and spec(parameters="").parameter_json() is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"parameters": [1, 2]}, "parameters: must be a dict (or a JSON object as text), got [1, 2]"),
        ({"parameters": "not json"}, "parameters: must be a dict (or a JSON object as text)"),
        ({"parameters": {"a": {"b": 1}}}, "parameters: a: must be text, a number or a boolean, got dict"),
        ({"job_name": "a/b"}, "job_name: must not contain '/'"),
        ({"project_name": "  "}, "project_name: must be a non-empty name"),
        ({"queue": "x"}, "queue: Extra inputs are not permitted"),
    ],
)
def test_a_bad_spec_names_its_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(JobSpecError) as info:
        spec(**fields)
    assert message in str(info.value)


@pytest.mark.parametrize("value", ["412536", 412536, " 7 ", str(2**63 - 1)])
def test_instance_ids(value: object) -> None:
    assert blink_instance_id(value, "instance_id") == str(value).strip()


@pytest.mark.parametrize("value", ["-1", "0", "abc", True, None, "1/2", str(2**63)])
def test_bad_instance_ids(value: object) -> None:
    with pytest.raises(ValueError, match="instance_id: must be a Blink instance id"):
        blink_instance_id(value, "instance_id")


def test_names_keep_non_ascii_and_spaces() -> None:
    assert blink_name(" 作业 1 ", "job_name") == "作业 1"
    with pytest.raises(ValueError):
        blink_name("..", "job_name")


def test_every_actual_state_is_mapped() -> None:
    expected = {
        "UNKNOWN": JobState.UNKNOWN,
        "WAITING": JobState.PENDING,
        "RUNNING": JobState.RUNNING,
        "PAUSED": JobState.PAUSED,
        "TERMINATED": JobState.CANCELED,
        "SUCCESS": JobState.SUCCESS,
        "FAILED": JobState.FAILED,
    }
    assert {state: INSTANCE_STATES(state) for state in expected} == expected
    assert INSTANCE_STATES("SOMETHING_NEW") is JobState.UNKNOWN


def test_list_instance_reads_the_nested_and_the_bare_list() -> None:
    record = {"Id": 1, "JobName": "j", "ActualState": "RUNNING", "StartTime": 1599794335000}
    nested = ListInstanceResult.model_validate({"TotalCount": 1, "Instances": {"Instance": [record]}})
    bare = ListInstanceResult.model_validate({"TotalCount": 1, "Instances": [record]})
    assert nested.instances == bare.instances
    assert nested.instances[0].id == "1" and nested.instances[0].started_ms == 1599794335000


def test_a_stop_under_way_is_seen_from_expect_state() -> None:
    stopping = BlinkInstance.model_validate({"Id": 1, "ActualState": "RUNNING", "ExpectState": "TERMINATED"})
    running = BlinkInstance.model_validate({"Id": 1, "ActualState": "RUNNING", "ExpectState": "RUNNING"})
    assert stopping.is_stopping and not running.is_stopping


def test_start_job_reads_the_lower_case_instance_id() -> None:
    assert StartJobResult.model_validate({"RequestId": "r", "instanceId": 415854}).instance_id == "415854"


def test_job_type_is_compared_upper_cased() -> None:
    job = GetJobResult.model_validate(
        {"Job": {"JobName": "j", "JobType": "flink_batch", "IsCommitted": True}}
    ).job
    assert job.job_type == "FLINK_BATCH"
