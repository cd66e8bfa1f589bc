"""Alibaba's own foas SDK (aliyun-python-sdk-foas 2.11.1 on aliyun-python-sdk-core) works unchanged
against the emulator: its signatures verify, its JSON and form bodies are read, its replies parse."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("aliyunsdkcore")
pytest.importorskip("aliyunsdkfoas")
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkfoas.request.v20181111 import (
    CommitJobRequest,
    CreateJobRequest,
    GetInstanceRequest,
    GetJobRequest,
    ListInstanceRequest,
    ListProjectRequest,
    ModifyInstanceStateRequest,
    StartJobRequest,
)

from airflow_provider_flinkcloud.emulator import (
    ALIBABA_ACCESS_KEY,
    ALIBABA_SECRET_KEY,
    ALIBABA_STS_ACCESS_KEY,
    ALIBABA_STS_SECRET_KEY,
    ALIBABA_STS_TOKEN,
    Emulator,
)
from airflow_provider_flinkcloud.emulator.alibaba import DEFAULT_PROJECT

REGION = "cn-hangzhou"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fast(emulator: Emulator) -> None:
    emulator.control.reset()
    emulator.control.set_timings(starting_seconds=0.1, batch_seconds=0.3, cancelling_seconds=0.1)


def client(secret: str = ALIBABA_SECRET_KEY) -> AcsClient:
    return AcsClient(ALIBABA_ACCESS_KEY, secret, REGION, auto_retry=False)


def send(acs: AcsClient, emulator: Emulator, request: Any, *, json_body: bool = True) -> dict[str, Any]:
    """Send an SDK request to the emulator: only the endpoint and the scheme change."""
    request.set_endpoint(f"127.0.0.1:{emulator.port}")
    request.set_protocol_type("http")
    if json_body:
        # Alibaba's Java demo sends JSON bodies; without this the Python SDK sends a form body.
        request.set_content_type("application/json")
    return json.loads(acs.do_action_with_exception(request))


def job_request(cls: Any, job: str, **params: Any) -> Any:
    request = cls()
    request.set_projectName(DEFAULT_PROJECT)
    request.set_jobName(job)
    for name, value in params.items():
        # Path parameters are substituted as text by the SDK.
        getattr(request, f"set_{name}")(str(value) if name == "instanceId" else value)
    return request


def wait_for_state(
    acs: AcsClient, emulator: Emulator, job: str, instance_id: int, state: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        instance = send(
            acs, emulator, job_request(GetInstanceRequest.GetInstanceRequest, job, instanceId=instance_id)
        )
        if instance["Instance"]["ActualState"] == state or time.monotonic() > deadline:
            return instance["Instance"]
        time.sleep(0.05)


@pytest.mark.parametrize("json_body", [True, False], ids=["json-body", "form-body"])
def test_vendor_sdk_start_status_stop(emulator: Emulator, json_body: bool) -> None:
    acs = client()
    start = job_request(
        StartJobRequest.StartJobRequest, "orders-enrichment", parameterJson='{"startOffset": "0"}'
    )
    started = send(acs, emulator, start, json_body=json_body)
    instance_id = started["instanceId"]
    assert isinstance(instance_id, int) and started["RequestId"]
    running = wait_for_state(acs, emulator, "orders-enrichment", instance_id, "RUNNING")
    assert running["JobType"] == "FLINK_STREAM" and running["Id"] == instance_id
    # -1 names the current instance of a stream job.
    current = send(
        acs, emulator, job_request(GetInstanceRequest.GetInstanceRequest, "orders-enrichment", instanceId=-1)
    )
    assert current["Instance"]["Id"] == instance_id
    listed = send(acs, emulator, _list_request("orders-enrichment"))
    assert [i["Id"] for i in listed["Instances"]["Instance"]] == [instance_id]
    stop = job_request(
        ModifyInstanceStateRequest.ModifyInstanceStateRequest,
        "orders-enrichment",
        instanceId=instance_id,
        expectState="TERMINATED",
        triggerCheckpoint=True,
    )
    send(acs, emulator, stop, json_body=json_body)
    stopped = wait_for_state(acs, emulator, "orders-enrichment", instance_id, "TERMINATED")
    assert stopped["ExpectState"] == "TERMINATED" and stopped["EndTime"]
    counters = emulator.control.counters()["alibaba"]
    assert counters["starts_by_name"] == {"orders-enrichment": 1}
    assert counters["stops_by_name"] == {"orders-enrichment": 1}


def _list_request(job: str) -> Any:
    request = ListInstanceRequest.ListInstanceRequest()
    request.set_projectName(DEFAULT_PROJECT)
    request.set_jobName(job)
    request.set_jobType("FLINK_STREAM")
    request.set_pageIndex(1)
    request.set_pageSize(10)
    return request


def test_vendor_sdk_creates_commits_and_runs_a_batch_job_that_fails(emulator: Emulator) -> None:
    acs = client()
    create = CreateJobRequest.CreateJobRequest()
    create.set_projectName(DEFAULT_PROJECT)
    create.set_jobName("作业_sdk")
    create.set_jobType("flink_batch")
    create.set_apiType("SQL")
    create.set_code("INSERT INTO sink SELECT * FROM src")
    send(acs, emulator, create)
    job = send(acs, emulator, job_request(GetJobRequest.GetJobRequest, "作业_sdk"))["Job"]
    assert (job["JobType"], job["IsCommitted"]) == ("FLINK_BATCH", False)
    with pytest.raises(ServerException) as refused:
        send(acs, emulator, job_request(StartJobRequest.StartJobRequest, "作业_sdk"))
    assert "not committed" in refused.value.get_error_msg()
    send(acs, emulator, job_request(CommitJobRequest.CommitJobRequest, "作业_sdk"))
    emulator.control.fail_job("作业_sdk", "java.lang.RuntimeException: boom", platform="alibaba")
    instance_id = send(acs, emulator, job_request(StartJobRequest.StartJobRequest, "作业_sdk"))["instanceId"]
    failed = wait_for_state(acs, emulator, "作业_sdk", instance_id, "FAILED")
    assert failed["LastErrorMessage"] == "java.lang.RuntimeException: boom"


def test_vendor_sdk_with_sts_credentials(emulator: Emulator) -> None:
    sts = AcsClient(
        region_id=REGION,
        credential=StsTokenCredential(ALIBABA_STS_ACCESS_KEY, ALIBABA_STS_SECRET_KEY, ALIBABA_STS_TOKEN),
        auto_retry=False,
    )
    request = ListProjectRequest.ListProjectRequest()
    projects = send(sts, emulator, request)
    assert [p["Name"] for p in projects["Projects"]["Project"]] == [DEFAULT_PROJECT]


def test_vendor_sdk_sees_the_gateway_errors(emulator: Emulator) -> None:
    with pytest.raises(ServerException) as wrong:
        send(client("not-the-secret"), emulator, ListProjectRequest.ListProjectRequest())
    assert wrong.value.get_error_code() == "SignatureDoesNotMatch"
    assert wrong.value.get_http_status() == 400
    assert "server string to sign is:GET\napplication/json" in wrong.value.get_error_msg()
    with pytest.raises(ServerException) as missing:
        send(client(), emulator, job_request(GetJobRequest.GetJobRequest, "no-such-job"))
    assert (missing.value.get_http_status(), missing.value.get_error_code()) == (404, "InvalidJob.NotFound")
    assert missing.value.get_request_id()
