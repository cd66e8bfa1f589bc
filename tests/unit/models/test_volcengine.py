"""Volcengine job specs: validated before any request, every error naming its field; operator arguments."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
from airflow_provider_flinkcloud.models.volcengine import (
    RestoreStrategy,
    StartApplicationInstanceRequest,
    VolcengineFlinkApp,
    VolcengineFlinkStartSpec,
)
from airflow_provider_flinkcloud.operators.volcengine import VolcengineFlinkStartApplicationOperator
from support.fixtures import PROJECT_ID


def sql_app(**changes: Any) -> dict[str, Any]:
    app = {
        "JobType": "FLINK_STREAMING_SQL",
        "JobName": "orders-enrichment",
        "UniqueKey": "orders-enrichment-key",
        "EngineVersion": "FLINK_VERSION_1_16",
        "SqlText": "INSERT INTO sink SELECT * FROM orders;",
        "DeployRequest": {"Queue": "default", "SchedulePolicy": "GANG"},
    }
    app.update(changes)
    return {k: v for k, v in app.items() if v is not None}


def jar_app(**changes: Any) -> dict[str, Any]:
    app = {
        "JobType": "FLINK_BATCH_JAR",
        "JobName": "daily-rollup",
        "UniqueKey": "daily-rollup-key",
        "Jar": "tos://bucket/jobs/rollup.jar",
        "MainClass": "com.example.Rollup",
    }
    app.update(changes)
    return {k: v for k, v in app.items() if v is not None}


@pytest.fixture
def validate(volcengine_conn: Any) -> Any:
    """``validate(spec, conn_id=...)`` through the hook, as the operator does."""

    def run(spec: dict[str, Any], conn_id: str = "volcengine_flink_default") -> VolcengineFlinkStartSpec:
        return VolcengineFlinkHook(conn_id=conn_id).validate_spec(spec)

    return run


def spec_error(validate: Any, spec: dict[str, Any], conn_id: str = "volcengine_flink_default") -> str:
    with pytest.raises(JobSpecError) as info:
        validate(spec, conn_id)
    message = str(info.value)
    assert message.startswith("invalid Volcengine Flink spec: ")
    return message


def test_valid_sql_app(validate: Any) -> None:
    spec = validate({"app": sql_app()})
    assert spec.app is not None
    assert spec.app.job_type == "FLINK_STREAMING_SQL"
    assert spec.app.deploy_request is not None and spec.app.deploy_request.schedule_policy == "GANG"
    assert spec.application_id is None and spec.restore_strategy is None


@pytest.mark.parametrize(
    ("app", "path", "rule"),
    [
        (sql_app(SqlText=None), "App.SqlText", "required for FLINK_STREAMING_SQL jobs"),
        (sql_app(SqlText="   "), "App.SqlText", "required for FLINK_STREAMING_SQL jobs"),
        (jar_app(Jar=None), "App.Jar", "required for FLINK_BATCH_JAR jobs"),
        (jar_app(JobType="FLINK_STREAMING_JAR", Jar=None), "App.Jar", "required for FLINK_STREAMING_JAR"),
        (sql_app(Jar="tos://bucket/x.jar"), "App.Jar", "not used by FLINK_STREAMING_SQL jobs"),
        (
            sql_app(JobType="FLINK_BATCH_SQL", MainClass="com.X"),
            "App.MainClass",
            "not used by FLINK_BATCH_SQL",
        ),
        (sql_app(JobType="FLINK_STREAMING_PY"), "App.JobType", "'FLINK_STREAMING_SQL'"),
        (sql_app(EngineVersion="1.16"), "App.EngineVersion", "'FLINK_VERSION_1_16'"),
        (
            sql_app(DeployRequest={"SchedulePolicy": "FIFO"}),
            "App.DeployRequest.SchedulePolicy",
            "'GANG' or 'DRF'",
        ),
        (sql_app(SqlTxt="SELECT 1"), "App.SqlTxt", "Extra inputs are not permitted"),
        (sql_app(DeployRequest={"Queue": "q", "Pool": "p"}), "App.DeployRequest.Pool", "Extra inputs"),
        (sql_app(JobName=""), "App.JobName", "at least 1 character"),
        (sql_app(Conf="{not json"), "App.Conf", "must be a JSON object or a JSON string"),
    ],
    ids=[
        "sql-without-sqltext",
        "sql-with-blank-sqltext",
        "batch-jar-without-jar",
        "streaming-jar-without-jar",
        "sql-with-jar",
        "sql-with-mainclass",
        "bad-jobtype",
        "bad-engineversion",
        "bad-schedulepolicy",
        "typo-key",
        "typo-key-nested",
        "empty-jobname",
        "invalid-conf-string",
    ],
)
def test_invalid_app_names_the_field(validate: Any, app: dict[str, Any], path: str, rule: str) -> None:
    message = spec_error(validate, {"app": app})
    assert f"{path}: " in message
    assert rule in message


def test_several_problems_are_all_named(validate: Any) -> None:
    message = spec_error(validate, {"app": sql_app(JobType="FLINK", EngineVersion="X", Extra=1)})
    for path in ("App.JobType: ", "App.EngineVersion: ", "App.Extra: "):
        assert path in message


def test_from_savepoint_needs_a_savepoint_id(validate: Any) -> None:
    message = spec_error(validate, {"app": sql_app(), "restore_strategy": "FROM_SAVEPOINT"})
    assert "RestoreStrategy.SavepointId: required when Type is FROM_SAVEPOINT" in message
    message = spec_error(validate, {"app": sql_app(), "restore_strategy": {"Type": "FROM_SAVEPOINT"}})
    assert "RestoreStrategy.SavepointId: " in message


def test_bad_restore_type_is_named(validate: Any) -> None:
    message = spec_error(validate, {"app": sql_app(), "restore_strategy": "FROM_YESTERDAY"})
    assert "RestoreStrategy.Type: " in message and "'FROM_SAVEPOINT'" in message


def test_restore_strategy_forms(validate: Any) -> None:
    latest = validate({"app": sql_app(), "restore_strategy": "FROM_LATEST"})
    assert latest.restore_strategy == RestoreStrategy(type="FROM_LATEST")
    spec = validate({"app": sql_app(), "restore_strategy": {"Type": "FROM_SAVEPOINT", "SavepointId": "sp-1"}})
    assert spec.restore_strategy is not None
    assert spec.restore_strategy.body() == {"Type": "FROM_SAVEPOINT", "SavepointId": "sp-1"}


def test_first_start_needs_unique_key_or_application_id(validate: Any) -> None:
    message = spec_error(validate, {"app": sql_app(UniqueKey=None)})
    assert "App.UniqueKey" in message and "application_id" in message
    # A later start may name the application instead, with or without an App.
    assert validate({"app": sql_app(UniqueKey=None), "application_id": "1840"}).application_id == "1840"
    assert validate({"application_id": 1840}).application_id == "1840"


def test_nothing_given_is_rejected(validate: Any) -> None:
    message = spec_error(validate, {"app": None, "application_id": None})
    assert "App.UniqueKey" in message


def test_app_must_be_a_mapping(validate: Any) -> None:
    message = spec_error(validate, {"app": "orders-enrichment"})
    assert "App: must be a dict or model, got str" in message


def test_project_id_falls_back_to_the_connection(validate: Any) -> None:
    spec = validate({"app": sql_app()})
    assert spec.project_id == PROJECT_ID
    assert spec.app is not None and spec.app.project_id == PROJECT_ID
    assert validate({"application_id": "42"}).project_id == PROJECT_ID


def test_project_id_in_the_app_wins(validate: Any) -> None:
    spec = validate({"app": sql_app(ProjectId="team-b")})
    assert spec.project_id == "team-b"
    assert spec.app is not None and spec.app.project_id == "team-b"


def test_project_id_missing_everywhere_is_named(validate: Any, volcengine_conn: Any) -> None:
    conn_id = volcengine_conn("volc_no_project", extra={"project_id": ""})
    message = spec_error(validate, {"app": sql_app()}, conn_id)
    assert "ProjectId: " in message
    assert validate({"app": sql_app(ProjectId="p-1")}, conn_id).project_id == "p-1"


def test_conf_dict_becomes_a_json_string(validate: Any) -> None:
    conf = {"parallelism.default": 4, "pipeline.name": "订单"}
    spec = validate({"app": sql_app(Conf=conf)})
    assert spec.app is not None and isinstance(spec.app.conf, str)
    assert json.loads(spec.app.conf) == conf
    body = StartApplicationInstanceRequest(app=spec.app).body()
    assert isinstance(body["App"]["Conf"], str) and json.loads(body["App"]["Conf"]) == conf


def test_conf_json_string_is_kept(validate: Any) -> None:
    spec = validate({"app": sql_app(Conf='{"parallelism.default": 2}')})
    assert spec.app is not None and spec.app.conf == '{"parallelism.default": 2}'


def test_snake_case_keys_are_accepted(validate: Any) -> None:
    app = {
        "job_type": "FLINK_BATCH_SQL",
        "job_name": "rollup",
        "unique_key": "rollup-key",
        "sql_text": "INSERT INTO t SELECT 1;",
        "engine_version": "FLINK_VERSION_1_17",
        "deploy_request": {"resource_pool": "pool-a", "schedule_policy": "DRF"},
        "conf": {"a": "b"},
    }
    spec = validate({"app": app, "restore_strategy": {"type": "FROM_SAVEPOINT", "savepoint_id": "sp-9"}})
    assert spec.app is not None
    assert spec.project_id == PROJECT_ID
    body = StartApplicationInstanceRequest(app=spec.app, restore_strategy=spec.restore_strategy).body()
    assert body["App"]["JobType"] == "FLINK_BATCH_SQL"
    assert body["App"]["DeployRequest"] == {"ResourcePool": "pool-a", "SchedulePolicy": "DRF"}
    assert body["App"]["ProjectId"] == PROJECT_ID
    assert body["RestoreStrategy"] == {"Type": "FROM_SAVEPOINT", "SavepointId": "sp-9"}


def test_snake_case_typo_is_named(validate: Any) -> None:
    message = spec_error(validate, {"app": {**sql_app(), "sql_txt": "x"}})
    assert "App.sql_txt: Extra inputs are not permitted" in message


def test_app_given_as_a_model(validate: Any) -> None:
    app = VolcengineFlinkApp(
        job_type="FLINK_STREAMING_JAR",
        job_name="clicks",
        unique_key="clicks-key",
        jar="tos://bucket/clicks.jar",
        main_class="com.example.Clicks",
    )
    spec = validate({"app": app})
    assert spec.app is not None
    assert spec.app.job_name == "clicks" and spec.app.jar == "tos://bucket/clicks.jar"
    assert spec.project_id == PROJECT_ID and spec.app.project_id == PROJECT_ID


def test_the_model_itself_rejects_a_bad_app() -> None:
    with pytest.raises(ValueError, match="SqlText"):
        VolcengineFlinkApp(job_type="FLINK_BATCH_SQL", job_name="x")


def test_start_request_body_uses_platform_spelling(validate: Any) -> None:
    spec = validate({"app": sql_app(), "restore_strategy": "FROM_LATEST"})
    body = StartApplicationInstanceRequest(app=spec.app, restore_strategy=spec.restore_strategy).body()
    assert set(body) == {"App", "RestoreStrategy"}  # no Id: None fields are left out
    assert body["App"]["SqlText"] == "INSERT INTO sink SELECT * FROM orders;"
    assert body["App"]["UniqueKey"] == "orders-enrichment-key"
    assert body["RestoreStrategy"] == {"Type": "FROM_LATEST"}


# -- default_wait_for ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "wait_for"),
    [
        ({"app": sql_app(JobType="FLINK_BATCH_SQL")}, "SUCCESS"),
        ({"app": jar_app()}, "SUCCESS"),
        ({"app": sql_app()}, "RUNNING"),
        ({"app": jar_app(JobType="FLINK_STREAMING_JAR")}, "RUNNING"),
        ({"application_id": "1840"}, "RUNNING"),
    ],
    ids=["batch-sql", "batch-jar", "streaming-sql", "streaming-jar", "no-app"],
)
def test_default_wait_for(volcengine_conn: Any, spec: dict[str, Any], wait_for: str) -> None:
    hook = VolcengineFlinkHook()
    assert hook.default_wait_for(hook.validate_spec(spec)) == wait_for


# -- operator arguments ---------------------------------------------------------------------------


def make_operator(**kwargs: Any) -> VolcengineFlinkStartApplicationOperator:
    return VolcengineFlinkStartApplicationOperator(task_id="start", app=sql_app(), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "parameter", "shown"),
    [
        ({"wait_for": "FINISHED"}, "wait_for", "'FINISHED'"),
        ({"wait_for": "STOPPED"}, "wait_for", "'STOPPED'"),
        ({"if_running": "ignore"}, "if_running", "'ignore'"),
        ({"if_running": "REATTACH"}, "if_running", "'REATTACH'"),
        ({"poll_interval": 0}, "poll_interval", "0"),
        ({"poll_interval": -5}, "poll_interval", "-5"),
        ({"timeout": 0}, "timeout", "0"),
        ({"timeout": -1.5}, "timeout", "-1.5"),
        ({"timeout": timedelta(0)}, "timeout", "timedelta(0)"),
    ],
)
def test_operator_rejects_bad_arguments(kwargs: dict[str, Any], parameter: str, shown: str) -> None:
    with pytest.raises(ValueError) as info:
        make_operator(**kwargs)
    message = str(info.value)
    assert message.startswith(f"{parameter}: ")
    assert shown in message


def test_operator_accepts_good_arguments() -> None:
    op = make_operator(
        wait_for="success", poll_interval=2, timeout=timedelta(minutes=5), if_running="restart"
    )
    assert op.wait_for == "SUCCESS"
    assert op.poll_interval == 2.0 and op.timeout == 300.0
    assert op.if_running == "restart"
    assert make_operator(wait_for=None).wait_for is None
    assert make_operator().wait_for == "default"
    assert make_operator().conn_id == "volcengine_flink_default"
    assert make_operator().timeout is None


def test_operator_does_not_validate_or_connect_at_construction() -> None:
    # The spec may be templated, so it is validated in execute; the connection is read on first use.
    op = VolcengineFlinkStartApplicationOperator(
        task_id="start", conn_id="no_such_connection", app={"JobType": "{{ params.kind }}"}
    )
    assert op.app == {"JobType": "{{ params.kind }}"}
