"""DLI pieces on their own: state table, job specs, error classification, batch results, trigger, links."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from airflow_provider_flinkcloud.clients.huawei_dli import DLI_CODES, DliClient, batch_failures, endpoint_for
from airflow_provider_flinkcloud.core.errors import (
    AuthError,
    FlinkCloudApiError,
    InvalidRequestError,
    JobSpecError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    TransientError,
)
from airflow_provider_flinkcloud.core.jobs import JobStatus
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.core.transport import ApiRequest, ApiResponse, RetryPolicy, api_error
from airflow_provider_flinkcloud.emulator import DLI_PROJECT_ID, EmulatorControl
from airflow_provider_flinkcloud.get_provider_info import get_provider_info
from airflow_provider_flinkcloud.hooks.huawei_dli import DliFlinkHook
from airflow_provider_flinkcloud.links.huawei_dli import DliFlinkConsoleLink
from airflow_provider_flinkcloud.models.huawei_dli import (
    ACTIVE_STATUSES,
    DLI_STATES,
    STOPPED_STATUSES,
    DliBatchResult,
    DliJarJobSpec,
    DliSqlJobSpec,
    declares_batch_mode,
)
from airflow_provider_flinkcloud.triggers.huawei_dli import DliFlinkJobTrigger

# Every status value of huaweicloudsdkdli 3.1.219 (flink_job.py) and the OTC Flink job list reference.
DOCUMENTED_STATUSES = {
    "job_init": JobState.PENDING,
    "job_submitting": JobState.PENDING,
    "job_submit_fail": JobState.FAILED,
    "job_running": JobState.RUNNING,
    "job_running_exception": JobState.FAILED,
    "job_downloading": JobState.PENDING,
    "job_idle": JobState.UNKNOWN,
    "job_canceling": JobState.STOPPING,
    "job_cancel_success": JobState.CANCELED,
    "job_cancel_fail": JobState.RUNNING,
    "job_savepointing": JobState.RUNNING,
    "job_arrearage_stopped": JobState.FAILED,
    "job_arrearage_recovering": JobState.PENDING,
    "job_finish": JobState.SUCCESS,
}


# -- states ---------------------------------------------------------------------------------------


def test_every_documented_status_is_mapped() -> None:
    assert set(DLI_STATES.mapping) == set(DOCUMENTED_STATUSES)
    for native, expected in DOCUMENTED_STATUSES.items():
        assert DLI_STATES(native) is expected, native


def test_terminal_statuses_follow_the_contract() -> None:
    terminal = {n for n in DOCUMENTED_STATUSES if DLI_STATES(n).is_terminal}
    assert terminal == {
        "job_finish",
        "job_submit_fail",
        "job_running_exception",
        "job_arrearage_stopped",
        "job_cancel_success",
    }


def test_active_and_stopped_statuses_are_disjoint_and_documented() -> None:
    assert set(DOCUMENTED_STATUSES) >= ACTIVE_STATUSES and set(DOCUMENTED_STATUSES) >= STOPPED_STATUSES
    assert not ACTIVE_STATUSES & STOPPED_STATUSES
    # A job back in draft after a stop has stopped; a job never run is not something to reattach to.
    assert "job_init" in STOPPED_STATUSES and "job_init" not in ACTIVE_STATUSES
    assert "job_canceling" not in ACTIVE_STATUSES | STOPPED_STATUSES


def test_a_new_status_is_unknown_and_polling_goes_on() -> None:
    assert DLI_STATES("job_hibernating") is JobState.UNKNOWN


# -- specs ----------------------------------------------------------------------------------------


def test_jar_spec_keeps_dli_field_names_and_drops_unset_fields() -> None:
    spec = DliJarJobSpec.model_validate(
        {"name": "j", "entrypoint": "obs://b/j.jar", "cu_number": 4, "runtime_config": {"a.b": 1}}
    )
    assert spec.body() == {
        "name": "j",
        "entrypoint": "obs://b/j.jar",
        "cu_number": 4,
        "runtime_config": json.dumps([{"key": "a.b", "value": "1"}]),
    }


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"name": "", "entrypoint": "e"}, "name"),
        ({"name": "x" * 58, "entrypoint": "e"}, "at most 57 characters"),
        ({"name": "j", "entrypoint": "e", "cu_number": 1}, "cu_number"),
        ({"name": "j", "entrypoint": "e", "parallel_number": 2001}, "parallel_number"),
        ({"name": "j", "entrypoint": "e", "checkpoint_mode": 3}, "checkpoint_mode"),
        ({"name": "j", "entrypoint": "e", "resume_max_num": 0}, "-1 (unlimited) or greater than 0"),
        ({"name": "j", "entrypoint": "e", "log_enabled": True}, "obs_bucket: required when log_enabled"),
        ({"name": "j", "entrypoint": "e", "cu_number": 2, "manager_cu_number": 2}, "must exceed"),
        ({"name": "j", "entrypoint": "e", "tags": [{"key": "", "value": "v"}]}, "tags.0.key"),
        ({"name": "j"}, "entrypoint: required"),
        ({"name": "j", "entrypoint": "e", "feature": "custom"}, "image: required"),
    ],
)
def test_jar_spec_rules_name_the_field(job: dict[str, Any], message: str) -> None:
    hook = DliFlinkHook()
    with pytest.raises(JobSpecError, match="invalid DLI jar job") as raised:
        hook.validate_spec({"kind": "jar", "job": job})
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"name": "s"}, "sql_body: required"),
        (
            {
                "name": "s",
                "sql_body": "x",
                "run_mode": "shared_cluster",
                "job_type": "flink_opensource_sql_job",
            },
            "shared_cluster",
        ),
        ({"name": "s", "sql_body": "x", "cu_number": 2, "parallel_number": 5}, "parallel_number: at most 4"),
        ({"name": "s", "sql_body": "x", "dirty_data_strategy": "3"}, "dirty_data_strategy"),
        ({"name": "s", "sql_body": "x", "run_mode": "cluster"}, "run_mode"),
    ],
)
def test_sql_spec_rules_name_the_field(job: dict[str, Any], message: str) -> None:
    with pytest.raises(JobSpecError, match="invalid DLI sql job") as raised:
        DliFlinkHook().validate_spec({"kind": "sql", "job": job})
    assert message in str(raised.value)


def test_checkpoint_mode_by_name_as_job_details_spell_it() -> None:
    assert (
        DliSqlJobSpec.model_validate(
            {"name": "s", "sql_body": "x", "checkpoint_mode": "at_least_once"}
        ).checkpoint_mode
        == 2
    )


def test_run_spec_needs_distinct_positive_ids() -> None:
    hook = DliFlinkHook()
    assert [u.job_id for u in hook.validate_spec({"kind": "jobs", "job_ids": ["12", 13]}).units] == [
        12,
        13,
    ]
    for ids, message in (
        ([], "at least 1"),
        ([1, 1], "given twice"),
        ([0], "positive"),
        (["abc"], "job_ids"),
    ):
        with pytest.raises(JobSpecError, match=message):
            hook.validate_spec({"kind": "jobs", "job_ids": ids})


@pytest.mark.parametrize(
    ("text", "batch"),
    [
        ("SET 'execution.runtime-mode' = 'batch';", True),
        ('[{"key": "execution.runtime-mode", "value": "BATCH"}]', True),
        ("execution.runtime-mode=batch", True),
        ('[{"key": "execution.runtime-mode", "value": "streaming"}]', False),
        ("INSERT INTO t SELECT 'batch' FROM s", False),
        (None, False),
    ],
)
def test_batch_mode_is_read_from_flink_runtime_mode(text: str | None, batch: bool) -> None:
    assert bool(declares_batch_mode(text)) is batch


def test_default_wait_for_by_runtime_mode() -> None:
    hook = DliFlinkHook()
    streaming = hook.validate_spec(
        {"kind": "sql", "job": {"name": "s", "sql_body": "INSERT INTO a SELECT 1"}}
    )
    bounded = hook.validate_spec(
        {
            "kind": "sql",
            "job": {"name": "s", "sql_body": "SET 'execution.runtime-mode'='batch'; INSERT INTO a SELECT 1"},
        }
    )
    existing = hook.validate_spec({"kind": "jobs", "job_ids": [1]})
    assert [hook.default_wait_for(p) for p in (streaming, bounded, existing)] == [
        "RUNNING",
        "SUCCESS",
        "RUNNING",
    ]


# -- errors ---------------------------------------------------------------------------------------


def client(**overrides: Any) -> DliClient:
    settings = {
        "conn_id": "c",
        "access_key": "AK",
        "secret_key": "SK",
        "region": "cn-north-4",
        "endpoint": None,
        "project_id": "p" * 32,
        "security_token": None,
        "retry": RetryPolicy(),
        **overrides,
    }
    return DliClient(AccessKeySettings(**settings))


REQUEST = ApiRequest(operation="ShowFlinkJob", method="GET", path="/v1.0/p/streaming/jobs/1")


def error_for(status: int, payload: Any, **headers: str) -> FlinkCloudApiError | None:
    body = json.dumps(payload).encode()
    return api_error(client(), REQUEST, ApiResponse(status, {k.lower(): v for k, v in headers.items()}, body))


@pytest.mark.parametrize(
    ("status", "payload", "kind", "code"),
    [
        (
            401,
            {
                "error_msg": "Incorrect IAM authentication information: verify aksk signature fail",
                "error_code": "APIG.0301",
                "request_id": "r1",
            },
            AuthError,
            "APIG.0301",
        ),
        (401, {"error_code": "DLI.0013", "error_msg": "user auth failed"}, AuthError, "DLI.0013"),
        (403, {"error_code": "DLI.0003", "error_msg": "no permission"}, PermissionDeniedError, "DLI.0003"),
        (400, {"error_code": "DLI.16001", "error_msg": "The job does not exist"}, NotFoundError, "DLI.16001"),
        (
            400,
            {"error_code": "DLI.0001", "error_msg": "Parameter check fail"},
            InvalidRequestError,
            "DLI.0001",
        ),
        (429, {"error_code": "APIG.0308", "error_msg": "too many requests"}, ThrottledError, "APIG.0308"),
        (500, {"error_code": "DLI.0999", "error_msg": "server error"}, TransientError, "DLI.0999"),
        (503, {"errorCode": "X", "errorMsg": "unavailable"}, TransientError, "X"),
        (200, {"is_success": "false", "message": "Job is running"}, InvalidRequestError, None),
        (200, {"is_success": False, "message": "refused"}, InvalidRequestError, None),
    ],
)
def test_errors_are_typed_with_the_vendor_code(
    status: int, payload: Any, kind: type, code: str | None
) -> None:
    error = error_for(status, payload, **{"X-Request-Id": "req-9"})
    assert type(error) is kind
    assert error is not None and error.code == code and error.http_status == status
    assert error.request_id in ("req-9", "r1")
    assert error.message


def test_success_in_either_spelling_is_no_error() -> None:
    assert error_for(200, {"is_success": "true", "job_detail": {}}) is None
    assert error_for(200, {"is_success": True}) is None
    assert error_for(200, [{"is_success": "false", "message": "per job"}]) is None  # read per job


def test_retry_after_is_kept_and_throttling_retried() -> None:
    error = error_for(429, {"error_code": "APIG.0308", "error_msg": "slow down"}, **{"Retry-After": "3"})
    assert error is not None and error.retry_after == 3.0 and DLI_CODES.is_retryable(error)
    auth = error_for(401, {"error_code": "APIG.0301", "error_msg": "x"})
    assert auth is not None and not DLI_CODES.is_retryable(auth)


def test_batch_results_are_matched_to_jobs() -> None:
    refs = [{"job_id": "1"}, {"job_id": "2"}]
    results = [
        DliBatchResult(is_success="true"),
        DliBatchResult(is_success=False, message="The job is running"),
    ]
    assert batch_failures(results, refs, lambda r: f"job {r['job_id']}") == ["job 2: The job is running"]
    assert batch_failures([DliBatchResult(is_success=True)], refs, str) == []
    (line,) = batch_failures([DliBatchResult(is_success="false", message="no")], refs, lambda r: r["job_id"])
    assert line == "1, 2: no"


# -- connection and endpoint ----------------------------------------------------------------------


def test_endpoints_by_region() -> None:
    assert endpoint_for("cn-north-4") == "https://dli.cn-north-4.myhuaweicloud.com"
    assert endpoint_for("eu-west-101") == "https://dli.eu-west-101.myhuaweicloud.eu"
    assert (
        client(endpoint="https://dli.eu-de.otc.t-systems.com").base_url
        == "https://dli.eu-de.otc.t-systems.com"
    )


def test_project_id_and_region_are_required_naming_the_field() -> None:
    with pytest.raises(JobSpecError, match="extra project_id is required"):
        client(project_id=None)
    with pytest.raises(JobSpecError, match="set extra region"):
        client(region=None)


def test_test_connection_against_the_emulator(dli_conn: Any, emulator: EmulatorControl) -> None:
    ok, message = DliFlinkHook().test_connection()
    assert ok, message
    dli_conn("dli_bad", password="not-the-secret")
    ok, message = DliFlinkHook(conn_id="dli_bad").test_connection()
    assert not ok and "APIG.0301" in message and "not-the-secret" not in message


def test_wrong_project_is_refused(dli_conn: Any, emulator: EmulatorControl) -> None:
    dli_conn("dli_other_project", extra={"project_id": "0" * 32})
    ok, message = DliFlinkHook(conn_id="dli_other_project").test_connection()
    assert not ok
    assert "DLI.0013" in message and "0" * 32 in message and DLI_PROJECT_ID not in message


# -- trigger, links, provider info ----------------------------------------------------------------


def test_trigger_for_several_jobs_round_trips() -> None:
    refs = [{"job_id": "1", "job_name": "a"}, {"job_id": "2"}, {"job_id": "3"}]
    trigger = DliFlinkJobTrigger(
        conn_id="dli", refs=refs, target_states=["running", "SUCCESS"], poll_interval=5, deadline=2e9
    )
    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["refs"] == refs and kwargs["target_states"] == ["RUNNING", "SUCCESS"]


def test_console_link_for_one_job_and_for_several() -> None:
    one = DliFlinkConsoleLink.format_link({"region": "cn-north-4", "job_id": "148"})
    assert one == "https://console.huaweicloud.com/dli/?region=cn-north-4#/main/jobs/flink/detail/148"
    assert DliFlinkConsoleLink.format_link({"region": "cn-north-4"}).endswith("#/main/jobs/flink")


def test_failure_text_is_the_status_desc() -> None:
    hook = DliFlinkHook()
    status = JobStatus("huawei_dli", {"job_id": "1"}, JobState.FAILED, "job_submit_fail", error="queue full")
    assert hook.failure_text(status) == "queue full"
    assert "no status_desc" in hook.failure_text(
        JobStatus("huawei_dli", {"job_id": "1"}, JobState.FAILED, "job_submit_fail")
    )
    stop_failed = JobStatus("huawei_dli", {"job_id": "1"}, JobState.RUNNING, "job_cancel_fail", error="busy")
    assert hook.stop_error(stop_failed) == "busy" and hook.is_active(stop_failed)


def test_provider_info_declares_the_dli_connection_type() -> None:
    (conn_type,) = [
        c for c in get_provider_info()["connection-types"] if c["connection-type"] == "huaweicloud_dli"
    ]
    assert conn_type["hook-class-name"] == "airflow_provider_flinkcloud.hooks.huawei_dli.DliFlinkHook"
    assert set(conn_type["conn-fields"]) == {"region", "project_id", "endpoint", "security_token"}
    assert conn_type["conn-fields"]["security_token"]["schema"]["format"] == "password"
    assert DliFlinkHook.default_conn_name == "huaweicloud_dli_default"


def test_a_refused_stop_is_an_invalid_request_naming_the_job_but_a_stopped_job_counts(
    dli_conn: Any, emulator: EmulatorControl, caplog: pytest.LogCaptureFixture
) -> None:
    hook = DliFlinkHook()
    plan = hook.validate_spec({"kind": "jar", "job": {"name": "idle-job", "entrypoint": "obs://b/j.jar"}})
    ref, created = hook.upsert(plan.units[0])
    assert created and ref["job_name"] == "idle-job"
    with pytest.raises(
        InvalidRequestError, match=f"DLI refused to stop DLI Flink job {ref['job_id']} \\(idle-job\\)"
    ):
        hook.call(hook.cancel_call(ref))
    # What the stop asked for holds already: the job is not running, so stopping it is done.
    assert hook.stop_many([ref], savepoint=True) == [{"job_id": ref["job_id"], "resume_savepoint": "true"}]
    assert "DLI refused to stop" in caplog.text and "not running" in caplog.text
