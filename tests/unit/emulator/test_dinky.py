"""The emulated Dinky answers in the shapes of ``tests/vectors/dinky_samples.json`` (the same keys at
every level, the same codes and HTTP statuses), and follows Dinky's rules: tokens, versions, statuses
that change after the call, and the counters tests read."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl
from airflow_provider_flinkcloud.emulator.dinky import DINKY_API_TOKEN, DINKY_PASSWORD

FAST_TIMINGS = True
SAMPLES = {
    s["name"]: s
    for s in json.loads((Path(__file__).parents[2] / "vectors" / "dinky_samples.json").read_text())["samples"]
}


def shape(value: Any) -> Any:
    """Keys at every level (a list by its first item); leaves are not compared."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [shape(value[0])]
    return None


def same_shape(sample: Any, answer: Any, where: str = "") -> list[str]:
    if not isinstance(sample, dict) or not isinstance(answer, dict) or "..." in sample:
        return []  # "...": the sample names the class only
    problems = []
    if set(sample) != set(answer):
        missing, extra = sorted(set(sample) - set(answer)), sorted(set(answer) - set(sample))
        problems.append(f"{where or '.'}: missing {missing}, extra {extra}")
    for key in set(sample) & set(answer):
        if isinstance(sample[key], dict) and sample[key] and isinstance(answer[key], dict):
            problems += same_shape(sample[key], answer[key], f"{where}.{key}")
    return problems


def send(emulator: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, emulator.url + path, timeout=5, **kwargs)


def check(name: str, response: requests.Response) -> dict[str, Any]:
    sample = SAMPLES[name]["response"]
    assert response.status_code == sample["status"], response.text
    body = response.json()
    assert body["code"] == sample["body"]["code"]
    assert same_shape(sample["body"], body) == []
    return body


def test_version_login_and_token_info(emulator: Emulator, control: EmulatorControl) -> None:
    assert send(emulator, "GET", "/openapi/version").json()["data"] == "1.2.0"
    login = send(emulator, "POST", "/api/login", json={"username": "admin", "password": DINKY_PASSWORD})
    body = check("login_success", login)
    token = login.headers["dinky-token"]
    assert f"dinky-token={token}; Path=/" in login.headers["Set-Cookie"]
    assert body["data"]["tokenInfo"]["tokenValue"] is None  # as Dinky's: built before the login
    check("tokenInfo_after_login", send(emulator, "GET", "/api/tokenInfo", headers={"dinky-token": token}))
    wrong = send(emulator, "POST", "/api/login", json={"username": "admin", "password": "wrong"})
    check("login_failure_wrong_password", wrong)
    anonymous = check("not_logged_in_on_/api_(not_/openapi)", send(emulator, "GET", "/api/tokenInfo"))
    assert anonymous["msg"] == "Can Not Read Token"
    # A second login replaces the first token; an API token is always good.
    send(emulator, "POST", "/api/login", json={"username": "admin", "password": DINKY_PASSWORD})
    replaced = send(emulator, "GET", "/api/tokenInfo", headers={"Cookie": f"dinky-token={token}"})
    assert replaced.status_code == 401 and replaced.json()["code"] == 7
    api = send(emulator, "GET", "/api/tokenInfo", headers={"dinky-token": DINKY_API_TOKEN})
    assert api.json()["success"] is True
    assert control.counters()["dinky"]["logins_by_name"] == {"admin": 2}


def test_submit_watch_cancel_savepoint_restart(emulator: Emulator, control: EmulatorControl) -> None:
    submitted = check("submitTask_success", send(emulator, "POST", "/openapi/submitTask", json={"id": 1}))
    instance_id = submitted["data"]["jobInstanceId"]
    first = send(emulator, "GET", "/openapi/getJobInstance", params={"id": instance_id}).json()
    assert first["data"]["status"] == "INITIALIZING"  # refreshed after the call, not during it
    time.sleep(0.15)
    check(
        "getJobInstance_running", send(emulator, "GET", "/openapi/getJobInstance", params={"id": instance_id})
    )
    check(
        "savepoint_trigger",
        send(emulator, "POST", "/openapi/savepoint", params={"taskId": 1, "savePointType": "trigger"}),
    )
    check("restartTask", send(emulator, "GET", "/openapi/restartTask", params={"id": 1, "savePointPath": ""}))
    cancel = send(
        emulator, "GET", "/openapi/cancel", params={"id": 1, "withSavePoint": "false", "forceCancel": "true"}
    )
    check("cancel_success", cancel)
    newest = send(emulator, "GET", "/openapi/getJobInstanceByTaskId", params={"id": 1}).json()["data"]
    assert newest["status"] == "CANCELLING"
    counters = control.counters()["dinky"]
    assert counters["submits_by_name"] == {"orders_enrichment": 2}
    assert (counters["restarts_by_name"], counters["cancels_by_name"]) == (
        {"orders_enrichment": 1},
        {"orders_enrichment": 1},
    )
    assert counters["openapi_callers"] == {"anonymous": 7}


