"""Huawei's own DLI SDK works unchanged against the emulator: the proof of wire compatibility."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Importing the SDK writes ~/.huaweicloud/application_id (its User-Agent is built at import time),
# so HOME points at a scratch directory for the import; the SDK does not touch it afterwards.
with tempfile.TemporaryDirectory() as _home, pytest.MonkeyPatch.context() as _patch:
    _patch.setenv("HOME", _home)
    pytest.importorskip("huaweicloudsdkcore")
    dli = pytest.importorskip("huaweicloudsdkdli.v1")
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    from huaweicloudsdkcore.http.http_config import HttpConfig

from airflow_provider_flinkcloud.emulator import (
    DLI_ACCESS_KEY,
    DLI_PROJECT_ID,
    DLI_SECRET_KEY,
    DLI_STS_ACCESS_KEY,
    DLI_STS_SECRET_KEY,
    DLI_STS_TOKEN,
    Emulator,
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fast(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Should a client ever read its home directory again, it reads a scratch one.
    monkeypatch.setenv("HOME", str(tmp_path))
    emulator.control.reset()
    emulator.control.set_timings(starting_seconds=0.1, cancelling_seconds=0.1, savepoint_seconds=0.1)


def client(
    emulator: Emulator,
    access_key: str = DLI_ACCESS_KEY,
    secret_key: str = DLI_SECRET_KEY,
    security_token: str | None = None,
) -> Any:
    credentials = BasicCredentials(access_key, secret_key, DLI_PROJECT_ID)
    if security_token is not None:
        credentials = credentials.with_security_token(security_token)
    config = HttpConfig.get_default_config()
    config.timeout = (5, 10)
    return (
        dli.DliClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_endpoint(emulator.url)
        .build()
    )


def create_jar(api: Any, name: str) -> int:
    response = api.create_flink_jar_job(
        dli.CreateFlinkJarJobRequest(
            body=dli.CreateFlinkJarJobRequestBody(
                name=name,
                desc="created by the vendor SDK",
                queue_name="flinkcloud_queue",
                cu_number=4,
                manager_cu_number=1,
                parallel_number=2,
                checkpoint_enabled=True,
                checkpoint_mode=1,
                checkpoint_interval=30,
                main_class="org.example.Main",
                entrypoint="obs://flinkcloud/app.jar",
                entrypoint_args="--input obs://in --output obs://out",
                dependency_jars=["obs://flinkcloud/dep.jar"],
                tm_cus=1,
                resume_max_num=-1,
                runtime_config='[{"key":"parallelism.default","value":"2"}]',
                tags=[dli.Tag(key="team", value="data")],
            )
        )
    )
    assert str(response.is_success).lower() == "true"
    assert response.job.status_name == "job_init"
    return int(response.job.job_id)


def create_sql(api: Any, name: str) -> int:
    response = api.create_flink_sql_job(
        dli.CreateFlinkSqlJobRequest(
            body=dli.CreateFlinkSqlJobRequestBody(
                name=name,
                sql_body="CREATE TABLE src (a INT) WITH ('connector' = 'datagen');\n"
                "CREATE TABLE sink (a INT) WITH ('connector' = 'blackhole');\n"
                "INSERT INTO sink SELECT a FROM src;",
                run_mode="exclusive_cluster",
                job_type="flink_opensource_sql_job",
                queue_name="flinkcloud_queue",
                flink_version="1.15",
            )
        )
    )
    assert response.is_success == "true"
    assert response.message == "A DLI job is created successfully."
    return int(response.job.job_id)


def wait_for_status(api: Any, job_id: int, status: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        detail = api.show_flink_job(dli.ShowFlinkJobRequest(job_id=job_id)).job_detail
        if detail.status == status:
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is {detail.status}, not {status}")
        time.sleep(0.05)


def test_vendor_sdk_lifecycle(emulator: Emulator) -> None:
    api = client(emulator)
    jar_id = create_jar(api, "sdk jar job")
    sql_id = create_sql(api, "sdk sql job")

    run = api.batch_run_flink_jobs(
        dli.BatchRunFlinkJobsRequest(
            body=dli.BatchRunFlinkJobsRequestBody(job_ids=[jar_id, sql_id], resume_savepoint=False)
        )
    )
    assert [item.is_success for item in run.body] == ["true", "true"]

    detail = wait_for_status(api, jar_id, "job_running")
    assert detail.job_type == "flink_jar_job"
    assert detail.main_class == "org.example.Main"
    assert detail.job_config.checkpoint_mode == "exactly_once"
    assert detail.job_config.cu_number == 4
    assert detail.job_config.dependency_jars == ["obs://flinkcloud/dep.jar"]
    assert detail.start_time is not None
    assert wait_for_status(api, sql_id, "job_running").job_type == "flink_opensource_sql_job"

    listed = api.list_flink_jobs(dli.ListFlinkJobsRequest(name="sdk jar", limit=100, show_detail=False))
    assert listed.job_list.total_count == 1
    assert [job.job_id for job in listed.job_list.jobs] == [jar_id]
    assert listed.job_list.jobs[0].user_name == "flinkcloud-emulator"
    detailed = api.list_flink_jobs(dli.ListFlinkJobsRequest(name="sdk", show_detail=True, order="asc"))
    assert [job.job_id for job in detailed.job_list.jobs] == [jar_id, sql_id]
    assert detailed.job_list.jobs[1].sql_body.startswith("CREATE TABLE src")

    # A second run of a running job is refused per job inside an HTTP 200 array.
    again = api.batch_run_flink_jobs(
        dli.BatchRunFlinkJobsRequest(body=dli.BatchRunFlinkJobsRequestBody(job_ids=[jar_id]))
    )
    assert again.body[0].is_success == "false"

    stop = api.batch_stop_flink_jobs(
        dli.BatchStopFlinkJobsRequest(
            body=dli.StopFlinkJobsRequestBody(job_ids=[jar_id, sql_id], trigger_savepoint=True)
        )
    )
    assert [item.is_success for item in stop.body] == ["true", "true"]
    stopped = wait_for_status(api, jar_id, "job_cancel_success")
    assert stopped.has_savepoint is True
    assert stopped.savepoint_path.startswith(f"obs://flinkcloud-emulator/savepoints/{jar_id}/")

    updated = api.update_flink_jar_job(
        dli.UpdateFlinkJarJobRequest(
            job_id=jar_id, body=dli.UpdateFlinkJarJobRequestBody(name="sdk jar job", cu_number=6)
        )
    )
    assert updated.job.update_time > 0
    assert api.show_flink_job(dli.ShowFlinkJobRequest(job_id=jar_id)).job_detail.job_config.cu_number == 6

    deleted = api.delete_flink_job(dli.DeleteFlinkJobRequest(job_id=sql_id))
    assert deleted.is_success == "true"

    counters = emulator.control.counters()["huawei_dli"]
    assert counters["runs_by_name"] == {"sdk jar job": 1, "sdk sql job": 1}
    assert counters["calls"]["BatchRunFlinkJobs"] == 2


def test_vendor_sdk_wrong_secret(emulator: Emulator) -> None:
    with pytest.raises(ClientRequestException) as raised:
        client(emulator, secret_key="not-the-secret").list_flink_jobs(dli.ListFlinkJobsRequest())
    assert raised.value.status_code == 401
    assert raised.value.error_code == "APIG.0301"
    assert raised.value.error_msg == "Incorrect IAM authentication information: verify aksk signature fail"
    assert raised.value.request_id


def test_vendor_sdk_missing_job(emulator: Emulator) -> None:
    with pytest.raises(ClientRequestException) as raised:
        client(emulator).show_flink_job(dli.ShowFlinkJobRequest(job_id=123456789))
    assert raised.value.status_code == 400
    assert raised.value.error_code == "DLI.16001"


def test_vendor_sdk_validation_error(emulator: Emulator) -> None:
    with pytest.raises(ClientRequestException) as raised:
        client(emulator).create_flink_jar_job(
            dli.CreateFlinkJarJobRequest(body=dli.CreateFlinkJarJobRequestBody(name="x", cu_number=1))
        )
    assert raised.value.error_code == "DLI.0001"
    assert "cu_number" in raised.value.error_msg


def test_vendor_sdk_temporary_credentials(emulator: Emulator) -> None:
    api = client(emulator, DLI_STS_ACCESS_KEY, DLI_STS_SECRET_KEY, security_token=DLI_STS_TOKEN)
    job_id = create_jar(api, "sts job")
    assert api.show_flink_job(dli.ShowFlinkJobRequest(job_id=job_id)).job_detail.status == "job_init"
    with pytest.raises(ClientRequestException) as raised:
        client(emulator, DLI_STS_ACCESS_KEY, DLI_STS_SECRET_KEY, security_token="forged").list_flink_jobs(
            dli.ListFlinkJobsRequest()
        )
    assert raised.value.error_code == "APIG.0301"
