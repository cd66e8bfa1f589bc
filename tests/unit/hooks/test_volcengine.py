"""The Volcengine hook's connection handling, its console link, and the operator's on_kill on a worker."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.base.tasks import JOB_XCOM_KEY
from airflow_provider_flinkcloud.clients.volcengine import DEFAULT_ENDPOINT
from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.emulator import VOLCENGINE_SECRET_KEY, EmulatorControl
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
from airflow_provider_flinkcloud.links import volcengine as volcengine_links
from airflow_provider_flinkcloud.links.volcengine import VolcengineFlinkConsoleLink
from airflow_provider_flinkcloud.operators.volcengine import VolcengineFlinkStartApplicationOperator
from support.fixtures import PROJECT_ID
from support.workers import WorkerTI

# -- the hook and its connection -------------------------------------------------------------------


def test_hook_does_not_read_the_connection_in_init() -> None:
    hook = VolcengineFlinkHook(conn_id="no_such_connection_anywhere")
    assert hook.conn_id == "no_such_connection_anywhere"
    # The exception type differs per Airflow line; its message names the connection.
    with pytest.raises(Exception, match="no_such_connection_anywhere"):
        _ = hook.client


def test_default_connection_id() -> None:
    assert (
        VolcengineFlinkHook().conn_id == VolcengineFlinkHook.default_conn_name == "volcengine_flink_default"
    )


def test_test_connection_succeeds_against_the_emulator(
    volcengine_conn: Any, emulator: EmulatorControl, emulator_server: Any
) -> None:
    ok, message = VolcengineFlinkHook().test_connection()
    assert ok is True
    assert emulator_server.url.rstrip("/") in message and "Volcengine Flink" in message
    assert emulator.counters()["volcengine"]["calls"] == {"ListGWSApplication": 1}


def test_test_connection_with_a_wrong_secret(volcengine_conn: Any, emulator: EmulatorControl) -> None:
    wrong = "wr0ng-s3cret-value-4f9a"
    ok, message = VolcengineFlinkHook(conn_id=volcengine_conn("volc_wrong", password=wrong)).test_connection()
    assert ok is False
    assert "SignatureDoesNotMatch" in message and "HTTP 401" in message
    assert wrong not in message and VOLCENGINE_SECRET_KEY not in message


def test_test_connection_with_an_unknown_access_key(volcengine_conn: Any, emulator: EmulatorControl) -> None:
    ok, message = VolcengineFlinkHook(
        conn_id=volcengine_conn("volc_ak", login="AKLTnobody")
    ).test_connection()
    assert ok is False and "InvalidAccessKey" in message


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"login": ""}, "login (the access key) is empty"),
        ({"login": "   "}, "login (the access key) is empty"),
        ({"password": ""}, "password (the secret key) is empty"),
        ({"extra": {"endpoint": "open.volcengineapi.com"}}, "extra endpoint must be a full URL"),
        ({"extra": {"retry_max_attempts": "many"}}, "extra retry_max_attempts: must be a whole number >= 1"),
    ],
    ids=["empty-login", "blank-login", "empty-password", "endpoint-not-a-url", "bad-retry-setting"],
)
def test_bad_connection_gives_a_clear_error(
    volcengine_conn: Any, emulator: EmulatorControl, overrides: dict[str, Any], named: str
) -> None:
    hook = VolcengineFlinkHook(conn_id=volcengine_conn("volc_bad", **overrides))
    with pytest.raises(JobSpecError) as info:
        _ = hook.client
    assert "connection 'volc_bad'" in str(info.value) and named in str(info.value)
    ok, message = hook.test_connection()
    assert ok is False and named in message
    # The form's Test button runs under a random temporary id: the message names the field, not it.
    assert "volc_bad" not in message
    assert sum(emulator.counters().get("volcengine", {}).get("calls", {}).values()) == 0


def test_connection_settings(volcengine_conn: Any, emulator_server: Any) -> None:
    conn_id = volcengine_conn(
        "volc_settings", extra={"endpoint": emulator_server.url + "/", "region": "cn-shanghai"}
    )
    client = VolcengineFlinkHook(conn_id=conn_id).client
    assert client.base_url == emulator_server.url.rstrip("/")
    assert client.region == "cn-shanghai" and client.settings.project_id == PROJECT_ID
    assert client.retry.base_delay == 0.05 and client.retry.max_delay == 0.5
    assert VOLCENGINE_SECRET_KEY not in repr(client.settings)


def test_endpoint_defaults_by_region(volcengine_conn: Any) -> None:
    client = VolcengineFlinkHook(conn_id=volcengine_conn("volc_public", extra={"endpoint": ""})).client
    assert client.base_url == DEFAULT_ENDPOINT and client.region == "cn-beijing"
    regional = VolcengineFlinkHook(
        conn_id=volcengine_conn("volc_regional", extra={"endpoint": "", "region": "ap-southeast-3"})
    ).client
    assert regional.base_url == "https://flink.ap-southeast-3.volcengineapi.com"


# -- console link ------------------------------------------------------------------------------------


def test_console_link_is_formatted_from_params() -> None:
    url = VolcengineFlinkConsoleLink.format_link(
        {"region": "cn-shanghai", "project_id": "team a", "application_id": "42", "instance_id": "1840"}
    )
    assert url == (
        "https://console.volcengine.com/flink/region:flink+cn-shanghai/application/detail"
        "?projectId=team%20a&appId=42&instanceId=1840"
    )


def test_console_link_leaves_out_missing_ids() -> None:
    url = VolcengineFlinkConsoleLink.format_link({"instance_id": "7"})
    assert (
        url == "https://console.volcengine.com/flink/region:flink+cn-beijing/application/detail?instanceId=7"
    )


class _FakeXCom:
    def __init__(self, value: Any) -> None:
        self.value = value
        self.asked: list[dict[str, Any]] = []

    def get_value(self, **kwargs: Any) -> Any:
        self.asked.append(kwargs)
        return self.value


def test_console_link_reads_stored_params(monkeypatch: pytest.MonkeyPatch) -> None:
    xcom = _FakeXCom({"region": "cn-beijing", "instance_id": "9"})
    monkeypatch.setattr("airflow_provider_flinkcloud.base.links.XCom", xcom)
    link = VolcengineFlinkConsoleLink()
    assert link.get_link(None, ti_key="key") == volcengine_links.volcengine_console_url(xcom.value)
    assert xcom.asked == [{"ti_key": "key", "key": "volcengine_flink_console"}]
    xcom.value = None
    assert link.get_link(None, ti_key="key") == ""


# -- the operator on a worker -----------------------------------------------------------------------


def streaming_app() -> dict[str, Any]:
    return {
        "JobType": "FLINK_STREAMING_SQL",
        "JobName": "orders-enrichment",
        "UniqueKey": "orders-enrichment-key",
        "SqlText": "INSERT INTO sink SELECT * FROM orders;",
    }


Started = tuple[VolcengineFlinkStartApplicationOperator, WorkerTI, dict[str, Any]]


def start_without_waiting(**kwargs: Any) -> Started:
    op = VolcengineFlinkStartApplicationOperator(task_id="t", app=streaming_app(), wait_for=None, **kwargs)
    ti = WorkerTI()
    result = op.execute({"ti": ti})  # type: ignore[arg-type]
    return op, ti, result


def instance_state(emulator: EmulatorControl, instance_id: str) -> str:
    instances = emulator.state()["volcengine"]["instances"]
    return next(i["State"] for i in instances if i["Id"] == instance_id)


def cancels(emulator: EmulatorControl) -> int:
    return emulator.counters()["volcengine"]["calls"].get("CancelApplicationInstance", 0)


def test_execute_persists_ids_and_link_params(volcengine_conn: Any, emulator: EmulatorControl) -> None:
    _, ti, result = start_without_waiting()
    assert result["state"] in ("PENDING", "RUNNING")
    assert ti.xcom[JOB_XCOM_KEY] == {
        "platform": "volcengine",
        "instance_id": result["instance_id"],
        "application_id": result["application_id"],
        "project_id": PROJECT_ID,
    }
    link_params = ti.xcom[VolcengineFlinkConsoleLink.key]
    assert link_params["instance_id"] == result["instance_id"] and link_params["region"] == "cn-beijing"
    assert VolcengineFlinkConsoleLink.format_link(link_params) == result["console_url"]


def test_worker_on_kill_cancels_the_instance_it_started(
    volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    op, _, result = start_without_waiting()
    assert instance_state(emulator, result["instance_id"]) in ("STARTING", "RUNNING")
    op.on_kill()
    assert cancels(emulator) == 1
    assert instance_state(emulator, result["instance_id"]) in ("CANCELLING", "STOPPED")


def test_worker_on_kill_without_cancel_on_kill_leaves_it_running(
    volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    op, _, result = start_without_waiting(cancel_on_kill=False)
    op.on_kill()
    assert cancels(emulator) == 0
    assert instance_state(emulator, result["instance_id"]) in ("STARTING", "RUNNING")


def test_worker_on_kill_before_anything_started_does_nothing(
    volcengine_conn: Any, emulator: EmulatorControl
) -> None:
    VolcengineFlinkStartApplicationOperator(task_id="start", app=streaming_app()).on_kill()
    assert sum(emulator.counters().get("volcengine", {}).get("calls", {}).values()) == 0


def test_worker_on_kill_survives_an_api_error(volcengine_conn: Any, emulator: EmulatorControl) -> None:
    op, _, result = start_without_waiting()
    emulator.inject_fault("status", operation="CancelApplicationInstance", status=403, count=1)
    op.on_kill()  # logs, does not raise
    assert cancels(emulator) == 1
    assert instance_state(emulator, result["instance_id"]) in ("STARTING", "RUNNING")


def test_an_instance_turning_running_between_the_two_list_calls_is_still_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_flinkcloud.models.volcengine import InstanceRecord

    calls: list[str] = []

    def list_instances(self: Any, project_id: str, application_id: str, state: str) -> Any:
        # STARTING when first asked about, RUNNING from the next call on.
        now = "STARTING" if not calls else "RUNNING"
        calls.append(state)
        return iter([InstanceRecord(id="7", state=now)] if state == now else [])

    monkeypatch.setattr(VolcengineFlinkHook, "list_instances", list_instances)
    records = VolcengineFlinkHook(conn_id="unused").active_instances("p", "1")
    assert [r.id for r in records] == ["7"] and len(calls) == 2
