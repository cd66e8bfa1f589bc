"""Volcengine ids (int64, sent as digit strings) and ``Conf`` (a JSON object) as a DAG author gives them."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.arguments.volcengine import volcengine_id
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
from airflow_provider_flinkcloud.models.volcengine import VolcengineFlinkApp

# The shape of the ids the platform (and the emulator) mints: 19 digits.
INSTANCE_ID = "1840123456789012345"


def sql_app(**changes: Any) -> dict[str, Any]:
    return {
        "JobType": "FLINK_STREAMING_SQL",
        "JobName": "orders-enrichment",
        "UniqueKey": "orders-enrichment-key",
        "SqlText": "INSERT INTO sink SELECT * FROM orders;",
        **changes,
    }


@pytest.mark.parametrize(
    ("value", "text"), [(INSTANCE_ID, INSTANCE_ID), (f" {INSTANCE_ID} ", INSTANCE_ID), (42, "42"), ("1", "1")]
)
def test_ids_are_positive_int64_digit_strings(value: Any, text: str) -> None:
    assert volcengine_id(value, "instance_id") == text


@pytest.mark.parametrize(
    "value",
    ["", "  ", "abc", "../x", "12a", "-1", "0", "1.5", "9223372036854775808", "1" * 20, None, True, 1.0, 0],
)
def test_anything_else_fails_naming_the_field(value: Any) -> None:
    with pytest.raises(ValueError) as info:
        volcengine_id(value, "instance_id")
    assert (
        str(info.value)
        == f"instance_id: must be a Volcengine id (a positive int64, as digits), got {value!r}"
    )


def test_start_spec_application_id_is_checked(volcengine_conn: Any) -> None:
    hook = VolcengineFlinkHook()
    assert hook.validate_spec({"application_id": 42}).application_id == "42"
    with pytest.raises(JobSpecError) as info:
        hook.validate_spec({"application_id": "orders-enrichment"})
    assert str(info.value) == (
        "invalid Volcengine Flink spec: application_id: must be a Volcengine id (a positive int64, as "
        "digits), got 'orders-enrichment'"
    )


@pytest.mark.parametrize(
    ("conf", "shown"),
    [
        ("[1, 2]", "'[1, 2]'"),
        ("3", "'3'"),
        ('"parallelism.default=2"', "'\"parallelism.default=2\"'"),
        ("null", "'null'"),
        ("{not json", "'{not json'"),
        (["parallelism.default"], "['parallelism.default']"),
        (5, "5"),
        (True, "True"),
    ],
)
def test_conf_that_is_not_a_json_object_fails_naming_app_conf(conf: Any, shown: str) -> None:
    with pytest.raises(JobSpecError) as info:
        validate_model(VolcengineFlinkApp, sql_app(Conf=conf), "Volcengine Flink spec")
    assert str(info.value) == (
        f"invalid Volcengine Flink spec: Conf: must be a JSON object or a JSON string of one, got {shown}"
    )


@pytest.mark.parametrize(
    ("conf", "sent"), [({"a": "1"}, '{"a":"1"}'), ('{"a": 1}', '{"a": 1}'), ("", None), (None, None)]
)
def test_conf_objects_are_sent_as_json_text(conf: Any, sent: str | None) -> None:
    assert VolcengineFlinkApp.model_validate(sql_app(Conf=conf)).conf == sent
