"""The vendor's own Python SDK works unchanged against the emulator: the proof of wire compatibility."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

volcenginesdkcore = pytest.importorskip("volcenginesdkcore")
flink = pytest.importorskip("volcenginesdkflink20250101")
from volcenginesdkcore.rest import ApiException  # noqa: E402

from airflow_provider_flinkcloud.emulator import (  # noqa: E402
    VOLCENGINE_ACCESS_KEY,
    VOLCENGINE_SECRET_KEY,
    VOLCENGINE_STS_ACCESS_KEY,
    VOLCENGINE_STS_SECRET_KEY,
    VOLCENGINE_STS_TOKEN,
    Emulator,
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fast(emulator: Emulator) -> None:
    emulator.control.reset()
    emulator.control.set_timings(starting_seconds=0.1, cancelling_seconds=0.1)


def sdk(
    emulator: Emulator,
    access_key: str = VOLCENGINE_ACCESS_KEY,
    secret_key: str = VOLCENGINE_SECRET_KEY,
    session_token: str | None = None,
) -> Any:
    configuration = volcenginesdkcore.Configuration()
    configuration.ak = access_key
    configuration.sk = secret_key
    if session_token:
        configuration.session_token = session_token
    configuration.region = "cn-beijing"
    configuration.host = f"127.0.0.1:{emulator.port}"
    configuration.scheme = "http"
    configuration.auto_retry = False
    return flink.FLINK20250101Api(volcenginesdkcore.ApiClient(configuration))


def start_by_unique_key(api: Any, unique_key: str) -> Any:
    return api.start_application_instance(
        flink.StartApplicationInstanceRequest(
            app=flink.AppForStartApplicationInstanceInput(
                unique_key=unique_key,
                project_id="proj-sdk",
                job_name="作业_sdk",
                job_type="FLINK_STREAMING_SQL",
                engine_version="FLINK_VERSION_1_17",
                sql_text="INSERT INTO sink SELECT * FROM src",
                conf=json.dumps({"parallelism.default": "1"}),
                deploy_request=flink.DeployRequestForStartApplicationInstanceInput(
                    queue="q-1", priority="5", schedule_policy="GANG", schedule_timeout="60"
                ),
            ),
            restore_strategy=flink.RestoreStrategyForStartApplicationInstanceInput(type="FROM_NEW"),
        )
    )


def test_vendor_sdk_lifecycle(emulator: Emulator) -> None:
    # Long enough that a loaded machine still reads STARTING first.
    emulator.control.set_timings(starting_seconds=2.0, cancelling_seconds=0.1)
    api = sdk(emulator)
    first = start_by_unique_key(api, "sdk-job")
    assert first.success is True
    assert len(first.id) == 19
    second = api.start_application_instance(flink.StartApplicationInstanceRequest(id=first.id))
    assert second.id == first.id
    assert second.instance_id != first.instance_id

    got = api.get_application_instance(flink.GetApplicationInstanceRequest(instance_id=first.instance_id))
    assert got.state == "STARTING"
    assert got.job_id == first.id
    assert got.job_name == "作业_sdk"
    assert got.deploy_request.schedule_policy == "GANG"
    assert got.metadata().action == "GetApplicationInstance"

    # Both instances RUNNING before the list: the second started later, by as much as a loaded machine
    # delays it.
    def states() -> list[str]:
        return [
            api.get_application_instance(flink.GetApplicationInstanceRequest(instance_id=i)).state
            for i in (first.instance_id, second.instance_id)
        ]

    deadline = time.monotonic() + 10
    while states() != ["RUNNING", "RUNNING"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert states() == ["RUNNING", "RUNNING"]

    # The SDK requires every filter and sends JobId as an int64.
    listed = api.list_application_instance(
        flink.ListApplicationInstanceRequest(
            project_id="proj-sdk", job_id=int(first.id), state="RUNNING", page_num="1", page_size="10"
        )
    )
    assert listed.total == 2
    assert {record.id for record in listed.records} == {first.instance_id, second.instance_id}

    cancelled = api.cancel_application_instance(
        flink.CancelApplicationInstanceRequest(instance_id=first.instance_id)
    )
    assert cancelled.success is True
    assert cancelled.id == first.id
    state = api.get_application_instance(
        flink.GetApplicationInstanceRequest(instance_id=first.instance_id)
    ).state
    assert state in ("CANCELLING", "STOPPED")
    counters = emulator.control.counters()["volcengine"]
    assert counters["starts_by_app"] == {first.id: 2}
    assert counters["calls"]["CancelApplicationInstance"] == 1


def test_vendor_sdk_with_sts_credentials(emulator: Emulator) -> None:
    api = sdk(emulator, VOLCENGINE_STS_ACCESS_KEY, VOLCENGINE_STS_SECRET_KEY, VOLCENGINE_STS_TOKEN)
    assert start_by_unique_key(api, "sts-job").success is True


def test_vendor_sdk_wrong_secret(emulator: Emulator) -> None:
    api = sdk(emulator, secret_key="wrong-secret")
    with pytest.raises(ApiException) as excinfo:
        api.get_application_instance(flink.GetApplicationInstanceRequest(instance_id="1"))
    assert excinfo.value.status == 401
    body = json.loads(excinfo.value.body)
    assert body["ResponseMetadata"]["Error"]["Code"] == "SignatureDoesNotMatch"


def test_vendor_sdk_business_error_on_http_200(emulator: Emulator) -> None:
    api = sdk(emulator)
    with pytest.raises(ApiException) as excinfo:
        api.start_application_instance(flink.StartApplicationInstanceRequest(id="1234567890123456789"))
    assert excinfo.value.status == 200
    assert "default system error" in str(excinfo.value.reason)
