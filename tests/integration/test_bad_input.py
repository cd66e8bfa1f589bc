"""Bad input gets a clear error naming the field, before any request: real Airflow (``dag.test()``)
against the emulator, whose call counters must stay at zero.

What applies to every platform runs once per registry platform (the ``kit`` fixture); what is
particular to one (DLI job ids, Volcengine ``Conf``) is tested for that platform.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl
from airflow_provider_flinkcloud.operators.huawei_dli import (
    DliFlinkCreateJarJobOperator,
    DliFlinkRunJobsOperator,
    DliFlinkStopJobsOperator,
)
from airflow_provider_flinkcloud.operators.volcengine import (
    VolcengineFlinkCancelInstanceOperator,
    VolcengineFlinkStartApplicationOperator,
)
from airflow_provider_flinkcloud.sensors.huawei_dli import DliFlinkJobSensor
from support.airflow_run import run_dag
from support.platforms import PlatformKit, kit_for
from support.platforms.huawei_dli import jar_job
from support.platforms.volcengine import streaming_app

pytestmark = pytest.mark.integration

TOKEN = "sts-t0ken-3b8d-never-logged"


def sensor_on(kit: PlatformKit, task_id: str, job: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("poke_interval", 0.2)
    return kit.sensor_on(task_id, job, **kwargs)


def stop_of(kit: PlatformKit, task_id: str, job: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("poll_interval", 0.2)
    return kit.stop_of(task_id, job, **kwargs)


def no_calls(kit: PlatformKit, emulator: EmulatorControl) -> bool:
    return sum(emulator.counters().get(kit.name, {}).get("calls", {}).values()) == 0


# -- 9. a connection whose extra is not JSON -------------------------------------------------------


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_connection_extra_that_is_not_json_fails_every_task_before_any_request(
    kit, emulator, emulator_server: Emulator, make_dag, task_logs, monkeypatch, deferrable
) -> None:
    conn = json.loads(kit.connection(emulator_server.url))
    # The emulator's own extra (endpoint, project) with a security token, its closing brace lost.
    conn["extra"] = json.dumps({**conn["extra"], "security_token": TOKEN})[:-1]
    conn_id = f"{kit.name}_broken_extra"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    with make_dag("broken_extra") as dag:
        common = {"conn_id": conn_id, "retries": 3, "deferrable": deferrable}
        kit.start_streaming("start", poll_interval=0.2, **common)
        sensor_on(kit, "watch", kit.good_id, **common)
        stop_of(kit, "stop", kit.good_id, conn_id=conn_id, retries=3)
    run = run_dag(dag)
    # Failed for good (a retry cannot repair the connection), naming it, with not one request made
    # (today the extra reads as {} and requests go, signed, to the public endpoint).
    assert run.task_states == {"start": "failed", "watch": "failed", "stop": "failed"}
    output = task_logs()
    assert output.count(f"connection '{conn_id}': extra is not valid JSON (") >= 3
    assert TOKEN not in output
    assert no_calls(kit, emulator)


# -- 10. connection fields of the wrong type -------------------------------------------------------

BAD_FIELDS = {
    "region": (5, "extra region: must be text (a JSON string), got 5"),
    "endpoint": (8765, "extra endpoint: must be text (a JSON string), got 8765"),
    "token": (80612345, "extra security_token: must be text (a JSON string), got a value of type int"),
    "project": (123, "extra project_id: must be text (a JSON string), got 123"),
    "base_delay": (-1, "extra retry_base_delay: must be a number of seconds >= 0, got -1"),
    "max_delay": ("later", "extra retry_max_delay: must be a number of seconds >= 0, got 'later'"),
    "attempts": (0, "extra retry_max_attempts: must be a whole number >= 1, got 0"),
}
# Dinky is addressed by host and port: its extra has no region, project or security token.
DINKY_BAD_FIELDS = {
    "endpoint": (8765, "extra endpoint: must be text (a JSON string), got 8765"),
    "api_token": (80612345, "extra token: must be text (a JSON string), got a value of type int"),
    "token_name": ("dinky token", "extra token_name: must be a header name"),
    "verify_ssl": ("maybe", "extra verify_ssl: must be true or false, got 'maybe'"),
    "hold": (-1, "extra failed_hold_seconds must be a number of seconds >= 0, got -1"),
    "attempts": (0, "extra retry_max_attempts: must be a whole number >= 1, got 0"),
}
BAD_FIELDS_OF = {"dinky": DINKY_BAD_FIELDS}
FIELD_OF = {
    "api_token": "token",
    "hold": "failed_hold_seconds",
    "token": "security_token",
    "project": "project_id",
    "base_delay": "retry_base_delay",
    "max_delay": "retry_max_delay",
    "attempts": "retry_max_attempts",
}


def test_connection_fields_of_the_wrong_type_fail_naming_the_field(
    kit, platform_conn, make_dag, emulator, task_logs
) -> None:
    bad_fields = BAD_FIELDS_OF.get(kit.name, BAD_FIELDS)
    with make_dag("bad_fields") as dag:
        for case, (value, _) in bad_fields.items():
            conn_id = platform_conn(f"{kit.name}_bad_{case}", extra={FIELD_OF.get(case, case): value})
            kit.start_streaming(f"start_{case}", conn_id=conn_id, poll_interval=0.2, retries=3)
    run = run_dag(dag)
    assert run.task_states == {f"start_{case}": "failed" for case in bad_fields}
    output = task_logs()
    for case, (_, message) in bad_fields.items():
        assert f"connection '{kit.name}_bad_{case}': {message}" in output, case
    # The token's value never shows, whatever its type.
    assert "80612345" not in output
    assert no_calls(kit, emulator)


def test_dli_project_id_that_is_no_project_id_fails_naming_it(
    dli_conn, make_dag, emulator, task_logs
) -> None:
    conn_id = dli_conn("dli_bad_project", extra={"project_id": "../../v2/other"})
    with make_dag("bad_project") as dag:
        DliFlinkJobSensor(task_id="watch", conn_id=conn_id, job_id=101, poke_interval=0.2, retries=3)
    assert run_dag(dag).task_states == {"watch": "failed"}
    assert "extra project_id: must be 1-64 letters and digits" in task_logs()
    assert no_calls(kit_for("huawei_dli"), emulator)


# -- 10. task arguments: checked where the task is constructed ------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"timeout": "abc"}, "timeout: must be a number of seconds or a timedelta, got 'abc'"),
        ({"poll_interval": "fast"}, "poll_interval: must be a number of seconds or a timedelta, got 'fast'"),
        ({"timeout": -1}, "timeout: must be positive, got -1"),
    ],
    ids=["timeout-abc", "poll-interval-fast", "timeout-negative"],
)
def test_durations_that_are_no_seconds_fail_when_the_operator_is_constructed(
    kit, make_dag, arguments: dict[str, Any], message: str
) -> None:
    with make_dag("durations"):
        with pytest.raises(ValueError) as start:
            kit.start_streaming("start", **arguments)
        with pytest.raises(ValueError) as stop:
            stop_of(kit, "stop", kit.good_id, **arguments)
    assert str(start.value) == message and str(stop.value) == message


def test_one_target_state_given_as_text_is_that_state(kit, platform_conn, make_dag, emulator) -> None:
    with make_dag("one_state") as dag:
        start = kit.start_streaming("start", poll_interval=0.2, wait_for=None)
        # "RUNNING" means {"RUNNING"}; it used to be read as the letters R, U, N, I, G.
        watch = kit.sensor("watch", "start", target_states="RUNNING", poke_interval=0.2, timeout=30)
        start >> watch
    assert watch.target_states == ["RUNNING"]
    run = run_dag(dag)
    assert run.task_states == {"start": "success", "watch": "success"}
    assert run.xcom("watch")["state"] == "RUNNING"


# -- 11. ids that go into URL paths (or request bodies) --------------------------------------------


def test_sensor_ids_that_are_no_ids_fail_at_construction(kit, make_dag) -> None:
    field, values, rule = kit.bad_ids
    with make_dag("sensor_ids") as dag:
        for value in values:
            with pytest.raises(ValueError) as info:
                sensor_on(kit, "watch", value)
            assert "watch" not in dag.task_ids
            assert str(info.value) == f"{field}: {rule}, got {value!r}"


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_templated_sensor_id_that_renders_to_no_id_fails_before_any_request(
    kit, platform_conn, make_dag, emulator, task_logs, deferrable
) -> None:
    field, _, rule = kit.bad_ids
    with make_dag("sensor_traversal") as dag:
        # Rendered at run time: today "../../x" goes into DLI's URL path and reaches another route.
        sensor_on(kit, "traversal", "{{ '../../x' }}", retries=3, deferrable=deferrable)
        sensor_on(kit, "none", "{{ None }}", retries=3, deferrable=deferrable)
    run = run_dag(dag)
    assert run.task_states == {"traversal": "failed", "none": "failed"}
    output = task_logs()
    assert f"traversal: {field}: {rule}, got '../../x'" in output
    assert f"none: {field}: {rule}, got 'None'" in output
    assert no_calls(kit, emulator)


def test_dli_job_ids_that_are_no_ids_fail_at_construction(make_dag) -> None:
    with make_dag("dli_ids"):
        for operator in (DliFlinkRunJobsOperator, DliFlinkStopJobsOperator):
            for value, message in (
                (None, "job_ids: must be a job id or a list of job ids, got None"),
                ([True], "job_ids[0]: DLI job ids are positive integers, got True"),
                ("abc", "job_ids[0]: DLI job ids are positive integers, got 'abc'"),
                ([101, 101], "job_ids: job id 101 is given twice, got [101, 101]"),
                ([], "job_ids: must name at least 1 job, got []"),
            ):
                with pytest.raises(ValueError) as info:
                    operator(task_id="t", job_ids=value)
                assert str(info.value) == message, operator


def test_dli_templated_job_ids_render_to_the_list_they_name(dli_conn, make_dag, emulator) -> None:
    first, second = "ids-first", "ids-second"

    def job_id(task_id: str) -> str:
        return f"ti.xcom_pull(task_ids='{task_id}')['job_id']"

    with make_dag("dli_templated_ids") as dag:
        a = DliFlinkCreateJarJobOperator(task_id="a", job=jar_job(first), run=False)
        b = DliFlinkCreateJarJobOperator(task_id="b", job=jar_job(second), run=False)
        # Renders to the text "[101, 102]" (templated fields are text without render_template_as_native_obj).
        run_both = DliFlinkRunJobsOperator(
            task_id="run", job_ids=f"{{{{ [{job_id('a')} | int, {job_id('b')} | int] }}}}", poll_interval=0.2
        )
        # Renders to "['101', '102']", Python's spelling of a list of strings.
        stop_both = DliFlinkStopJobsOperator(
            task_id="stop", job_ids=f"{{{{ [{job_id('a')}, {job_id('b')}] }}}}", poll_interval=0.2
        )
        # Renders to "101".
        watch = DliFlinkJobSensor(
            task_id="watch", job_id=f"{{{{ {job_id('a')} }}}}", target_states="CANCELED", poke_interval=0.2
        )
        [a, b] >> run_both >> stop_both >> watch
    run = run_dag(dag)
    assert run.task_states == {
        "a": "success",
        "b": "success",
        "run": "success",
        "stop": "success",
        "watch": "success",
    }
    ids = [run.xcom("a")["job_id"], run.xcom("b")["job_id"]]
    assert [j["job_id"] for j in run.xcom("run")["jobs"]] == ids
    assert all(j["state"] == "RUNNING" for j in run.xcom("run")["jobs"])
    assert [(j["job_id"], j["stopped"]) for j in run.xcom("stop")["jobs"]] == [(i, True) for i in ids]
    counters = emulator.counters()["huawei_dli"]
    assert counters["runs_by_name"] == {first: 1, second: 1}
    assert counters["calls"]["BatchRunFlinkJobs"] == 1


@pytest.mark.parametrize(
    ("rendered", "message"),
    [
        ("{{ '101, 102' }}", "job_ids[0]: DLI job ids are positive integers, got '101, 102'"),
        ("{{ [101, True] }}", "job_ids[1]: DLI job ids are positive integers, got True"),
        ("{{ None }}", "job_ids[0]: DLI job ids are positive integers, got 'None'"),
        ("{{ '[101' }}", "job_ids: must be a job id or a list of job ids, got '[101'"),
    ],
    ids=["comma-text", "bool-item", "none", "broken-list"],
)
def test_dli_templated_job_ids_that_render_to_anything_else_fail_naming_job_ids(
    dli_conn, make_dag, emulator, task_logs, rendered: str, message: str
) -> None:
    with make_dag("dli_bad_rendered_ids") as dag:
        DliFlinkRunJobsOperator(task_id="run", job_ids=rendered, retries=3)
        DliFlinkStopJobsOperator(task_id="stop", job_ids=rendered, retries=3)
    run = run_dag(dag)
    assert run.task_states == {"run": "failed", "stop": "failed"}
    output = task_logs()
    assert f"run: invalid DLI run spec: {message}" in output
    assert f"stop: {message}" in output
    assert no_calls(kit_for("huawei_dli"), emulator)


def test_volcengine_ids_that_are_no_ids_fail_at_construction(make_dag) -> None:
    rule = re.escape("must be a Volcengine id (a positive int64, as digits)")
    with make_dag("volc_ids"):
        with pytest.raises(ValueError, match=f"^instance_id: {rule}, got 'abc'$"):
            VolcengineFlinkCancelInstanceOperator(task_id="stop", instance_id="abc")
        with pytest.raises(ValueError, match=f"^application_id: {rule}, got 'orders-enrichment'$"):
            VolcengineFlinkCancelInstanceOperator(task_id="stop", application_id="orders-enrichment")
        with pytest.raises(ValueError, match=f"^application_id: {rule}, got 'app-1'$"):
            VolcengineFlinkStartApplicationOperator(task_id="start", application_id="app-1")


def test_volcengine_templated_ids_that_render_to_no_id_fail_before_any_request(
    volcengine_conn, make_dag, emulator, task_logs
) -> None:
    rule = "must be a Volcengine id (a positive int64, as digits)"
    with make_dag("volc_rendered_ids") as dag:
        VolcengineFlinkCancelInstanceOperator(task_id="stop", instance_id="{{ 'i-1' }}", retries=3)
        VolcengineFlinkCancelInstanceOperator(task_id="stop_app", application_id="{{ 'app 1' }}", retries=3)
        VolcengineFlinkStartApplicationOperator(task_id="start", application_id="{{ '42x' }}", retries=3)
    run = run_dag(dag)
    assert run.task_states == {"stop": "failed", "stop_app": "failed", "start": "failed"}
    output = task_logs()
    assert f"stop: instance_id: {rule}, got 'i-1'" in output
    assert f"stop_app: application_id: {rule}, got 'app 1'" in output
    assert f"start: invalid Volcengine Flink spec: application_id: {rule}, got '42x'" in output
    assert no_calls(kit_for("volcengine"), emulator)


@pytest.mark.parametrize(
    ("conf", "shown"),
    [("[1, 2]", "'[1, 2]'"), ('"parallelism.default=2"', "'\"parallelism.default=2\"'"), (["a"], "['a']")],
    ids=["json-array", "json-string", "list"],
)
def test_volcengine_conf_that_is_not_a_json_object_fails_naming_app_conf(
    volcengine_conn, make_dag, emulator, task_logs, conf: Any, shown: str
) -> None:
    with make_dag("volc_conf") as dag:
        VolcengineFlinkStartApplicationOperator(
            task_id="start", app={**streaming_app(), "Conf": conf}, retries=3
        )
    assert run_dag(dag).task_states == {"start": "failed"}
    assert f"App.Conf: must be a JSON object or a JSON string of one, got {shown}" in task_logs()
    assert no_calls(kit_for("volcengine"), emulator)
