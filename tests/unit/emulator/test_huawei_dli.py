"""The emulator's Huawei Cloud DLI Flink API, driven over real HTTP with the provider's own signer."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from airflow_provider_flinkcloud.emulator import (
    DLI_ACCESS_KEY,
    DLI_PROJECT_ID,
    DLI_SECRET_KEY,
    DLI_STS_ACCESS_KEY,
    DLI_STS_SECRET_KEY,
    DLI_STS_TOKEN,
    Emulator,
    EmulatorControl,
    EmulatorControlError,
)
from airflow_provider_flinkcloud.emulator.huawei_dli import is_batch_job
from airflow_provider_flinkcloud.signers.huawei import (
    EMPTY_BODY_SHA256,
    HuaweiCredentials,
    canonical_query,
    canonical_request,
    sign,
    signature,
)

SIGNATURE_FAIL = "Incorrect IAM authentication information: verify aksk signature fail"
OTHER_PROJECT = "anotherproject00000000000000002"


FAST_TIMINGS = True


class Dli:
    """A minimal signed client, as the provider's hook will be (the SDK's minimal header set)."""

    def __init__(
        self,
        url: str,
        access_key: str = DLI_ACCESS_KEY,
        secret_key: str = DLI_SECRET_KEY,
        project_id: str = DLI_PROJECT_ID,
        security_token: str | None = None,
        *,
        project_header: bool = True,
    ) -> None:
        self.url = url
        self.project_id = project_id
        self.credentials = HuaweiCredentials(
            access_key,
            secret_key,
            project_id=project_id if project_header else None,
            security_token=security_token,
        )

    def prepare(
        self,
        method: str,
        resource: str,
        body: Any = None,
        *,
        query: Sequence[tuple[str, str]] = (),
        now: datetime | None = None,
        project_id: str | None = None,
        prefix: str = "/v1.0",
    ) -> tuple[str, dict[str, str], bytes]:
        path = f"{prefix}/{project_id or self.project_id}/{resource}"
        payload = b"" if body is None else json.dumps(body).encode()
        signed = sign(
            method=method,
            path=path,
            query=list(query),
            headers={"Host": urlsplit(self.url).netloc, "Content-Type": "application/json"},
            body=payload,
            credentials=self.credentials,
            now=now or datetime.now(timezone.utc),
        )
        # The SDK sends the canonical query string itself.
        query_string = canonical_query(query)
        return f"{self.url}{path}" + (f"?{query_string}" if query_string else ""), signed, payload

    def call(self, method: str, resource: str, body: Any = None, **kwargs: Any) -> requests.Response:
        url, headers, payload = self.prepare(method, resource, body, **kwargs)
        return requests.request(method, url, headers=headers, data=payload, timeout=10)

    def ok(self, method: str, resource: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.call(method, resource, body, **kwargs)
        assert response.status_code == 200, response.text
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
        return response.json()

    # -- operations ----------------------------------------------------------------------------

    def create_jar(self, name: str, **fields: Any) -> int:
        body = {"name": name, "entrypoint": "obs://bucket/app.jar", "main_class": "a.Main", **fields}
        return int(self.ok("POST", "streaming/flink-jobs", body)["job"]["job_id"])

    def create_sql(self, name: str, **fields: Any) -> int:
        body = {"name": name, "sql_body": "INSERT INTO sink SELECT * FROM src", **fields}
        return int(self.ok("POST", "streaming/sql-jobs", body)["job"]["job_id"])

    def show(self, job_id: int) -> dict[str, Any]:
        detail: dict[str, Any] = self.ok("GET", f"streaming/jobs/{job_id}")["job_detail"]
        return detail

    def run(self, *job_ids: int, resume_savepoint: bool | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"job_ids": list(job_ids)}
        if resume_savepoint is not None:
            body["resume_savepoint"] = resume_savepoint
        result: list[dict[str, Any]] = self.ok("POST", "streaming/jobs/run", body)
        return result

    def stop(self, *job_ids: int, trigger_savepoint: bool | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"job_ids": list(job_ids)}
        if trigger_savepoint is not None:
            body["trigger_savepoint"] = trigger_savepoint
        result: list[dict[str, Any]] = self.ok("POST", "streaming/jobs/stop", body)
        return result

    def list(self, **params: Any) -> dict[str, Any]:
        query = [
            (name, str(value).lower() if isinstance(value, bool) else str(value))
            for name, value in params.items()
        ]
        job_list: dict[str, Any] = self.ok("GET", "streaming/jobs", query=query)["job_list"]
        return job_list


@pytest.fixture
def dli(emulator: Emulator, control: EmulatorControl) -> Dli:
    return Dli(emulator.url)


def gateway_error(response: requests.Response, status: int = 401) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == "APIG.0301"
    assert body["request_id"] == response.headers["X-Request-Id"]
    message: str = body["error_msg"]
    return message


def wait_for_status(dli: Dli, job_id: int, status: str, timeout: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        detail = dli.show(job_id)
        if detail["status"] == status:
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is {detail['status']}, not {status}")
        time.sleep(0.02)


DELIVERED = {
    "is_success": "true",
    "message": "The request for submitting DLI jobs is delivered successfully.",
}
STOPPING = {"is_success": "true", "message": "The request for stopping DLI jobs is successfully delivered."}


# -- authentication --------------------------------------------------------------------------------


def test_signed_request_is_accepted(dli: Dli) -> None:
    assert dli.list()["total_count"] == 0


def test_wrong_secret(emulator: Emulator, control: EmulatorControl) -> None:
    response = Dli(emulator.url, secret_key="not-the-secret").call("GET", "streaming/jobs")
    assert gateway_error(response) == SIGNATURE_FAIL


def test_unknown_access_key(emulator: Emulator, control: EmulatorControl) -> None:
    response = Dli(emulator.url, access_key="NOSUCHAK").call("GET", "streaming/jobs")
    assert gateway_error(response) == (
        "Incorrect IAM authentication information: Get secretKey failed,ak:NOSUCHAK,err:ak not exist"
    )


def test_missing_authorization(dli: Dli) -> None:
    response = requests.get(f"{dli.url}/v1.0/{DLI_PROJECT_ID}/streaming/jobs", timeout=10)
    assert gateway_error(response) == "Incorrect IAM authentication information: x-auth-token not found"


def test_malformed_authorization(dli: Dli) -> None:
    url, headers, _ = dli.prepare("GET", "streaming/jobs")
    headers["Authorization"] = "SDK-HMAC-SHA256 Access=x"
    assert gateway_error(requests.get(url, headers=headers, timeout=10)) == SIGNATURE_FAIL


@pytest.mark.parametrize("skew", [timedelta(minutes=-16), timedelta(minutes=16)])
def test_stale_or_future_sdk_date(dli: Dli, skew: timedelta) -> None:
    signed_at = datetime.now(timezone.utc) + skew
    message = gateway_error(dli.call("GET", "streaming/jobs", now=signed_at))
    assert message.startswith("Incorrect IAM authentication information: signature expired, ")
    assert f"signature time:{signed_at.strftime('%Y%m%dT%H%M%SZ')}" in message


def test_sdk_date_within_the_window_is_accepted(dli: Dli) -> None:
    dli.ok("GET", "streaming/jobs", now=datetime.now(timezone.utc) - timedelta(minutes=14))


def test_tampered_body(dli: Dli) -> None:
    url, headers, _ = dli.prepare("POST", "streaming/flink-jobs", {"name": "a"})
    response = requests.post(url, headers=headers, data=json.dumps({"name": "b"}), timeout=10)
    assert gateway_error(response) == SIGNATURE_FAIL


def test_tampered_query(dli: Dli) -> None:
    url, headers, _ = dli.prepare("GET", "streaming/jobs", query=[("name", "a")])
    response = requests.get(url.replace("name=a", "name=b"), headers=headers, timeout=10)
    assert gateway_error(response) == SIGNATURE_FAIL


@pytest.mark.parametrize("header", ["host", "x-sdk-date"])
def test_host_and_date_must_be_signed(dli: Dli, header: str) -> None:
    path = f"/v1.0/{DLI_PROJECT_ID}/streaming/jobs"
    sdk_date = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "host": urlsplit(dli.url).netloc,
        "content-type": "application/json",
        "x-project-id": DLI_PROJECT_ID,
        "x-sdk-date": sdk_date,
    }
    # A correct signature over every header but one: the gateway still refuses it.
    names = sorted(name for name in headers if name != header)
    canonical = canonical_request("GET", path, [], headers, names, EMPTY_BODY_SHA256)
    authorization = (
        f"SDK-HMAC-SHA256 Access={DLI_ACCESS_KEY}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature(DLI_SECRET_KEY, sdk_date, canonical)}"
    )
    response = requests.get(
        f"{dli.url}{path}", headers={**headers, "Authorization": authorization}, timeout=10
    )
    assert gateway_error(response) == SIGNATURE_FAIL
    names_all = sorted(headers)
    canonical = canonical_request("GET", path, [], headers, names_all, EMPTY_BODY_SHA256)
    good = authorization.replace(";".join(names), ";".join(names_all)).rsplit("Signature=", 1)[0]
    good += f"Signature={signature(DLI_SECRET_KEY, sdk_date, canonical)}"
    assert requests.get(f"{dli.url}{path}", headers={**headers, "Authorization": good}, timeout=10).ok


def test_temporary_credentials(emulator: Emulator, control: EmulatorControl) -> None:
    sts = Dli(emulator.url, DLI_STS_ACCESS_KEY, DLI_STS_SECRET_KEY, security_token=DLI_STS_TOKEN)
    assert sts.list()["total_count"] == 0
    missing = Dli(emulator.url, DLI_STS_ACCESS_KEY, DLI_STS_SECRET_KEY).call("GET", "streaming/jobs")
    assert "Get secretKey failed,ak:FLINKCLOUDEMULATORTK" in gateway_error(missing)
    wrong = Dli(emulator.url, DLI_STS_ACCESS_KEY, DLI_STS_SECRET_KEY, security_token="forged")
    assert gateway_error(wrong.call("GET", "streaming/jobs")) == (
        "Incorrect IAM authentication information: decrypt token fail"
    )


def test_project_header_must_match_the_path(dli: Dli) -> None:
    response = dli.call("GET", "streaming/jobs", project_id=OTHER_PROJECT)
    message = gateway_error(response)
    assert OTHER_PROJECT in message and DLI_PROJECT_ID in message


def test_project_header_is_optional(emulator: Emulator, control: EmulatorControl) -> None:
    Dli(emulator.url, project_header=False).ok("GET", "streaming/jobs")


def test_credentials_are_bound_to_their_projects(emulator: Emulator, control: EmulatorControl) -> None:
    # Signed correctly, header and path agree, but the default AK may not use that project.
    foreign = Dli(emulator.url, project_id=OTHER_PROJECT)
    response = foreign.call("GET", "streaming/jobs")
    assert response.status_code == 401
    assert response.json()["error_code"] == "DLI.0013"
    assert OTHER_PROJECT in response.json()["error_msg"]

    control.add_credentials("OTHERAK", "other-secret", platform="huawei_dli", project_id=OTHER_PROJECT)
    other = Dli(emulator.url, "OTHERAK", "other-secret", project_id=OTHER_PROJECT)
    job_id = other.create_jar("theirs")
    assert other.show(job_id)["project_id"] == OTHER_PROJECT
    # Jobs are per project: the default project does not see it.
    assert Dli(emulator.url).list()["total_count"] == 0
    denied = Dli(emulator.url, "OTHERAK", "other-secret").call("GET", "streaming/jobs")
    assert denied.json()["error_code"] == "DLI.0013"


def test_added_credentials_default_to_the_emulator_project(
    emulator: Emulator, control: EmulatorControl
) -> None:
    control.add_credentials("TEMPAK", "temp-secret", platform="huawei_dli", session_token="tok")
    assert Dli(emulator.url, "TEMPAK", "temp-secret", security_token="tok").list()["total_count"] == 0
    assert "TEMPAK" in control.state()["huawei_dli"]["access_keys"]
    with pytest.raises(EmulatorControlError):
        control.add_credentials("X", "y", platform="huawei_dli", project_id="not a project!")


def test_unknown_api_and_method(dli: Dli) -> None:
    unknown = dli.call("GET", "streaming/nothing")
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "APIG.0101"
    assert (
        unknown.json()["error_msg"] == "The API does not exist or has not been published in the environment."
    )
    wrong_method = dli.call("PATCH", "streaming/jobs")
    assert wrong_method.status_code == 404
    assert wrong_method.json()["error_msg"] == "The API does not exist."
    # Routing comes before authentication, as at the gateway.
    unsigned = requests.get(f"{dli.url}/v1.0/{DLI_PROJECT_ID}/nothing", timeout=10)
    assert unsigned.json()["error_code"] == "APIG.0101"


def test_documented_but_unmodelled_operations_answer_501(dli: Dli, control: EmulatorControl) -> None:
    response = dli.call("POST", "streaming/jobs/delete", {"job_ids": [1]})
    assert response.status_code == 501
    assert "BatchDeleteFlinkJobs" in response.json()["error_msg"]
    graph = dli.call("POST", "streaming/jobs/5/gen-graph", {}, prefix="/v3")
    assert graph.status_code == 501
    assert control.counters()["huawei_dli"]["calls"] == {
        "BatchDeleteFlinkJobs": 1,
        "CreateFlinkSqlJobGraph": 1,
    }


# -- create / validation ---------------------------------------------------------------------------


def test_create_answers_in_the_documented_envelopes(dli: Dli) -> None:
    jar = dli.ok("POST", "streaming/flink-jobs", {"name": "jar", "entrypoint": "obs://b/a.jar"})
    assert jar["is_success"] is True
    assert jar["message"] == "A Flink job is created successfully."
    assert jar["job"]["status_name"] == "job_init"
    assert jar["job"]["status_desc"] == ""
    sql = dli.ok("POST", "streaming/sql-jobs", {"name": "sql", "sql_body": "SELECT 1"})
    assert sql["is_success"] == "true"
    assert sql["message"] == "A DLI job is created successfully."
    assert isinstance(jar["job"]["job_id"], int) and jar["job"]["job_id"] > 0
    assert sql["job"]["job_id"] > jar["job"]["job_id"]


@pytest.mark.parametrize(
    ("resource", "body", "field"),
    [
        ("flink-jobs", {}, "name"),
        ("flink-jobs", {"name": ""}, "name"),
        ("flink-jobs", {"name": "n" * 58}, "name"),
        ("flink-jobs", {"name": 5}, "name"),
        ("flink-jobs", {"name": "a", "desc": "d" * 513}, "desc"),
        ("flink-jobs", {"name": "a", "queue_name": "q" * 129}, "queue_name"),
        ("flink-jobs", {"name": "a", "cu_number": 1}, "cu_number"),
        ("flink-jobs", {"name": "a", "cu_number": 401}, "cu_number"),
        ("flink-jobs", {"name": "a", "cu_number": "4"}, "cu_number"),
        ("flink-jobs", {"name": "a", "parallel_number": 0}, "parallel_number"),
        ("flink-jobs", {"name": "a", "parallel_number": 2001}, "parallel_number"),
        ("flink-jobs", {"name": "a", "manager_cu_number": 0}, "manager_cu_number"),
        ("flink-jobs", {"name": "a", "checkpoint_mode": 3}, "checkpoint_mode"),
        ("flink-jobs", {"name": "a", "checkpoint_interval": 0}, "checkpoint_interval"),
        ("flink-jobs", {"name": "a", "checkpoint_interval": 3601}, "checkpoint_interval"),
        ("flink-jobs", {"name": "a", "checkpoint_enabled": "true"}, "checkpoint_enabled"),
        ("flink-jobs", {"name": "a", "resume_max_num": 0}, "resume_max_num"),
        ("flink-jobs", {"name": "a", "resume_max_num": -2}, "resume_max_num"),
        ("flink-jobs", {"name": "a", "dependency_jars": "obs://b/x.jar"}, "dependency_jars"),
        ("flink-jobs", {"name": "a", "tags": [{"key": "", "value": "v"}]}, "tags[0].key"),
        ("flink-jobs", {"name": "a", "tags": [{"key": "k", "value": "v" * 256}]}, "tags[0].value"),
        ("flink-jobs", {"name": "a", "tags": [{"key": "k" * 129, "value": "v"}]}, "tags[0].key"),
        ("flink-jobs", {"name": "a", "resource_config_version": "v3"}, "resource_config_version"),
        ("sql-jobs", {"name": "a", "run_mode": "everywhere"}, "run_mode"),
        ("sql-jobs", {"name": "a", "job_type": "flink_jar_job"}, "job_type"),
        ("sql-jobs", {"name": "a", "dirty_data_strategy": "3"}, "dirty_data_strategy"),
        ("sql-jobs", {"name": "a", "sql_body": ["SELECT 1"]}, "sql_body"),
    ],
)
def test_create_validation_names_the_field(dli: Dli, resource: str, body: Any, field: str) -> None:
    response = dli.call("POST", f"streaming/{resource}", body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["error_code"] == "DLI.0001"
    assert f"'{field}'" in error["error_msg"]
    assert "request_id" not in error
    assert response.headers["X-Request-Id"]


def test_body_must_be_a_json_object(dli: Dli) -> None:
    url, _headers, _ = dli.prepare("POST", "streaming/flink-jobs", None)
    for payload in (b"not json", b"[1]"):
        signed = sign(
            method="POST",
            path=urlsplit(url).path,
            query=[],
            headers={"Host": urlsplit(dli.url).netloc, "Content-Type": "application/json"},
            body=payload,
            credentials=dli.credentials,
            now=datetime.now(timezone.utc),
        )
        response = requests.post(url, headers=signed, data=payload, timeout=10)
        assert response.status_code == 400
        assert response.json()["error_code"] == "DLI.0001"


def test_checkpoint_mode_as_text_and_job_config_defaults(dli: Dli) -> None:
    job_id = dli.create_sql("modes", checkpoint_mode="at_least_once", cu_number=4, parallel_number=6)
    detail = dli.show(job_id)
    config = detail["job_config"]
    assert config["checkpoint_mode"] == "at_least_once"
    assert config["cu_number"] == 4
    assert config["manager_cu_number"] == 1
    assert config["tm_slot_num"] == 2  # ceil(6 * 1 / (4 - 1))
    assert config["checkpoint_interval"] == 10
    assert config["resource_config_version"] == "v1"
    assert config["obs_bucket"] is None
    assert detail["job_type"] == "flink_opensource_sql_job"
    assert detail["run_mode"] == "shared_cluster"


def test_duplicate_names_are_accepted_and_counted(dli: Dli, control: EmulatorControl) -> None:
    first, second = dli.create_jar("twin"), dli.create_jar("twin")
    assert first != second
    assert control.counters()["huawei_dli"]["creates_by_name"] == {"twin": 2}


# -- show / list -----------------------------------------------------------------------------------


def test_show_job_detail(dli: Dli) -> None:
    job_id = dli.create_jar(
        "detailed",
        desc="about",
        queue_name="q1",
        entrypoint_args="--a 1",
        runtime_config='[{"key":"parallelism.default","value":"2"}]',
    )
    response = dli.ok("GET", f"streaming/jobs/{job_id}")
    assert response["is_success"] == "true"
    assert response["message"] == "Job detail query succeeds."
    detail = response["job_detail"]
    assert detail["job_id"] == job_id
    assert detail["name"] == "detailed"
    assert detail["desc"] == "about"
    assert detail["job_type"] == "flink_jar_job"
    assert detail["status"] == "job_init"
    assert detail["status_desc"] == ""
    assert detail["queue_name"] == "q1"
    assert detail["user_name"] == "flinkcloud-emulator"
    assert detail["project_id"] == DLI_PROJECT_ID
    assert detail["root_id"] == -1
    assert detail["start_time"] is None
    assert detail["create_time"] <= detail["update_time"]
    assert detail["main_class"] == "a.Main"
    assert detail["entrypoint_args"] == "--a 1"
    assert detail["sql_body"] is None
    assert detail["has_savepoint"] is False
    assert detail["savepoint_path"] is None
    assert detail["restart_times"] == 0
    assert detail["job_config"]["entrypoint"] == "obs://bucket/app.jar"
    assert detail["job_config"]["checkpoint_mode"] == "exactly_once"
    assert detail["job_config"]["runtime_config"] == '[{"key":"parallelism.default","value":"2"}]'


def test_show_missing_job_is_dli_16001(dli: Dli) -> None:
    response = dli.call("GET", "streaming/jobs/987654321")
    assert response.status_code == 400
    assert response.json()["error_code"] == "DLI.16001"
    bad = dli.call("GET", "streaming/jobs/abc")
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "DLI.0001"


def test_list_matches_names_as_substrings_and_pages(dli: Dli) -> None:
    ids = [dli.create_jar(f"etl-{n}") for n in range(5)]
    dli.create_sql("other")
    envelope = dli.ok("GET", "streaming/jobs", query=[("name", "etl")])
    assert envelope["is_success"] == "true"
    assert envelope["message"] == "Querying of the job list succeeds."
    first = dli.list(name="etl", limit=2)
    assert first["total_count"] == 5
    # Newest first by default.
    assert [job["job_id"] for job in first["jobs"]] == [ids[4], ids[3]]
    last = dli.list(name="etl", limit=2, offset=4)
    assert [job["job_id"] for job in last["jobs"]] == [ids[0]]
    ascending = dli.list(name="etl", order="asc", limit=100)
    assert [job["job_id"] for job in ascending["jobs"]] == ids
    # "etl-1" also matches "etl-1x" names if there were any: a client must filter exactly.
    assert [job["name"] for job in dli.list(name="tl-3")["jobs"]] == ["etl-3"]
    assert dli.list()["total_count"] == 6
    assert len(dli.list()["jobs"]) == 6  # the default limit of 10


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "101"),
        ("limit", "0"),
        ("limit", "ten"),
        ("offset", "-1"),
        ("order", "up"),
        ("show_detail", "yes"),
    ],
)
def test_list_parameter_errors(dli: Dli, name: str, value: str) -> None:
    response = dli.call("GET", "streaming/jobs", query=[(name, value)])
    assert response.status_code == 400
    assert response.json()["error_code"] == "DLI.0001"
    assert f"'{name}'" in response.json()["error_msg"]


def test_list_short_and_detailed_forms(dli: Dli) -> None:
    job_id = dli.create_sql("forms", queue_name="q2", tags=[{"key": "team", "value": "data"}])
    short = dli.list(name="forms")["jobs"][0]
    assert short["user_name"] == "flinkcloud-emulator"
    assert short["root_id"] == -1
    assert short["duration"] == 0
    assert "job_config" not in short and "sql_body" not in short
    detailed = dli.list(name="forms", show_detail=True)["jobs"][0]
    assert detailed["job_config"]["cu_number"] == 2
    assert detailed["sql_body"] == "INSERT INTO sink SELECT * FROM src"
    assert detailed["project_id"] == DLI_PROJECT_ID
    assert "update_time" in detailed
    assert dli.list(queue_name="q2")["total_count"] == 1
    assert dli.list(queue_name="q3")["total_count"] == 0
    assert dli.list(tags="team=data")["total_count"] == 1
    assert dli.list(tags="team=ops")["total_count"] == 0
    assert dli.list(job_type="flink_jar_job")["total_count"] == 0
    assert dli.list(status="job_init")["jobs"][0]["job_id"] == job_id


# -- lifecycle -------------------------------------------------------------------------------------


def test_streaming_run_submits_then_runs(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("stream")
    assert dli.run(job_id) == [DELIVERED]
    detail = dli.show(job_id)
    assert detail["status"] == "job_submitting"
    assert detail["start_time"] is not None
    wait_for_status(dli, job_id, "job_running")
    # A streaming job never finishes on its own.
    time.sleep(0.35)
    assert dli.show(job_id)["status"] == "job_running"
    assert dli.list(status="job_running")["total_count"] == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"runtime_config": '[{"key":"execution.runtime-mode","value":"BATCH"}]'},
        {"runtime_config": "execution.runtime-mode=batch\nparallelism.default=2"},
        {"runtime_config": '{"execution.runtime-mode": "batch"}'},
    ],
)
def test_batch_jar_job_finishes(dli: Dli, fields: dict[str, Any]) -> None:
    job_id = dli.create_jar("bounded", **fields)
    dli.run(job_id)
    wait_for_status(dli, job_id, "job_running")
    detail = wait_for_status(dli, job_id, "job_finish")
    assert detail["status_desc"] == ""


def test_batch_sql_job_finishes(dli: Dli) -> None:
    job_id = dli.create_sql(
        "bounded-sql", sql_body="set 'execution.runtime-mode' = 'batch';\nINSERT INTO s SELECT 1;"
    )
    dli.run(job_id)
    wait_for_status(dli, job_id, "job_finish")
    short = dli.list(name="bounded-sql")["jobs"][0]
    assert short["duration"] > 0


@pytest.mark.parametrize(
    ("spec", "batch"),
    [
        ({"sql_body": "SET 'execution.runtime-mode' = 'batch'; INSERT INTO a SELECT 1"}, True),
        ({"sql_body": "SET execution.runtime-mode=BATCH;"}, True),
        ({"sql_body": "SET 'execution.runtime-mode' = 'streaming';"}, False),
        ({"sql_body": "INSERT INTO a SELECT 1"}, False),
        ({"runtime_config": '[{"key":"execution.runtime-mode","value":"streaming"}]'}, False),
        ({"runtime_config": "execution.runtime-mode: batch"}, True),
        ({"runtime_config": "execution.runtime-mode=batching"}, False),
        ({}, False),
    ],
)
def test_batch_detection(spec: dict[str, Any], batch: bool) -> None:
    assert is_batch_job(spec) is batch


def test_stop_without_savepoint(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("stoppable")
    dli.run(job_id)
    wait_for_status(dli, job_id, "job_running")
    assert dli.stop(job_id) == [STOPPING]
    assert dli.show(job_id)["status"] == "job_canceling"
    detail = wait_for_status(dli, job_id, "job_cancel_success")
    assert detail["has_savepoint"] is False
    assert control.counters()["huawei_dli"]["stops_by_name"] == {"stoppable": 1}


def test_stop_with_savepoint_then_resume(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_sql("savepointed")
    dli.run(job_id)
    wait_for_status(dli, job_id, "job_running")
    assert dli.stop(job_id, trigger_savepoint=True) == [STOPPING]
    assert dli.show(job_id)["status"] == "job_savepointing"
    wait_for_status(dli, job_id, "job_canceling")
    detail = wait_for_status(dli, job_id, "job_cancel_success")
    assert detail["has_savepoint"] is True
    path = detail["savepoint_path"]
    assert re.fullmatch(rf"obs://flinkcloud-emulator/savepoints/{job_id}/[0-9a-f-]{{36}}", path)

    first_start = detail["start_time"]
    assert dli.run(job_id, resume_savepoint=True) == [DELIVERED]
    rerun = wait_for_status(dli, job_id, "job_running")
    assert rerun["restart_times"] == 1
    assert rerun["start_time"] > first_start
    runs = control.state()["huawei_dli"]["jobs"][0]["runs"]
    assert [(run["resume_savepoint"], run["restored_from"]) for run in runs] == [(False, None), (True, path)]
    assert control.counters()["huawei_dli"]["runs_by_name"] == {"savepointed": 2}


def test_resume_without_a_savepoint_starts_fresh(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("fresh")
    dli.run(job_id, resume_savepoint=True)
    run = control.state()["huawei_dli"]["jobs"][0]["runs"][0]
    assert run["resume_savepoint"] is True
    assert run["restored_from"] is None
    wait_for_status(dli, job_id, "job_running")


def test_stop_while_submitting_skips_the_savepoint(dli: Dli) -> None:
    job_id = dli.create_jar("early")
    dli.run(job_id)
    assert dli.stop(job_id, trigger_savepoint=True) == [STOPPING]
    assert dli.show(job_id)["status"] == "job_canceling"
    assert wait_for_status(dli, job_id, "job_cancel_success")["has_savepoint"] is False


def test_run_of_an_active_job_is_refused_per_job(dli: Dli, control: EmulatorControl) -> None:
    running, idle = dli.create_jar("busy"), dli.create_jar("idle")
    dli.run(running)
    results = dli.run(running, 424242, idle)
    assert results[0]["is_success"] == "false"
    assert "running" in results[0]["message"]
    assert results[1] == {"is_success": "false", "message": "The job 424242 does not exist."}
    assert results[2] == DELIVERED
    # Only the runs that started a job are counted.
    assert control.counters()["huawei_dli"]["runs_by_name"] == {"busy": 1, "idle": 1}
    assert len(control.state()["huawei_dli"]["jobs"][0]["runs"]) == 1


def test_stop_of_a_job_that_is_not_active_is_refused_per_job(dli: Dli, control: EmulatorControl) -> None:
    never = dli.create_jar("never-run")
    [result] = dli.stop(never)
    assert result["is_success"] == "false"
    assert "not running" in result["message"] and "job_init" in result["message"]
    done = dli.create_jar("done")
    dli.run(done)
    wait_for_status(dli, done, "job_running")
    dli.stop(done)
    wait_for_status(dli, done, "job_cancel_success")
    [again] = dli.stop(done)
    assert again["is_success"] == "false"
    assert "job_cancel_success" in again["message"]
    assert control.counters()["huawei_dli"]["stops_by_name"] == {"done": 1}


@pytest.mark.parametrize(
    "body",
    [{}, {"job_ids": []}, {"job_ids": "1"}, {"job_ids": [True]}, {"job_ids": [1], "resume_savepoint": "yes"}],
)
def test_batch_body_errors(dli: Dli, body: dict[str, Any]) -> None:
    response = dli.call("POST", "streaming/jobs/run", body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "DLI.0001"


def test_batch_stop_requires_job_ids(dli: Dli) -> None:
    response = dli.call("POST", "streaming/jobs/stop", {"trigger_savepoint": True})
    assert response.status_code == 400
    assert "'job_ids'" in response.json()["error_msg"]


def test_startup_failure(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("doomed")
    control.fail_job("doomed", "java.lang.ClassNotFoundException: a.Main", platform="huawei_dli")
    dli.run(job_id)
    assert dli.show(job_id)["status"] == "job_submitting"
    detail = wait_for_status(dli, job_id, "job_submit_fail")
    assert detail["status_desc"] == "java.lang.ClassNotFoundException: a.Main"
    # The failure is spent: the next run succeeds.
    dli.run(job_id)
    rerun = wait_for_status(dli, job_id, "job_running")
    assert rerun["status_desc"] == ""
    assert rerun["restart_times"] == 1


def test_running_failure_by_job_id(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_sql("flaky")
    control.fail_job(job_id, "TaskManager lost", platform="huawei_dli", phase="running", after_seconds=0.2)
    assert control.state()["huawei_dli"]["pending_failures"][0]["job"] == str(job_id)
    dli.run(job_id)
    assert wait_for_status(dli, job_id, "job_running")["status_desc"] == ""
    detail = wait_for_status(dli, job_id, "job_running_exception")
    assert detail["status_desc"] == "TaskManager lost"
    assert control.state()["huawei_dli"]["pending_failures"] == []


def test_failure_preempts_a_batch_finish(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("race", runtime_config="execution.runtime-mode=batch")
    control.fail_job("race", "boom", platform="huawei_dli", phase="running", after_seconds=0.2)
    dli.run(job_id)
    assert wait_for_status(dli, job_id, "job_running_exception")["status_desc"] == "boom"


def test_job_without_sql_fails_to_submit(dli: Dli) -> None:
    job_id = int(dli.ok("POST", "streaming/sql-jobs", {"name": "empty"})["job"]["job_id"])
    dli.run(job_id)
    detail = wait_for_status(dli, job_id, "job_submit_fail")
    assert "sql_body" in detail["status_desc"]


# -- update / delete -------------------------------------------------------------------------------


def test_update_replaces_fields_unless_active(dli: Dli) -> None:
    job_id = dli.create_sql("editable", cu_number=2)
    before = dli.show(job_id)["update_time"]
    time.sleep(0.01)
    updated = dli.ok("PUT", f"streaming/sql-jobs/{job_id}", {"cu_number": 8, "sql_body": "SELECT 2"})
    assert updated["is_success"] is True
    assert updated["message"] == "The Flink job is updated successfully."
    assert updated["job"]["update_time"] > before
    detail = dli.show(job_id)
    assert detail["job_config"]["cu_number"] == 8
    assert detail["sql_body"] == "SELECT 2"
    assert detail["name"] == "editable"

    dli.run(job_id)
    refused = dli.call("PUT", f"streaming/sql-jobs/{job_id}", {"cu_number": 4})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "DLI.0001"
    assert "job_submitting" in refused.json()["error_msg"]
    wait_for_status(dli, job_id, "job_running")
    assert (
        "job_running" in dli.call("PUT", f"streaming/sql-jobs/{job_id}", {"cu_number": 4}).json()["error_msg"]
    )
    dli.stop(job_id)
    wait_for_status(dli, job_id, "job_cancel_success")
    dli.ok("PUT", f"streaming/sql-jobs/{job_id}", {"cu_number": 4})
    assert dli.show(job_id)["job_config"]["cu_number"] == 4


def test_update_validation_and_kind(dli: Dli) -> None:
    jar = dli.create_jar("jarjob")
    assert dli.call("PUT", f"streaming/flink-jobs/{jar}", {"cu_number": 1}).json()["error_code"] == "DLI.0001"
    wrong_kind = dli.call("PUT", f"streaming/sql-jobs/{jar}", {"cu_number": 4})
    assert wrong_kind.status_code == 400
    assert "flink-jobs" in wrong_kind.json()["error_msg"]
    # The Jar update body may carry job_type, as the SDK's model does.
    dli.ok("PUT", f"streaming/flink-jobs/{jar}", {"job_type": "flink_jar_job", "main_class": "b.Main"})
    assert dli.show(jar)["main_class"] == "b.Main"
    missing = dli.call("PUT", "streaming/flink-jobs/99999999", {"cu_number": 4})
    assert missing.json()["error_code"] == "DLI.16001"


DELETED = {"is_success": "true", "message": "The job is deleted successfully."}


def test_delete_and_ids_are_never_reused(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("temporary")
    dli.run(job_id)
    assert dli.ok("DELETE", f"streaming/jobs/{job_id}") == DELETED
    assert dli.call("GET", f"streaming/jobs/{job_id}").json()["error_code"] == "DLI.16001"
    assert dli.call("DELETE", f"streaming/jobs/{job_id}").json()["error_code"] == "DLI.16001"
    control.reset()
    assert dli.create_jar("temporary") > job_id


def test_delete_removes_one_duplicate_in_any_status(dli: Dli, control: EmulatorControl) -> None:
    # What the provider does with a duplicate it created by accident: delete it by id, keep the other.
    kept = dli.create_sql("twin")
    duplicate = dli.create_sql("twin")
    dli.run(duplicate)
    wait_for_status(dli, duplicate, "job_running")
    # The API reference deletes a Flink job "in any state": a running one is not refused.
    assert dli.ok("DELETE", f"streaming/jobs/{duplicate}") == DELETED

    assert [job["job_id"] for job in dli.list(name="twin")["jobs"]] == [kept]
    assert dli.show(kept)["status"] == "job_init"
    assert [job["job_id"] for job in control.state()["huawei_dli"]["jobs"]] == [kept]
    # The deleted job's run does not linger: running it again finds no job.
    assert dli.run(duplicate) == [{"is_success": "false", "message": f"The job {duplicate} does not exist."}]

    counters = control.counters()["huawei_dli"]
    assert counters["calls"]["DeleteFlinkJob"] == 1
    assert counters["deletes_by_name"] == {"twin": 1}
    assert counters["creates_by_name"] == {"twin": 2}


def test_delete_of_an_unknown_or_invalid_job(dli: Dli, control: EmulatorControl) -> None:
    never = dli.call("DELETE", "streaming/jobs/99999999")
    assert never.status_code == 400
    assert never.json() == {"error_code": "DLI.16001", "error_msg": "The Flink job 99999999 does not exist."}
    not_a_long = dli.call("DELETE", "streaming/jobs/abc")
    assert not_a_long.status_code == 400
    assert not_a_long.json()["error_code"] == "DLI.0001"
    # A job of another project is not found either, and stays.
    job_id = dli.create_jar("mine")
    control.add_credentials("OTHERPROJECTAK", "other-secret", platform="huawei_dli", project_id=OTHER_PROJECT)
    other = Dli(dli.url, "OTHERPROJECTAK", "other-secret", OTHER_PROJECT)
    assert other.call("DELETE", f"streaming/jobs/{job_id}").json()["error_code"] == "DLI.16001"
    assert dli.show(job_id)["name"] == "mine"
    counters = control.counters()["huawei_dli"]
    assert counters["calls"]["DeleteFlinkJob"] == 3
    assert counters["deletes_by_name"] == {}


# -- control API, counters and faults --------------------------------------------------------------


def test_counters_and_reset(dli: Dli, control: EmulatorControl) -> None:
    assert control.counters()["huawei_dli"] == {
        "calls": {},
        "creates_by_name": {},
        "runs_by_name": {},
        "stops_by_name": {},
        "deletes_by_name": {},
        "faults_fired": 0,
    }
    job_id = dli.create_jar("counted")
    dli.run(job_id)
    dli.show(job_id)
    dli.show(job_id)
    assert control.counters()["huawei_dli"] == {
        "calls": {"CreateFlinkJarJob": 1, "BatchRunFlinkJobs": 1, "ShowFlinkJob": 2},
        "creates_by_name": {"counted": 1},
        "runs_by_name": {"counted": 1},
        "stops_by_name": {},
        "deletes_by_name": {},
        "faults_fired": 0,
    }
    control.reset()
    assert control.counters()["huawei_dli"]["calls"] == {}
    assert control.counters()["huawei_dli"]["runs_by_name"] == {}
    assert control.state()["huawei_dli"]["jobs"] == []


def test_state_shows_jobs_and_timelines(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("visible", runtime_config="execution.runtime-mode=batch")
    dli.run(job_id)
    state = control.state()["huawei_dli"]
    assert state["projects_by_access_key"][DLI_ACCESS_KEY] == [DLI_PROJECT_ID]
    [job] = state["jobs"]
    assert job["job_id"] == job_id
    assert job["batch"] is True
    assert [entry["status"] for entry in job["runs"][0]["timeline"]] == [
        "job_submitting",
        "job_running",
        "job_finish",
    ]


def test_throttling_fault_with_retry_after(dli: Dli, control: EmulatorControl) -> None:
    control.inject_fault("status", platform="huawei_dli", operation="ShowFlinkJob", status=429, retry_after=3)
    job_id = dli.create_jar("throttled")
    response = dli.call("GET", f"streaming/jobs/{job_id}")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    body = response.json()
    assert body["error_code"] == "APIG.0308"
    assert body["error_msg"].startswith("The throttling threshold has been reached")
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert dli.show(job_id)["status"] == "job_init"
    assert control.counters()["huawei_dli"]["faults_fired"] == 1


@pytest.mark.parametrize(
    ("status", "code"), [(500, "DLI.0999"), (503, "DLI.0999"), (502, "APIG.0202"), (504, "APIG.0203")]
)
def test_server_error_faults(dli: Dli, control: EmulatorControl, status: int, code: str) -> None:
    control.inject_fault("status", platform="huawei_dli", operation="ListFlinkJobs", status=status)
    response = dli.call("GET", "streaming/jobs")
    assert response.status_code == status
    assert response.json()["error_code"] == code
    assert response.headers["X-Request-Id"]


def test_drop_fault(dli: Dli, control: EmulatorControl) -> None:
    control.inject_fault("drop", platform="huawei_dli", operation="CreateFlinkJarJob")
    with pytest.raises(requests.ConnectionError):
        dli.call("POST", "streaming/flink-jobs", {"name": "dropped"})
    assert dli.list()["total_count"] == 0
    assert control.counters()["huawei_dli"]["calls"]["CreateFlinkJarJob"] == 1


def test_lose_response_fault_still_runs_the_job(dli: Dli, control: EmulatorControl) -> None:
    job_id = dli.create_jar("lost")
    control.inject_fault("lose_response", platform="huawei_dli", operation="BatchRunFlinkJobs")
    with pytest.raises(requests.ConnectionError):
        dli.call("POST", "streaming/jobs/run", {"job_ids": [job_id]})
    assert dli.show(job_id)["status"] in ("job_submitting", "job_running")
    # A blind retry is refused per job, and the counter shows the single real run.
    [retry] = dli.run(job_id)
    assert retry["is_success"] == "false"
    assert control.counters()["huawei_dli"]["runs_by_name"] == {"lost": 1}


def test_volcengine_faults_do_not_hit_dli(dli: Dli, control: EmulatorControl) -> None:
    control.inject_fault("status", platform="volcengine", status=500)
    dli.ok("GET", "streaming/jobs")
    assert control.state()["faults"][0]["platform"] == "volcengine"


def test_failure_control_validation(control: EmulatorControl) -> None:
    with pytest.raises(EmulatorControlError):
        control.fail_job("x", "boom", platform="huawei_dli", phase="later")
    with pytest.raises(EmulatorControlError):
        control.fail_job("x", "boom", platform="nowhere")


def test_command_line_prints_the_dli_credentials() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flinkcloud.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        url = lines[0].strip().rsplit(" ", 1)[1]
        dli_lines = [line for line in lines if line.startswith("huawei_dli")]
        assert len(dli_lines) == 2
        assert DLI_ACCESS_KEY in dli_lines[0] and DLI_SECRET_KEY in dli_lines[0]
        assert DLI_PROJECT_ID in dli_lines[0]
        assert DLI_STS_TOKEN in dli_lines[1]
        assert Dli(url).list()["total_count"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
