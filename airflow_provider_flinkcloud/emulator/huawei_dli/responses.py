"""DLI's answers: bare JSON bodies with an ``X-Request-Id`` header, the two error envelopes, job records.

DLI itself answers ``{"error_code": "DLI.xxxx", "error_msg": ...}``; the API gateway in front of it
answers ``{"error_msg", "error_code": "APIG.xxxx", "request_id"}``
(https://support.huaweicloud.com/devg-apisign/api-sign-errorcode.html).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.emulator.platform import ApiResponse, JSONObject, json_response

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.emulator.huawei_dli.state import DliState, Job

EMULATOR_USER_ID = "flinkcloudemulatoruser0000000001"
CHECKPOINT_MODES = {1: "exactly_once", 2: "at_least_once"}
FAILED_STATUSES = frozenset({"job_submit_fail", "job_running_exception"})
GATEWAY_AUTH_PREFIX = "Incorrect IAM authentication information: "
SIGNATURE_FAIL_MESSAGE = GATEWAY_AUTH_PREFIX + "verify aksk signature fail"


class DliError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> DliError:
    return DliError(400, "DLI.0001", message)


def gateway_auth(message: str) -> DliError:
    return DliError(401, "APIG.0301", GATEWAY_AUTH_PREFIX + message)


# The gateway's answers to a request it cannot parse and to a body over its limit
# (https://support.huaweicloud.com/intl/en-us/usermanual-apig/apig-ug-180530090.html).
def bad_request() -> DliError:
    return DliError(400, "APIG.0201", "Bad request.")


def entity_too_large() -> DliError:
    return DliError(413, "APIG.0201", "Request entity too large.")


_FAULT_CODES: dict[int, tuple[str, str]] = {
    401: ("APIG.0301", SIGNATURE_FAIL_MESSAGE),
    403: ("APIG.0302", "The IAM user is not authorized to access the API."),
    404: ("APIG.0101", "The API does not exist or has not been published in the environment."),
    413: ("APIG.0201", "Request entity too large."),
    429: (
        "APIG.0308",
        "The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 second",
    ),
    502: ("APIG.0202", "Backend unavailable."),
    504: ("APIG.0203", "Backend timeout."),
}


def fault_code(status: int) -> tuple[str, str]:
    """The code the gateway or DLI would send with an injected HTTP ``status``."""
    if status in _FAULT_CODES:
        return _FAULT_CODES[status]
    if status >= 500:
        return "DLI.0999", "Server-side errors occur."
    return "DLI.0001", f"HTTP {status} injected by flinkcloud-emulator."


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> ApiResponse:
    request_id = uuid.uuid4().hex
    payload: JSONObject = {"error_code": code, "error_msg": message}
    if code.startswith("APIG"):
        # The gateway's own envelope carries the request id in the body too; DLI's does not.
        payload = {"error_msg": message, "error_code": code, "request_id": request_id}
    return json_response(status, payload, {"X-Request-Id": request_id, **(headers or {})})


def respond(payload: Any) -> ApiResponse:
    return json_response(200, payload, {"X-Request-Id": uuid.uuid4().hex})


def ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


# -- job records ------------------------------------------------------------------------------------


def _short_fields(job: Job, now: float) -> JSONObject:
    run = job.runs[-1] if job.runs else None
    ended = run.ended_at(now) if run is not None else None
    duration = ms((ended if ended is not None else now) - run.started_at) if run is not None else 0
    return {"user_name": job.user_name, "duration": duration, "root_id": -1}


def _detail_fields(job: Job) -> JSONObject:
    spec = job.spec
    return {
        "user_id": EMULATOR_USER_ID,
        "project_id": job.project_id,
        "sql_body": spec.get("sql_body") if job.is_sql else None,
        "run_mode": spec.get("run_mode", "shared_cluster") if job.is_sql else None,
        "main_class": None if job.is_sql else spec.get("main_class"),
        "entrypoint_args": None if job.is_sql else spec.get("entrypoint_args"),
        "execution_graph": None,
        "update_time": ms(job.updated_at),
        "job_config": job_config(job),
    }


def render(job: Job, now: float, *, short: bool, detail: bool) -> JSONObject:
    """A ``FlinkJob``: the list's short form, its detail form, or both (the show form)."""
    run = job.runs[-1] if job.runs else None
    status = job.status(now)
    savepoint = job.latest_savepoint(now)
    record: JSONObject = {
        "job_id": job.id,
        "name": job.name,
        "desc": job.spec.get("desc", ""),
        "job_type": job.job_type,
        "status": status,
        "status_desc": (run.error or "") if run is not None and status in FAILED_STATUSES else "",
        "queue_name": job.spec.get("queue_name"),
        "create_time": ms(job.created_at),
        "start_time": ms(run.started_at) if run is not None else None,
        "graph_editor_enabled": False,
        "has_savepoint": savepoint is not None,
        "savepoint_path": savepoint.path if savepoint is not None else None,
        "edge_group_ids": job.spec.get("edge_group_ids"),
        "restart_times": max(0, len(job.runs) - 1),
    }
    if short:
        record.update(_short_fields(job, now))
    if detail:
        record.update(_detail_fields(job))
    return record


