"""The hook checks the connection's raw extra on both ways it reads a connection (the sync ``client``
property and the triggerer's ``async_client``): an extra that is not JSON fails, it is never read as
``{}`` (which would sign requests for the public endpoint nobody configured)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.hook import ConnectionSettingsError, FlinkCloudHook
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl
from support.platforms import PlatformKit

TOKEN = "sts-t0ken-5e2a-not-for-logs"


def hook_of(kit: PlatformKit, conn_id: str) -> FlinkCloudHook[Any]:
    hook_class: type[FlinkCloudHook[Any]] = kit.spec.load(kit.spec.hook_path)
    return hook_class(conn_id=conn_id)


@pytest.fixture
def broken_extra(
    kit: PlatformKit, emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A connection to the emulator whose extra text is not JSON (a missing closing brace)."""
    conn = json.loads(kit.connection(emulator_server.url))
    good = json.dumps({**conn["extra"], "security_token": TOKEN})
    conn["extra"] = good[:-1]
    conn_id = f"{kit.name}_broken_extra"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def assert_names_the_problem(error: BaseException, conn_id: str) -> None:
    message = str(error)
    assert message.startswith(f"connection {conn_id!r}: extra is not valid JSON ("), message
    assert TOKEN not in message
    # Fails the task for good (a retry cannot repair a connection), and is a JobSpecError for callers.
    assert isinstance(error, AirflowFailException) and isinstance(error, JobSpecError)


def test_sync_client_refuses_an_extra_that_is_not_json(
    kit: PlatformKit, broken_extra: str, emulator: EmulatorControl
) -> None:
    hook = hook_of(kit, broken_extra)
    with pytest.raises(ConnectionSettingsError) as info:
        _ = hook.client
    assert_names_the_problem(info.value, broken_extra)
    ok, message = hook.test_connection()
    assert ok is False and "extra is not valid JSON" in message
    assert sum(kit.calls(emulator).values()) == 0


def test_async_client_refuses_an_extra_that_is_not_json(
    kit: PlatformKit, broken_extra: str, emulator: EmulatorControl
) -> None:
    hook = hook_of(kit, broken_extra)
    with pytest.raises(ConnectionSettingsError) as info:
        asyncio.run(hook.async_client())
    assert_names_the_problem(info.value, broken_extra)
    assert sum(kit.calls(emulator).values()) == 0


def test_both_paths_still_read_a_good_connection(
    kit: PlatformKit, platform_conn: Any, emulator_server: Emulator
) -> None:
    conn_id = platform_conn(f"{kit.name}_good")
    assert hook_of(kit, conn_id).client.base_url == emulator_server.url.rstrip("/")
    client = asyncio.run(hook_of(kit, conn_id).async_client())
    assert client.base_url == emulator_server.url.rstrip("/")


def test_a_field_of_the_wrong_type_fails_the_task_for_good(
    kit: PlatformKit, platform_conn: Any, emulator: EmulatorControl
) -> None:
    # ``endpoint`` is a field of every platform's connection (``region`` is not Dinky's).
    conn_id = platform_conn(f"{kit.name}_endpoint_number", extra={"endpoint": 5})
    with pytest.raises(
        ConnectionSettingsError, match=r"extra endpoint: must be text \(a JSON string\), got 5"
    ):
        _ = hook_of(kit, conn_id).client
    assert sum(kit.calls(emulator).values()) == 0
