"""Ids that go into DLI's URL paths are checked and escaped before a call is built."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.clients.huawei_dli import DliClient, segment
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.emulator import DLI_PROJECT_ID

HUAWEI_PROJECT_ID = "0123456789abcdef0123456789abcdef"  # the shape of a real one: 32 hex characters


def client(project_id: str | None = HUAWEI_PROJECT_ID) -> DliClient:
    return DliClient(
        AccessKeySettings(
            conn_id="dli",
            endpoint="http://127.0.0.1:1",
            access_key="AK",
            secret_key="SK",
            region="cn-north-4",
            project_id=project_id,
        )
    )


def test_paths_carry_the_project_and_the_job_id() -> None:
    assert client().show_job_call(101).request.path == f"/v1.0/{HUAWEI_PROJECT_ID}/streaming/jobs/101"
    assert client().show_job_call("101").request.path.endswith("/streaming/jobs/101")
    assert client().update_job_call("jar", 7, {}).request.path.endswith("/streaming/flink-jobs/7")
    assert client().update_job_call("sql", 7, {}).request.path.endswith("/streaming/sql-jobs/7")


@pytest.mark.parametrize("project_id", [HUAWEI_PROJECT_ID, DLI_PROJECT_ID, "A" * 64])
def test_project_ids_of_letters_and_digits_are_accepted(project_id: str) -> None:
    # The emulator's own project id is 32 letters and digits, not hex: it must keep working.
    assert client(project_id).list_jobs_call().request.path == f"/v1.0/{project_id}/streaming/jobs"


@pytest.mark.parametrize("project_id", ["../../v2/x", "my project", "cn-north-4", "a/b", "A" * 65, "ab?c=1"])
def test_other_project_ids_fail_naming_the_field(project_id: str) -> None:
    with pytest.raises(JobSpecError) as info:
        client(project_id)
    assert str(info.value) == (
        "connection 'dli': extra project_id: must be 1-64 letters and digits (Huawei Cloud project ids "
        f"are 32 hex characters), got {project_id!r}"
    )


@pytest.mark.parametrize("job_id", ["../../x", "abc", None, "None", "", True, 0, -1, "1/../2", "1?x=2"])
def test_job_ids_that_are_no_positive_integer_build_no_call(job_id: Any) -> None:
    with pytest.raises(JobSpecError, match=r"^job_id: DLI job ids are positive integers, got "):
        client().show_job_call(job_id)
    with pytest.raises(JobSpecError, match=r"^job_id: DLI job ids are positive integers, got "):
        client().update_job_call("jar", job_id, {})


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("a/b", "a%2Fb"), ("..", ".."), ("a b", "a%20b"), ("x?y#z", "x%3Fy%23z"), (101, "101")],
)
def test_every_path_segment_is_escaped(value: Any, escaped: str) -> None:
    assert segment(value) == escaped