def _default_slots(spec: JSONObject) -> int:
    # The documented default: (parallel_number * tm_cus) / (cu_number - manager_cu_number), rounded up;
    # https://github.com/opentelekomcloud-docs/data-lake-insight/blob/main/api-ref/source/flink_job-related_apis/creating_a_flink_jar_job.rst
    task_cus = spec.get("cu_number", 2) - spec.get("manager_cu_number", 1)
    parallel_number, tm_cus = spec.get("parallel_number", 1), spec.get("tm_cus", 1)
    return -(-parallel_number * tm_cus // task_cus) if task_cus > 0 else 0


def job_config(job: Job) -> JSONObject:
    spec = job.spec
    return {
        "checkpoint_enabled": spec.get("checkpoint_enabled", False),
        "checkpoint_mode": CHECKPOINT_MODES[spec.get("checkpoint_mode", 1)],
        "checkpoint_interval": spec.get("checkpoint_interval", 10),
        "log_enabled": spec.get("log_enabled", False),
        "obs_bucket": spec.get("obs_bucket"),
        "smn_topic": spec.get("smn_topic"),
        "edge_group_ids": spec.get("edge_group_ids"),
        "root_id": -1,
        "manager_cu_number": spec.get("manager_cu_number", 1),
        "cu_number": spec.get("cu_number", 2),
        "parallel_number": spec.get("parallel_number", 1),
        "restart_when_exception": spec.get("restart_when_exception", False),
        "idle_state_retention": spec.get("idle_state_retention", 3600) if job.is_sql else None,
        "udf_jar_url": spec.get("udf_jar_url"),
        "dirty_data_strategy": spec.get("dirty_data_strategy", "0") if job.is_sql else None,
        "entrypoint": spec.get("entrypoint"),
        "dependency_jars": spec.get("dependency_jars"),
        "dependency_files": spec.get("dependency_files"),
        "executor_number": None,
        "executor_cu_number": None,
        "execution_agency_urn": spec.get("execution_agency_urn"),
        "resume_checkpoint": spec.get("resume_checkpoint", False),
        "runtime_config": spec.get("runtime_config"),
        "flink_log_config": spec.get("flink_log_config"),
        "graph_editor_enabled": False,
        "graph_editor_data": None,
        "resume_max_num": spec.get("resume_max_num", -1),
        "checkpoint_path": spec.get("checkpoint_path"),
        "config_url": None,
        "tm_cus": spec.get("tm_cus", 1),
        "tm_slot_num": spec.get("tm_slot_num") or _default_slots(spec),
        "image": spec.get("image"),
        "feature": spec.get("feature"),
        "flink_version": spec.get("flink_version"),
        "operator_config": spec.get("operator_config"),
        "static_estimator_config": spec.get("static_estimator_config"),
        "real_cu_number": 0,
        "resource_config": spec.get("resource_config"),
        "resource_config_version": spec.get("resource_config_version", "v1"),
    }


def _job_snapshot(job: Job, now: float) -> JSONObject:
    return {
        "job_id": job.id,
        "project_id": job.project_id,
        "name": job.name,
        "job_type": job.job_type,
        "status": job.status(now),
        "batch": job.is_batch,
        "spec": job.spec,
        "savepoints": [
            {"path": sp.path, "done_at": ms(sp.done_at), "done": sp.done_at <= now} for sp in job.savepoints
        ],
        "runs": [
            {
                "seq": run.seq,
                "started_at": ms(run.started_at),
                "status": run.status(now),
                "error": run.error,
                "resume_savepoint": run.resume_savepoint,
                "restored_from": run.restored_from,
                "timeline": [{"at": ms(at), "status": status} for at, status in run.timeline],
            }
            for run in job.runs
        ],
    }


def snapshot(state: DliState, projects_by_access_key: JSONObject, now: float) -> JSONObject:
    """Everything the platform holds, for ``GET /_emulator/state``."""
    return {
        "access_keys": sorted(projects_by_access_key),
        "projects_by_access_key": projects_by_access_key,
        "pending_failures": state.failures.as_list(),
        "jobs": [_job_snapshot(job, now) for job in state.jobs.values()],
    }
