"""The Dinky client reads every reply of ``tests/vectors/dinky_samples.json`` (payloads built from Dinky's
Java classes): successes parse into the models, errors become typed errors keyed on ``code``."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flinkcloud.clients.dinky import (
    DinkyClient,
    DinkySettings,
    summarize_java_error,
    token_name_for,
)
from airflow_provider_flinkcloud.core.errors import AuthError, InvalidRequestError, JobSpecError
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiResponse, api_error
from airflow_provider_flinkcloud.models.dinky import DinkySubmitSpec

SAMPLES = {
    s["name"]: s
    for s in json.loads((Path(__file__).parents[2] / "vectors" / "dinky_samples.json").read_text())["samples"]
}
SUCCESSES = [name for name, s in SAMPLES.items() if s["response"]["body"].get("code") == 0]
FAILURES = [name for name, s in SAMPLES.items() if s["response"]["body"].get("code") != 0]


def client(version: str = "1.2.0", **fields: Any) -> DinkyClient:
    dinky = DinkyClient(DinkySettings(conn_id="dinky", endpoint="http://127.0.0.1:8888", **fields))
    dinky.server_version = version
    return dinky


def reply(name: str) -> ApiResponse:
    response = SAMPLES[name]["response"]
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    return ApiResponse(response["status"], headers, json.dumps(response["body"]).encode())


def call_for(name: str, dinky: DinkyClient) -> ApiCall[Any]:
    spec = DinkySubmitSpec(dinky_task_id=1)
    return {
        "login": dinky.login_call,
        "tokenInfo": dinky.token_info_call,
        "submitTask": lambda: dinky.submit_task_call(spec),
        "getJobInstance": lambda: dinky.job_instance_call(7),
        "getJobInstanceByTaskId": lambda: dinky.newest_instance_call(1),
        "cancel": lambda: dinky.cancel_call(1),
        "savepoint": lambda: dinky.savepoint_call(1, "trigger"),
        "restartTask": lambda: dinky.submit_task_call(spec),
    }[SAMPLES[name]["request"]["url"].split("?")[0].rsplit("/", 1)[1]]()


def test_every_sample_is_covered() -> None:
    assert len(SAMPLES) == 18 and len(SUCCESSES) + len(FAILURES) == 18


@pytest.mark.parametrize("name", SUCCESSES)
def test_each_success_sample_parses(name: str) -> None:
    legacy = "0.7" in name
    dinky = client("0.7" if legacy else "1.2.0", login="admin", password="dinky123!@#")
    call = call_for(name, dinky)
    response = reply(name)
    assert api_error(dinky, call.request, response) is None
    parsed = call.parse(response)
    if name.startswith("submitTask") or name == "restartTask":
        assert (parsed.job_instance_id, parsed.job_id) == (7, "8d1e6f0c2b9a4e7d93c5a1f08b6e2d47")
    elif name == "login_success":
        assert parsed == "5f0c2a3e-9b1d-4c7e-8a2f-6d3b1e9c4a70"  # from the header, not data.tokenInfo
    elif name == "getJobInstanceByTaskId_never_submitted":
        assert parsed is None
    elif name.startswith("getJobInstance"):
        assert (parsed.instance.id, parsed.instance.task_id) == (7, 1)
        assert parsed.instance.status in ("RUNNING", "FINISHED") and parsed.server_time
    elif name == "savepoint_trigger":
        assert parsed.path == "file:///flink/savepoints/savepoint-8d1e6f-5c1b2a3d4e5f"
    elif name == "cancel_success":
        assert parsed is True


@pytest.mark.parametrize("name", FAILURES)
def test_each_failure_sample_is_a_typed_error_keyed_on_its_code(name: str) -> None:
    dinky = client(login="admin", password="wrong")
    body = SAMPLES[name]["response"]["body"]
    error = api_error(dinky, call_for(name, dinky).request, reply(name))
    assert error is not None
    assert isinstance(error, AuthError if body["code"] == 7 else InvalidRequestError)
    assert f"({body['code']})" in str(error.code)
    assert not dinky.codes.is_retryable(error)
    # A stack trace is cut to the exception and its causes; the message itself is never keyed on.
    assert "\tat " not in error.message


def test_a_failed_sql_submit_shows_the_statement_and_the_cause_not_the_frames() -> None:
    head = (
        "java.lang.Exception: Exception in executing FlinkSQL:\n1    \n2    INSERT INTO snk SELECT 1\n"
        "org.apache.flink.table.api.ValidationException: Object 'snk' not found\n"
    )
    trace = (
        head
        + "\tat org.dinky.job.JobManager.executeSql(JobManager.java:321)\n" * 3
        + "Caused by: org.apache.flink.table.api.ValidationException: Object 'snk' not found\n"
        "\tat org.apache.calcite.Foo.bar(Foo.java:1)\n\t... 87 more"
    )
    summary = summarize_java_error(trace)
    assert summary.splitlines() == [
        "java.lang.Exception: Exception in executing FlinkSQL:",
        "1",
        "2    INSERT INTO snk SELECT 1",
        "org.apache.flink.table.api.ValidationException: Object 'snk' not found",
        "Caused by: org.apache.flink.table.api.ValidationException: Object 'snk' not found",
    ]


def test_messages_in_another_language_change_nothing() -> None:
    dinky = client()
    chinese = ApiResponse(
        200, {}, json.dumps({"data": None, "code": 1, "msg": "作业不存在", "success": False}).encode()
    )
    error = api_error(dinky, dinky.newest_instance_call(1).request, chinese)
    assert (
        isinstance(error, InvalidRequestError) and error.code == "ERROR(1)" and error.message == "作业不存在"
    )


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("1.2.0", "dinky-token"),
        ("1.2.0-SNAPSHOT", "dinky-token"),
        ("1.1.0", "token"),
        ("1.0.3", "token"),
        ("0.7", "satoken"),
        (None, "dinky-token"),
    ],
)
def test_the_token_name_follows_the_server_version(version: str | None, name: str) -> None:
    assert token_name_for(version) == name


def test_the_token_goes_in_the_header_and_the_cookie_but_never_with_the_login() -> None:
    dinky = client("1.1.0", token="t0k3n")
    now = datetime.now(timezone.utc)
    headers = dinky.sign(dinky.newest_instance_call(1).request, "h", now)
    assert headers["token"] == "t0k3n" and headers["Cookie"] == "token=t0k3n"
    named = client("1.1.0", token="t0k3n", token_name="x-dinky")
    assert named.sign(named.cancel_call(1).request, "h", now)["x-dinky"] == "t0k3n"
    login = client("1.2.0", login="admin", password="pw")
    assert "dinky-token" not in login.sign(login.login_call().request, "h", now)


def test_calls_have_each_version_s_shape() -> None:
    spec = DinkySubmitSpec(dinky_task_id=6, variables={"dt": 20240101}, savepoint_path="/sp")
    modern = client().submit_task_call(spec).request
    assert (modern.method, modern.idempotent) == ("POST", False)
    assert json.loads(modern.body) == {"id": 6, "variables": {"dt": "20240101"}, "savePointPath": "/sp"}
    legacy = client("0.7").submit_task_call(DinkySubmitSpec(dinky_task_id=6)).request
    assert (legacy.method, legacy.query) == ("GET", (("id", "6"),))
    with pytest.raises(JobSpecError, match=r"Dinky 0\.7's submitTask takes only the task id"):
        client("0.7").submit_task_call(spec)
    cancel = client().cancel_call(6).request
    assert dict(cancel.query) == {"id": "6", "withSavePoint": "false", "forceCancel": "false"}
    old_cancel = client("0.7").cancel_call(6, jid="abc", address="jm:8081").request
    assert (old_cancel.method, json.loads(old_cancel.body)) == (
        "POST",
        {"jobId": "abc", "address": "jm:8081"},
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"login": "admin", "token": "t"}, "either a login"),
        ({"login": "admin"}, "login 'admin' has no password"),
    ],
)
def test_connections_that_cannot_work_are_refused(fields: dict[str, Any], message: str) -> None:
    from dataclasses import dataclass

    @dataclass
    class Conn:
        conn_id: str = "dinky"
        host: str | None = "dinky.local"
        port: int | None = 8888
        schema: str | None = None
        login: str | None = None
        password: str | None = None

    extra = {"token": fields.pop("token")} if "token" in fields else {}
    with pytest.raises(JobSpecError, match=message):
        DinkySettings.from_connection(Conn(**fields), extra)