def test_a_batch_task_finishes(emulator: Emulator, control: EmulatorControl) -> None:
    check(
        "getJobInstanceByTaskId_never_submitted",
        send(emulator, "GET", "/openapi/getJobInstanceByTaskId", params={"id": 2}),
    )
    send(emulator, "POST", "/openapi/submitTask", json={"id": 2})
    time.sleep(0.4)
    finished = check(
        "getJobInstanceByTaskId_finished",
        send(emulator, "GET", "/openapi/getJobInstanceByTaskId", params={"id": 2}),
    )
    assert finished["data"]["status"] == "FINISHED" and finished["data"]["finishTime"]


def test_errors_in_dinky_s_wrapper(emulator: Emulator, control: EmulatorControl) -> None:
    check("submitTask_task_not_found", send(emulator, "POST", "/openapi/submitTask", json={"id": 99999}))
    check("getJobInstance_not_found", send(emulator, "GET", "/openapi/getJobInstance", params={"id": 99999}))
    check("cancel_no_job_instance", send(emulator, "GET", "/openapi/cancel", params={"id": 2}))
    check("wrong_http_method", send(emulator, "GET", "/openapi/submitTask", params={"id": 1}))
    control.configure(
        "dinky", submit_errors={"orders_enrichment": "org.apache.flink.util.FlinkException: boom"}
    )
    failed = check(
        "submitTask_flink_cluster_unreachable_or_sql_error",
        send(emulator, "POST", "/openapi/submitTask", json={"id": 1}),
    )
    assert failed["msg"].startswith("Exception in executing FlinkSQL:\n1") and "boom" in failed["msg"]
    assert "\tat org.dinky.job.JobManager.executeSql" in failed["data"]
    assert control.counters()["dinky"]["submits_by_name"] == {}


def test_version_0_7_answers_in_its_own_shape(emulator: Emulator, control: EmulatorControl) -> None:
    control.configure("dinky", version="0.7.5")
    assert send(emulator, "GET", "/openapi/version").status_code == 404
    submitted = check("submitTask_0.7.x", send(emulator, "GET", "/openapi/submitTask", params={"id": 1}))
    assert "success" not in submitted and submitted["datas"]["jobInstanceId"]
    instance = send(
        emulator, "GET", "/openapi/getJobInstance", params={"id": submitted["datas"]["jobInstanceId"]}
    )
    assert instance.json()["datas"]["jobManagerAddress"] == "127.0.0.1:8081"
    cancel = send(
        emulator,
        "POST",
        "/openapi/cancel",
        json={"jobId": submitted["datas"]["jobId"], "address": "127.0.0.1:8081"},
    )
    assert cancel.json()["code"] == 0
    assert send(emulator, "POST", "/openapi/submitTask", json={"id": 1}).json()["code"] == 1
    control.reset()
    assert send(emulator, "GET", "/openapi/version").json()["data"] == "1.2.0"


def test_settings_are_checked(control: EmulatorControl) -> None:
    from airflow_provider_flinkcloud.emulator import EmulatorControlError

    with pytest.raises(EmulatorControlError, match="'version' must be one of"):
        control.configure("dinky", version="2.0")
    with pytest.raises(EmulatorControlError, match="has no settings"):
        control.configure("volcengine", version="1")
    added = control.configure("dinky", tasks=[{"id": 42, "name": "adhoc", "batch": True}])
    assert {
        "id": 42,
        "name": "adhoc",
        "batch": True,
        "statement": "INSERT INTO snk SELECT id FROM src",
    } in added["tasks"]
