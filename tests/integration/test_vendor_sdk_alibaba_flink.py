"""Alibaba's own ververica SDK (``alibabacloud-ververica20220718`` on ``alibabacloud-tea-openapi``) works
unchanged against the emulator: it signs ACS3 its own way (every header, ``x-acs-credentials-provider``,
its own nonce) and the emulator verifies it, runs the deployment's job and stops it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

ververica = pytest.importorskip("alibabacloud_ververica20220718")
from alibabacloud_tea_openapi.exceptions import ClientException  # noqa: E402
from alibabacloud_tea_openapi.utils_models import Config  # noqa: E402
from alibabacloud_ververica20220718 import models  # noqa: E402
from alibabacloud_ververica20220718.client import Client  # noqa: E402
from darabonba.runtime import RuntimeOptions  # noqa: E402

from airflow_provider_flinkcloud.emulator import (  # noqa: E402
    ALIBABA_FLINK_ACCESS_KEY,
    ALIBABA_FLINK_NAMESPACE,
    ALIBABA_FLINK_SECRET_KEY,
    ALIBABA_FLINK_STS_ACCESS_KEY,
    ALIBABA_FLINK_STS_SECRET_KEY,
    ALIBABA_FLINK_STS_TOKEN,
    ALIBABA_FLINK_WORKSPACE,
    Emulator,
)

NS = ALIBABA_FLINK_NAMESPACE


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fast(emulator: Emulator) -> None:
    emulator.control.reset()
    emulator.control.set_timings(starting_seconds=0.1, cancelling_seconds=0.1, savepoint_seconds=0.05)


def sdk(emulator: Emulator, secret: str = ALIBABA_FLINK_SECRET_KEY, **config: Any) -> Client:
    settings = {"access_key_id": ALIBABA_FLINK_ACCESS_KEY, "access_key_secret": secret, **config}
    return Client(
        Config(endpoint=f"127.0.0.1:{emulator.port}", protocol="http", region_id="cn-hangzhou", **settings)
    )


def headers(kind: Any) -> Any:
    return kind(workspace=ALIBABA_FLINK_WORKSPACE)


def sql_deployment(name: str) -> Any:
    basic = models.BasicResourceSetting(
        parallelism=1,
        jobmanager_resource_setting_spec=models.BasicResourceSettingSpec(cpu=1.0, memory="4 GiB"),
        taskmanager_resource_setting_spec=models.BasicResourceSettingSpec(cpu=1.0, memory="4 GiB"),
    )
    return models.Deployment(
        name=name,
        execution_mode="STREAMING",
        engine_version="vvr-8.0.10-flink-1.17",
        artifact=models.Artifact(kind="SQLSCRIPT", sql_artifact=models.SqlArtifact(sql_script="SELECT 1;")),
        deployment_target=models.BriefDeploymentTarget(mode="PER_JOB", name="default-queue"),
        streaming_resource_setting=models.StreamingResourceSetting(
            resource_setting_mode="BASIC", basic_resource_setting=basic
        ),
    )


def wait_for(client: Client, job_id: str, status: str) -> Any:
    for _ in range(100):
        job = client.get_job_with_options(
            NS, job_id, headers(models.GetJobHeaders), RuntimeOptions()
        ).body.data
        if job.status.current_job_status == status:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {status}")


def test_create_start_watch_stop_with_the_vendor_sdk(emulator: Emulator) -> None:
    client = sdk(emulator)
    runtime = RuntimeOptions()
    created = client.create_deployment_with_options(
        NS,
        models.CreateDeploymentRequest(body=sql_deployment("sdk-orders")),
        headers(models.CreateDeploymentHeaders),
        runtime,
    ).body
    assert created.success is True and created.data.deployment_id
    listed = client.list_deployments_with_options(
        NS, models.ListDeploymentsRequest(name="sdk-orders"), headers(models.ListDeploymentsHeaders), runtime
    ).body
    assert [d.name for d in listed.data] == ["sdk-orders"] and listed.total_size == 1
    started = client.start_job_with_params_with_options(
        NS,
        models.StartJobWithParamsRequest(
            body=models.JobStartParameters(
                deployment_id=created.data.deployment_id,
                restore_strategy=models.DeploymentRestoreStrategy(kind="NONE"),
            )
        ),
        headers(models.StartJobWithParamsHeaders),
        runtime,
    ).body
    job_id = started.data.job_id
    assert started.success is True and started.data.status.current_job_status == "STARTING"
    assert wait_for(client, job_id, "RUNNING").deployment_name == "sdk-orders"
    jobs = client.list_jobs_with_options(
        NS,
        models.ListJobsRequest(deployment_id=created.data.deployment_id),
        headers(models.ListJobsHeaders),
        runtime,
    ).body
    assert [j.job_id for j in jobs.data] == [job_id]
    stopped = client.stop_job_with_options(
        NS,
        job_id,
        models.StopJobRequest(body=models.StopJobRequestBody(stop_strategy="STOP_WITH_SAVEPOINT")),
        headers(models.StopJobHeaders),
        runtime,
    ).body
    assert stopped.success is True and stopped.data.status.current_job_status == "CANCELLING"
    wait_for(client, job_id, "CANCELLED")
    counters = emulator.control.counters()["alibaba_flink"]
    assert counters["starts_by_name"] == {"sdk-orders": 1} and counters["stops_by_name"] == {"sdk-orders": 1}


def test_the_vendor_sdk_signs_with_sts_credentials(emulator: Emulator) -> None:
    client = Client(
        Config(
            access_key_id=ALIBABA_FLINK_STS_ACCESS_KEY,
            access_key_secret=ALIBABA_FLINK_STS_SECRET_KEY,
            security_token=ALIBABA_FLINK_STS_TOKEN,
            endpoint=f"127.0.0.1:{emulator.port}",
            protocol="http",
            region_id="cn-hangzhou",
        )
    )
    body = client.list_deployments_with_options(
        NS, models.ListDeploymentsRequest(), headers(models.ListDeploymentsHeaders), RuntimeOptions()
    ).body
    assert body.success is True and body.data == []


def test_a_wrong_secret_is_refused_as_the_gateway_refuses_it(emulator: Emulator) -> None:
    with pytest.raises(ClientException) as refused:
        sdk(emulator, secret="not-the-secret").list_deployments_with_options(
            NS, models.ListDeploymentsRequest(), headers(models.ListDeploymentsHeaders), RuntimeOptions()
        )
    assert refused.value.code == "SignatureDoesNotMatch" and refused.value.status_code == 400


def test_an_unknown_job_is_a_business_error_in_the_envelope(emulator: Emulator) -> None:
    # HTTP 200 with success=false: the Python SDK does not raise; the caller tests ``success``.
    body = (
        sdk(emulator)
        .get_job_with_options(
            NS, "5af678c0-7db0-4650-94c2-d2604f0a0000", headers(models.GetJobHeaders), RuntimeOptions()
        )
        .body
    )
    assert body.success is False and body.error_code == "990301"
