"""Huawei Cloud DLI Flink jobs (``/v1.0/{project_id}/streaming/...``), as in api/huawei-dli-dinky.md part A.

Requests are verified with the provider's own SDK-HMAC-SHA256 canonicalisation
(:mod:`airflow_provider_flinkcloud.signers.huawei`), which the vendor vectors pin to huaweicloudsdkcore.
Job states are computed lazily from a per-run timeline, so no background thread runs.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ApiResponse,
    ControlError,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
    RunStates,
    Timeline,
    entered_at,
    json_response,
    plan_run,
    replan,
    state_at,
)
from airflow_provider_flinkcloud.signers.huawei import (
    DATE_FORMAT,
    canonical_request,
    parse_authorization,
    payload_hash,
    signature,
)

# Published on purpose: the emulator's default credentials, printed at start-up and documented.
DLI_ACCESS_KEY = "FLINKCLOUDEMULATORAK"
DLI_SECRET_KEY = "flinkcloud-emulator-dli-secret"  # noqa: S105
DLI_PROJECT_ID = "flinkcloudemulatorproject0000001"
DLI_STS_ACCESS_KEY = "FLINKCLOUDEMULATORTK"
DLI_STS_SECRET_KEY = "flinkcloud-emulator-dli-sts-secret"  # noqa: S105
DLI_STS_TOKEN = "flinkcloud-emulator-dli-sts-token"  # noqa: S105

# HWDOC devg-apisign: X-Sdk-Date must be within 15 minutes of the gateway's clock.
MAX_CLOCK_SKEW_SECONDS = 15 * 60
# AK/SK-signed requests may carry at most 12 MB of body (api A10.1).
MAX_BODY_BYTES = 12 * 1024 * 1024
EMULATOR_USER_NAME = "flinkcloud-emulator"
EMULATOR_USER_ID = "flinkcloudemulatoruser0000000001"
# Ids are small longs like the documented ones (104, 138, 148); the first one minted is 101.
_FIRST_JOB_ID = 100

JOB_STATUSES = (
    "job_init",
    "job_submitting",
    "job_submit_fail",
    "job_running",
    "job_running_exception",
    "job_downloading",
    "job_idle",
    "job_canceling",
    "job_cancel_success",
    "job_cancel_fail",
    "job_savepointing",
    "job_arrearage_stopped",
    "job_arrearage_recovering",
    "job_finish",
)
# Statuses in which a job holds resources: it can be neither run again nor edited.
ACTIVE_STATUSES = frozenset(
    {"job_submitting", "job_running", "job_canceling", "job_savepointing", "job_downloading"}
)
STOPPABLE_STATUSES = frozenset({"job_submitting", "job_running"})
FAILED_STATUSES = frozenset({"job_submit_fail", "job_running_exception"})
RUN_STATES = RunStates(
    starting="job_submitting",
    running="job_running",
    start_failed="job_submit_fail",
    failed="job_running_exception",
    finished="job_finish",
)
JOB_TYPES = ("flink_sql_job", "flink_opensource_sql_job", "flink_sql_edge_job", "flink_jar_job")
SQL_JOB_TYPES = ("flink_sql_job", "flink_opensource_sql_job")
RUN_MODES = ("shared_cluster", "exclusive_cluster", "edge_node")
CHECKPOINT_MODES = {1: "exactly_once", 2: "at_least_once"}

# Documented DLI operations the emulator knows of but does not model; they answer 501 rather than
# pretending the API does not exist (which would be APIG.0101).
_JOBS = r"/v1\.0/(?P<project_id>[^/]+)/streaming/jobs"
_TEMPLATES = r"/v1\.0/(?P<project_id>[^/]+)/streaming/job-templates"
ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), operation)
    for method, pattern, operation in (
        ("POST", r"/v1\.0/(?P<project_id>[^/]+)/streaming/sql-jobs", "CreateFlinkSqlJob"),
        ("POST", r"/v1\.0/(?P<project_id>[^/]+)/streaming/flink-jobs", "CreateFlinkJarJob"),
        ("PUT", r"/v1\.0/(?P<project_id>[^/]+)/streaming/sql-jobs/(?P<job_id>[^/]+)", "UpdateFlinkSqlJob"),
        ("PUT", r"/v1\.0/(?P<project_id>[^/]+)/streaming/flink-jobs/(?P<job_id>[^/]+)", "UpdateFlinkJarJob"),
        ("GET", _JOBS, "ListFlinkJobs"),
        ("POST", _JOBS + "/run", "BatchRunFlinkJobs"),
        ("POST", _JOBS + "/stop", "BatchStopFlinkJobs"),
        ("POST", _JOBS + "/delete", "BatchDeleteFlinkJobs"),
        ("POST", _JOBS + "/export", "ExportFlinkJobs"),
        ("POST", _JOBS + "/import", "ImportFlinkJobs"),
        ("POST", _JOBS + "/metrics", "ShowFlinkMetric"),
        ("GET", _JOBS + "/(?P<job_id>[^/]+)", "ShowFlinkJob"),
        ("DELETE", _JOBS + "/(?P<job_id>[^/]+)", "DeleteFlinkJob"),
        ("GET", _JOBS + "/(?P<job_id>[^/]+)/execute-graph", "ShowFlinkJobExecutionGraph"),
        ("POST", _JOBS + "/(?P<job_id>[^/]+)/savepoint", "ExecuteFlinkJobSavepoint"),
        ("POST", _JOBS + "/(?P<job_id>[^/]+)/import-savepoint", "ImportFlinkJobSavepoint"),
        (
            "POST",
            r"/v3/(?P<project_id>[^/]+)/streaming/jobs/(?P<job_id>[^/]+)/gen-graph",
            "CreateFlinkSqlJobGraph",
        ),
        ("POST", _TEMPLATES, "CreateFlinkSqlJobTemplate"),
        ("GET", _TEMPLATES, "ListFlinkSqlJobTemplates"),
        ("PUT", _TEMPLATES + "/(?P<template_id>[^/]+)", "UpdateFlinkSqlJobTemplate"),
        ("DELETE", _TEMPLATES + "/(?P<template_id>[^/]+)", "DeleteFlinkSqlJobTemplate"),
        ("POST", r"/v1/(?P<project_id>[^/]+)/edgesrv/job-report", "UpdateFlinkJobStatusReport"),
        ("POST", r"/v1/(?P<project_id>[^/]+)/edgesrv/messages", "RunIefJobActionCallBack"),
        ("POST", r"/v1\.0/(?P<project_id>[^/]+)/dli/obs-authorize", "CreateObsAuthorize"),
    )
)
MODELLED_OPERATIONS = frozenset(
    {
        "CreateFlinkSqlJob",
        "CreateFlinkJarJob",
        "UpdateFlinkSqlJob",
        "UpdateFlinkJarJob",
        "ListFlinkJobs",
        "ShowFlinkJob",
        "BatchRunFlinkJobs",
        "BatchStopFlinkJobs",
        "DeleteFlinkJob",
    }
)

# -- request body schema -----------------------------------------------------------------------------
# Kinds: str, int, bool, strs (list of strings), tags, object, mode (checkpoint_mode).
_COMMON_FIELDS: dict[str, str] = {
    "name": "str",
    "desc": "str",
    "queue_name": "str",
    "cu_number": "int",
    "manager_cu_number": "int",
    "parallel_number": "int",
    "checkpoint_enabled": "bool",
    "checkpoint_mode": "mode",
    "checkpoint_interval": "int",
    "log_enabled": "bool",
    "obs_bucket": "str",
    "smn_topic": "str",
    "restart_when_exception": "bool",
    "tm_cus": "int",
    "tm_slot_num": "int",
    "resume_checkpoint": "bool",
    "resume_max_num": "int",
    "runtime_config": "str",
    "flink_log_config": "str",
    "flink_version": "str",
    "execution_agency_urn": "str",
    "tags": "tags",
    "resource_config": "object",
    "resource_config_version": "str",
}
JAR_FIELDS: dict[str, str] = {
    **_COMMON_FIELDS,
    "main_class": "str",
    "entrypoint_args": "str",
    "entrypoint": "str",
    "dependency_jars": "strs",
    "dependency_files": "strs",
    "image": "str",
    "feature": "str",
    "checkpoint_path": "str",
}
SQL_FIELDS: dict[str, str] = {
    **_COMMON_FIELDS,
    "template_id": "int",
    "sql_body": "str",
    "run_mode": "str",
    "idle_state_retention": "int",
    "job_type": "str",
    "edge_group_ids": "strs",
    "dirty_data_strategy": "str",
    "udf_jar_url": "str",
    "operator_config": "str",
    "static_estimator_config": "str",
}
# (minimum, maximum) characters; None is unbounded.
_STRING_LENGTHS: dict[str, tuple[int, int | None]] = {
    "name": (1, 57),
    "desc": (0, 512),
    "queue_name": (0, 128),
    "sql_body": (0, 1024 * 1024),
}
_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "cu_number": (2, 400),
    "parallel_number": (1, 2000),
    "manager_cu_number": (1, None),
    "checkpoint_interval": (1, 3600),
    "tm_cus": (1, None),
    # 0 is what a client that leaves it to the service sends; the service then applies its formula.
    "tm_slot_num": (0, None),
    "idle_state_retention": (0, None),
    "template_id": (1, None),
}
_ENUMS: dict[str, tuple[str, ...]] = {
    "run_mode": RUN_MODES,
    "job_type": SQL_JOB_TYPES,
    "resource_config_version": ("v1", "v2"),
    "feature": ("basic", "custom"),
}
_DIRTY_DATA_STRATEGY = re.compile(r"0|1|2:\S.*")
_RUNTIME_MODE_SQL = re.compile(
    r"\bset\s+['\"`]?execution\.runtime-mode['\"`]?\s*=\s*['\"`]?batch['\"`]?", re.IGNORECASE
)
_RUNTIME_MODE_PAIR = re.compile(r"execution\.runtime-mode\s*[=:]\s*['\"]?batch\b", re.IGNORECASE)

GATEWAY_AUTH_PREFIX = "Incorrect IAM authentication information: "
SIGNATURE_FAIL_MESSAGE = GATEWAY_AUTH_PREFIX + "verify aksk signature fail"
RUN_DELIVERED_MESSAGE = "The request for submitting DLI jobs is delivered successfully."
STOP_DELIVERED_MESSAGE = "The request for stopping DLI jobs is successfully delivered."


class DliError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _invalid(message: str) -> DliError:
    return DliError(400, "DLI.0001", message)


def _gateway_auth(message: str) -> DliError:
    return DliError(401, "APIG.0301", GATEWAY_AUTH_PREFIX + message)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


@dataclass(frozen=True)
class _Credential:
    secret_key: str
    session_token: str | None
    project_ids: frozenset[str]


@dataclass
class _Savepoint:
    path: str
    done_at: float


@dataclass
class _Run:
    seq: int
    started_at: float
    # (time, status) in time order; the status at t is the last entry whose time is <= t.
    timeline: Timeline
    error: str | None
    resume_savepoint: bool
    restored_from: str | None

    def status(self, now: float) -> str:
        return state_at(self.timeline, now)

    def entered_at(self, now: float) -> float:
        return entered_at(self.timeline, now)

    def ended_at(self, now: float) -> float | None:
        return None if self.status(now) in ACTIVE_STATUSES else self.entered_at(now)

    def stop(self, now: float, savepoint_seconds: float | None, cancelling_seconds: float) -> None:
        steps = [(now, "job_savepointing")] if savepoint_seconds is not None else []
        canceling_at = now + (savepoint_seconds or 0.0)
        self.timeline = replan(
            self.timeline,
            now,
            *steps,
            (canceling_at, "job_canceling"),
            (canceling_at + cancelling_seconds, "job_cancel_success"),
        )


@dataclass
class _Job:
    id: int
    project_id: str
    job_type: str
    spec: JSONObject
    user_name: str
    created_at: float
    updated_at: float
    runs: list[_Run] = field(default_factory=list)
    savepoints: list[_Savepoint] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def is_sql(self) -> bool:
        return self.job_type != "flink_jar_job"

    def status(self, now: float) -> str:
        return self.runs[-1].status(now) if self.runs else "job_init"

    def latest_savepoint(self, now: float) -> _Savepoint | None:
        done = [savepoint for savepoint in self.savepoints if savepoint.done_at <= now]
        return done[-1] if done else None


# -- validation ---------------------------------------------------------------------------------------


def _check_type(name: str, kind: str, value: Any) -> Any:
    def wrong(expected: str) -> DliError:
        return _invalid(f"Invalid parameter '{name}': expected {expected}, got {json.dumps(value)}.")

    if kind == "str":
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong("a boolean")
        return value
    if kind == "strs":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise wrong("an array of strings")
        return list(value)
    if kind == "object":
        if not isinstance(value, dict):
            raise wrong("an object")
        return value
    if kind == "mode":
        # The type is Integer, yet the vendor's own SQL example sends "exactly_once": take both.
        if isinstance(value, str) and value in CHECKPOINT_MODES.values():
            return next(number for number, text in CHECKPOINT_MODES.items() if text == value)
        if isinstance(value, bool) or not isinstance(value, int) or value not in CHECKPOINT_MODES:
            raise _invalid(
                f"Invalid parameter 'checkpoint_mode': must be 1 (exactly_once) or 2 (at_least_once), "
                f"got {json.dumps(value)}."
            )
        return value
    assert kind == "tags"
    if not isinstance(value, list):
        raise wrong("an array of {key, value} objects")
    tags: list[dict[str, str]] = []
    for index, tag in enumerate(value):
        if not isinstance(tag, dict):
            raise _invalid(f"Invalid parameter 'tags[{index}]': expected an object with key and value.")
        key, tag_value = tag.get("key"), tag.get("value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise _invalid(f"Invalid parameter 'tags[{index}].key': must be a string of 1 to 128 characters.")
        if not isinstance(tag_value, str) or not 1 <= len(tag_value) <= 255:
            raise _invalid(
                f"Invalid parameter 'tags[{index}].value': must be a string of 1 to 255 characters."
            )
        tags.append({"key": key, "value": tag_value})
    return tags


def _normalise_body(body: JSONObject, fields: Mapping[str, str], *, creating: bool) -> JSONObject:
    """The known fields of a create/update body, type- and range-checked (DLI.0001 names the field)."""
    if creating and body.get("name") is None:
        raise _invalid("Invalid parameter 'name': the job name is required.")
    spec: JSONObject = {}
    # Unknown fields are ignored, as a Jackson-bound service with lenient binding does.
    for name, kind in fields.items():
        value = body.get(name)
        if value is None:
            continue
        spec[name] = _check_type(name, kind, value)
    for name, (low, high) in _STRING_LENGTHS.items():
        if name in spec and not (low <= len(spec[name]) and (high is None or len(spec[name]) <= high)):
            raise _invalid(
                f"Invalid parameter '{name}': length must be between {low} and {high} characters, "
                f"got {len(spec[name])}."
            )
    for name, (low, high) in _INT_RANGES.items():
        if name in spec and not (low <= spec[name] and (high is None or spec[name] <= high)):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise _invalid(f"Invalid parameter '{name}': must be {bound}, got {spec[name]}.")
    if "resume_max_num" in spec and spec["resume_max_num"] != -1 and spec["resume_max_num"] <= 0:
        raise _invalid(
            f"Invalid parameter 'resume_max_num': must be -1 (unlimited) or greater than 0, "
            f"got {spec['resume_max_num']}."
        )
    for name, allowed in _ENUMS.items():
        if name in spec and spec[name] not in allowed:
            raise _invalid(f"Invalid parameter '{name}': {spec[name]!r} is not one of {', '.join(allowed)}.")
    strategy = spec.get("dirty_data_strategy")
    if strategy is not None and not _DIRTY_DATA_STRATEGY.fullmatch(strategy):
        raise _invalid(
            f"Invalid parameter 'dirty_data_strategy': must be '0', '1' or '2:<obs path>', got {strategy!r}."
        )
    return spec


def _runtime_config_is_batch(runtime_config: str) -> bool:
    try:
        parsed = json.loads(runtime_config)
    except ValueError:
        parsed = None
    pairs: list[tuple[str, str]] = []
    if isinstance(parsed, list):
        # TF's form: [{"key": "...", "value": "..."}].
        pairs = [
            (str(item.get("key", "")), str(item.get("value", "")))
            for item in parsed
            if isinstance(item, dict)
        ]
    elif isinstance(parsed, dict):
        pairs = [(str(key), str(value)) for key, value in parsed.items()]
    if pairs:
        return any(
            key.strip().lower() == "execution.runtime-mode" and value.strip().lower() == "batch"
            for key, value in pairs
        )
    return bool(_RUNTIME_MODE_PAIR.search(runtime_config))


def is_batch_job(spec: Mapping[str, Any]) -> bool:
    """Whether Flink would run the job bounded: ``execution.runtime-mode`` set to ``batch``."""
    runtime_config = spec.get("runtime_config")
    if isinstance(runtime_config, str) and _runtime_config_is_batch(runtime_config):
        return True
    sql_body = spec.get("sql_body")
    return isinstance(sql_body, str) and bool(_RUNTIME_MODE_SQL.search(sql_body))


def _query_int(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(f"Invalid parameter '{name}': expected an integer, got {raw!r}.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _invalid(f"Invalid parameter '{name}': must be {bound}, got {value}.")
    return value


def _query_bool(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name, "").lower()
    if raw in ("", "false"):
        return False
    if raw == "true":
        return True
    raise _invalid(f"Invalid parameter '{name}': expected true or false, got {params[name]!r}.")


class HuaweiDliPlatform(Platform):
    name = "huawei_dli"

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(ctx)
        self._credentials: dict[str, _Credential] = {
            DLI_ACCESS_KEY: _Credential(DLI_SECRET_KEY, None, frozenset({DLI_PROJECT_ID})),
            DLI_STS_ACCESS_KEY: _Credential(DLI_STS_SECRET_KEY, DLI_STS_TOKEN, frozenset({DLI_PROJECT_ID})),
        }
        self._operations: dict[str, Callable[[ApiRequest, Mapping[str, str]], ApiResponse]] = {
            "CreateFlinkSqlJob": self._create_sql_job,
            "CreateFlinkJarJob": self._create_jar_job,
            "UpdateFlinkSqlJob": self._update_sql_job,
            "UpdateFlinkJarJob": self._update_jar_job,
            "ListFlinkJobs": self._list_jobs,
            "ShowFlinkJob": self._show_job,
            "BatchRunFlinkJobs": self._batch_run,
            "BatchStopFlinkJobs": self._batch_stop,
            "DeleteFlinkJob": self._delete_job,
        }
        # Outside reset(): an id from before a reset must never resolve to a new job.
        self._last_job_id = _FIRST_JOB_ID
        self.reset()

    # -- Platform interface ----------------------------------------------------------------------

    def reset(self) -> None:
        self._jobs: dict[int, _Job] = {}
        self._failures: list[FailureSpec] = []
        self._creates_by_name: Counter[str] = Counter()
        self._runs_by_name: Counter[str] = Counter()
        self._stops_by_name: Counter[str] = Counter()
        self._run_seq = 0

    def claims(self, request: ApiRequest) -> bool:
        return request.path.startswith("/v1.0/") or self._route(request) is not None

    def operation(self, request: ApiRequest) -> str:
        route = self._route(request)
        return route[0] if route is not None else ""

    def counters(self) -> JSONObject:
        return {
            "creates_by_name": dict(self._creates_by_name),
            "runs_by_name": dict(self._runs_by_name),
            "stops_by_name": dict(self._stops_by_name),
        }

    def add_failure(self, failure: FailureSpec) -> None:
        self._failures.append(failure)

    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        access_key, secret_key = payload.get("access_key"), payload.get("secret_key")
        token, project_id = payload.get("session_token"), payload.get("project_id")
        if not isinstance(access_key, str) or not access_key:
            raise ControlError("'access_key' is required")
        if not isinstance(secret_key, str) or not secret_key:
            raise ControlError("'secret_key' is required")
        if token is not None and (not isinstance(token, str) or not token):
            raise ControlError("'session_token' must be a non-empty string when given")
        if project_id is not None and (
            not isinstance(project_id, str) or not re.fullmatch(r"[A-Za-z0-9]{1,64}", project_id)
        ):
            # OTC listing_jobs.rst: a project id is up to 64 letters and digits.
            raise ControlError("'project_id' must be 1-64 letters and digits when given")
        self._credentials[access_key] = _Credential(
            secret_key, token, frozenset({project_id or DLI_PROJECT_ID})
        )

    def snapshot(self) -> JSONObject:
        now = self.ctx.clock()
        return {
            "access_keys": sorted(self._credentials),
            "projects_by_access_key": {
                access_key: sorted(credential.project_ids)
                for access_key, credential in sorted(self._credentials.items())
            },
            "pending_failures": [failure.as_dict() for failure in self._failures],
            "jobs": [
                {
                    "job_id": job.id,
                    "project_id": job.project_id,
                    "name": job.name,
                    "job_type": job.job_type,
                    "status": job.status(now),
                    "batch": is_batch_job(job.spec),
                    "spec": job.spec,
                    "savepoints": [
                        {"path": sp.path, "done_at": _ms(sp.done_at), "done": sp.done_at <= now}
                        for sp in job.savepoints
                    ],
                    "runs": [
                        {
                            "seq": run.seq,
                            "started_at": _ms(run.started_at),
                            "status": run.status(now),
                            "error": run.error,
                            "resume_savepoint": run.resume_savepoint,
                            "restored_from": run.restored_from,
                            "timeline": [{"at": _ms(at), "status": status} for at, status in run.timeline],
                        }
                        for run in job.runs
                    ],
                }
                for job in self._jobs.values()
            ],
        }

    def fault_code(self, status: int) -> tuple[str, str]:
        if status == 401:
            return "APIG.0301", SIGNATURE_FAIL_MESSAGE
        if status == 403:
            return "APIG.0302", "The IAM user is not authorized to access the API."
        if status == 404:
            return "APIG.0101", "The API does not exist or has not been published in the environment."
        if status == 413:
            return "APIG.0201", "Request entity too large."
        if status == 429:
            return (
                "APIG.0308",
                "The throttling threshold has been reached: "
                "policy user over ratelimit,limit:20,time:1 second",
            )
        if status == 502:
            return "APIG.0202", "Backend unavailable."
        if status == 504:
            return "APIG.0203", "Backend timeout."
        if status >= 500:
            return "DLI.0999", "Server-side errors occur."
        return "DLI.0001", f"HTTP {status} injected by flinkcloud-emulator."

    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        request_id = uuid.uuid4().hex
        payload: JSONObject = {"error_code": code, "error_msg": message}
        if code.startswith("APIG"):
            # The gateway's own envelope carries the request id in the body too; DLI's does not.
            payload = {"error_msg": message, "error_code": code, "request_id": request_id}
        return json_response(status, payload, {"X-Request-Id": request_id, **(headers or {})})

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            route = self._route(request)
            if route is None:
                raise self._no_such_api(request)
            operation, params = route
            if len(request.body) > MAX_BODY_BYTES:
                raise DliError(413, "APIG.0201", "Request entity too large.")
            self._authenticate(request, params["project_id"])
            handler = self._operations.get(operation)
            if handler is None:
                raise DliError(501, "DLI.0007", f"flinkcloud-emulator does not model {operation}.")
            return handler(request, params)
        except DliError as exc:
            return self.error_response(request, exc.status, exc.code, exc.message)

    # -- routing and authentication --------------------------------------------------------------

    @staticmethod
    def _route(request: ApiRequest) -> tuple[str, dict[str, str]] | None:
        path = request.path.rstrip("/") or "/"
        for method, pattern, operation in ROUTES:
            match = pattern.fullmatch(path)
            if match is not None and method == request.method:
                return operation, match.groupdict()
        return None

    @staticmethod
    def _no_such_api(request: ApiRequest) -> DliError:
        path = request.path.rstrip("/") or "/"
        if any(pattern.fullmatch(path) for _method, pattern, _operation in ROUTES):
            return DliError(404, "APIG.0101", "The API does not exist.")
        return DliError(
            404, "APIG.0101", "The API does not exist or has not been published in the environment."
        )

    def _authenticate(self, request: ApiRequest, project_id: str) -> None:
        authorization = request.header("Authorization")
        if not authorization:
            # What the gateway says when a request carries neither a token nor a signature.
            raise _gateway_auth("x-auth-token not found")
        parsed = parse_authorization(authorization)
        if parsed is None:
            raise _gateway_auth("verify aksk signature fail")
        credential = self._credentials.get(parsed.access_key)
        token = request.header("X-Security-Token")
        if credential is None or (credential.session_token is not None and token is None):
            # A temporary AK is only known through its security token; without one it is looked up
            # among the permanent keys and not found.
            raise _gateway_auth(f"Get secretKey failed,ak:{parsed.access_key},err:ak not exist")
        if credential.session_token is not None:
            assert token is not None
            if "x-security-token" not in parsed.signed_headers or not hmac.compare_digest(
                token.encode(), credential.session_token.encode()
            ):
                raise _gateway_auth("decrypt token fail")
        names = parsed.signed_headers
        sdk_date = request.header("X-Sdk-Date")
        if "host" not in names or "x-sdk-date" not in names or sdk_date is None:
            raise _gateway_auth("verify aksk signature fail")
        now = self.ctx.clock()
        try:
            signed_at = datetime.strptime(sdk_date, DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            signed_at = None
        if signed_at is None or abs(now - signed_at) > MAX_CLOCK_SKEW_SECONDS:
            server_time = datetime.fromtimestamp(now, timezone.utc).strftime(DATE_FORMAT)
            # The gateway documents this wording for app authentication (APIG.0303); the IAM
            # variant is assumed to read the same under APIG.0301.
            raise _gateway_auth(f"signature expired, signature time:{sdk_date},server time:{server_time}")
        signed_values: dict[str, str] = {}
        for name in names:
            value = request.header(name)
            if value is None:
                raise _gateway_auth("verify aksk signature fail")
            signed_values[name] = value
        canonical = canonical_request(
            request.method,
            request.path,
            request.query,
            signed_values,
            names,
            payload_hash(signed_values, request.body),
        )
        expected = signature(credential.secret_key, sdk_date, canonical)
        if not hmac.compare_digest(expected, parsed.signature):
            raise _gateway_auth("verify aksk signature fail")
        header_project = request.header("X-Project-Id")
        if header_project is not None and header_project != project_id:
            # The gateway scopes the request to X-Project-Id; a URL for another project fails there.
            raise _gateway_auth(f"URL's projectId {project_id} is not equal X-Project-Id {header_project}")
        if project_id not in credential.project_ids:
            raise DliError(
                401,
                "DLI.0013",
                "User authentication errors occur: "
                f"the credential is not authorized for project {project_id}.",
            )

    # -- helpers -----------------------------------------------------------------------------------

    def _respond(self, payload: Any) -> ApiResponse:
        return json_response(200, payload, {"X-Request-Id": uuid.uuid4().hex})

    @staticmethod
    def _body(request: ApiRequest) -> Any:
        if not request.body.strip():
            return {}
        try:
            return json.loads(request.body)
        except ValueError:
            raise _invalid("The request body is not valid JSON.") from None

    def _object_body(self, request: ApiRequest) -> JSONObject:
        body = self._body(request)
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object.")
        return body

    def _new_job_id(self) -> int:
        self._last_job_id += 1
        return self._last_job_id

    def _job(self, project_id: str, raw_id: str) -> _Job:
        if not raw_id.isdigit():
            raise _invalid(f"Invalid parameter 'job_id': expected a long, got {raw_id!r}.")
        job = self._jobs.get(int(raw_id))
        if job is None or job.project_id != project_id:
            # TF (parseDliFlinkErrToError404) reads HTTP 400 + DLI.16001 as "not found".
            raise DliError(400, "DLI.16001", f"The Flink job {raw_id} does not exist.")
        return job

    def _take_failure(self, job: _Job) -> FailureSpec | None:
        keys = {job.name, str(job.id)}
        for failure in self._failures:
            if failure.job in keys:
                self._failures.remove(failure)
                return failure
        return None

    # -- create / update ---------------------------------------------------------------------------

    def _create(self, request: ApiRequest, project_id: str, *, sql: bool) -> _Job:
        spec = _normalise_body(self._object_body(request), SQL_FIELDS if sql else JAR_FIELDS, creating=True)
        job_type = spec.pop("job_type", "flink_opensource_sql_job") if sql else "flink_jar_job"
        now = self.ctx.clock()
        job = _Job(
            id=self._new_job_id(),
            project_id=project_id,
            job_type=job_type,
            spec=spec,
            user_name=EMULATOR_USER_NAME,
            created_at=now,
            updated_at=now,
        )
        self._jobs[job.id] = job
        # A duplicate name is accepted, as nothing documents a rejection; the counter shows it.
        self._creates_by_name[job.name] += 1
        return job

    def _create_sql_job(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        job = self._create(request, params["project_id"], sql=True)
        # The OTC example for SQL sends is_success as a string, the Jar one as a boolean.
        return self._respond(
            {
                "is_success": "true",
                "message": "A DLI job is created successfully.",
                "job": {"job_id": job.id, "status_name": "job_init", "status_desc": ""},
            }
        )

    def _create_jar_job(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        job = self._create(request, params["project_id"], sql=False)
        return self._respond(
            {
                "is_success": True,
                "message": "A Flink job is created successfully.",
                "job": {"job_id": job.id, "status_name": "job_init", "status_desc": ""},
            }
        )

    def _update(self, request: ApiRequest, params: Mapping[str, str], *, sql: bool) -> ApiResponse:
        job = self._job(params["project_id"], params["job_id"])
        body = self._object_body(request)
        if not sql:
            # The Jar update body's job_type names the kind of job, not a property to change.
            body = {name: value for name, value in body.items() if name != "job_type"}
        spec = _normalise_body(body, SQL_FIELDS if sql else JAR_FIELDS, creating=False)
        # A SQL job's type is fixed at creation; the update body has no job_type either.
        spec.pop("job_type", None)
        if sql != job.is_sql:
            kind, path = ("SQL", "sql-jobs") if job.is_sql else ("Jar", "flink-jobs")
            raise _invalid(
                f"The job {job.id} is a Flink {kind} job ({job.job_type}); update it through {path}/{job.id}."
            )
        now = self.ctx.clock()
        status = job.status(now)
        if status in ACTIVE_STATUSES:
            raise _invalid(
                f"The job {job.id} is in the {status} state and cannot be modified; stop it first."
            )
        job.spec.update(spec)
        job.updated_at = now
        return self._respond(
            {
                "is_success": True,
                "message": "The Flink job is updated successfully.",
                "job": {"update_time": _ms(now)},
            }
        )

    def _update_sql_job(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        return self._update(request, params, sql=True)

    def _update_jar_job(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        return self._update(request, params, sql=False)

    # -- show / list / delete ----------------------------------------------------------------------

    def _show_job(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        job = self._job(params["project_id"], params["job_id"])
        return self._respond(
            {
                "is_success": "true",
                "message": "Job detail query succeeds.",
                "job_detail": self._render(job, self.ctx.clock(), short=True, detail=True),
            }
        )

    def _list_jobs(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        now = self.ctx.clock()
        query = dict(request.query)
        limit = _query_int(query, "limit", 10, 1, 100)
        offset = _query_int(query, "offset", 0, 0, None)
        show_detail = _query_bool(query, "show_detail")
        order = query.get("order", "").lower() or "desc"
        if order not in ("asc", "desc"):
            raise _invalid(f"Invalid parameter 'order': must be asc or desc, got {query['order']!r}.")
        job_type, status = query.get("job_type", ""), query.get("status", "")
        if job_type and job_type not in JOB_TYPES:
            raise _invalid(
                f"Invalid parameter 'job_type': {job_type!r} is not one of {', '.join(JOB_TYPES)}."
            )
        if status and status not in JOB_STATUSES:
            raise _invalid(f"Invalid parameter 'status': {status!r} is not a job status.")
        name, queue, user = query.get("name", ""), query.get("queue_name", ""), query.get("user_name", "")
        if len(name) > 57:
            raise _invalid("Invalid parameter 'name': length must be between 0 and 57 characters.")
        wanted_tags = self._tag_filter(query.get("tags", ""))
        jobs: list[_Job] = []
        for job in self._jobs.values():
            if job.project_id != params["project_id"]:
                continue
            # A substring match, as the console's search box does; callers must compare names exactly.
            if name and name not in job.name:
                continue
            if job_type and job.job_type != job_type:
                continue
            if status and job.status(now) != status:
                continue
            if queue and job.spec.get("queue_name") != queue:
                continue
            if user and job.user_name != user:
                continue
            tags = {(tag["key"], tag["value"]) for tag in job.spec.get("tags", [])}
            if not wanted_tags <= tags:
                continue
            jobs.append(job)
        jobs.sort(key=lambda job: (job.created_at, job.id), reverse=order == "desc")
        page = jobs[offset : offset + limit]
        return self._respond(
            {
                "is_success": "true",
                "message": "Querying of the job list succeeds.",
                "job_list": {
                    "total_count": len(jobs),
                    "jobs": [
                        self._render(job, now, short=not show_detail, detail=show_detail) for job in page
                    ],
                },
            }
        )

    @staticmethod
    def _tag_filter(raw: str) -> set[tuple[str, str]]:
        wanted: set[tuple[str, str]] = set()
        for item in filter(None, (part.strip() for part in raw.split(","))):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise _invalid(f"Invalid parameter 'tags': expected k=v[,k2=v2], got {raw!r}.")
            wanted.add((key, value))
        return wanted

    def _delete_job(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        job = self._job(params["project_id"], params["job_id"])
        # A job in any state can be deleted; a running one is stopped with it.
        del self._jobs[job.id]
        return self._respond({"is_success": "true", "message": "The job is successfully deleted."})

    # -- batch run / stop --------------------------------------------------------------------------

    def _batch_body(self, request: ApiRequest, flag: str) -> tuple[list[int | str], bool]:
        body = self._object_body(request)
        job_ids = body.get("job_ids")
        if not isinstance(job_ids, list) or not job_ids:
            raise _invalid("Invalid parameter 'job_ids': a non-empty array of job ids is required.")
        ids: list[int | str] = []
        for raw in job_ids:
            if isinstance(raw, int) and not isinstance(raw, bool):
                ids.append(raw)
            elif isinstance(raw, str) and raw.isdigit():
                # A JSON string of digits binds to a Long on the Java side.
                ids.append(int(raw))
            else:
                raise _invalid(f"Invalid parameter 'job_ids': {json.dumps(raw)} is not a job id.")
        value = body.get(flag, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            raise _invalid(f"Invalid parameter '{flag}': expected a boolean, got {json.dumps(value)}.")
        return ids, value

    def _batch_target(self, project_id: str, raw_id: int | str) -> _Job | None:
        job = self._jobs.get(int(raw_id))
        return job if job is not None and job.project_id == project_id else None

    def _batch_run(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        ids, resume_savepoint = self._batch_body(request, "resume_savepoint")
        now = self.ctx.clock()
        results: list[JSONObject] = []
        for raw_id in ids:
            job = self._batch_target(params["project_id"], raw_id)
            if job is None:
                results.append({"is_success": "false", "message": f"The job {raw_id} does not exist."})
                continue
            status = job.status(now)
            if status in ACTIVE_STATUSES:
                # Nothing happens to the job: a second run is refused, element by element.
                results.append(
                    {
                        "is_success": "false",
                        "message": f"The job {job.id} is already running (status {status}) "
                        "and cannot be submitted again.",
                    }
                )
                continue
            self._launch(job, resume_savepoint, now)
            results.append({"is_success": "true", "message": RUN_DELIVERED_MESSAGE})
        return self._respond(results)

    def _launch(self, job: _Job, resume_savepoint: bool, now: float) -> _Run:
        failure = self._take_failure(job)
        missing = self._missing_for_run(job)
        if missing is not None:
            # What the service reports when the job cannot be built: the submission fails.
            failure = FailureSpec(job=job.name, error=missing)
        timeline = plan_run(
            now, self.ctx.timings, RUN_STATES, bounded=is_batch_job(job.spec), failure=failure
        )
        error = failure.error if failure is not None else None
        savepoint = job.latest_savepoint(now) if resume_savepoint else None
        self._run_seq += 1
        run = _Run(
            seq=self._run_seq,
            started_at=now,
            timeline=timeline,
            error=error,
            resume_savepoint=resume_savepoint,
            restored_from=savepoint.path if savepoint is not None else None,
        )
        job.runs.append(run)
        job.updated_at = now
        self._runs_by_name[job.name] += 1
        return run

    @staticmethod
    def _missing_for_run(job: _Job) -> str | None:
        # Undocumented; the emulator fails the submission of a job it could not know how to run.
        if job.is_sql and not job.spec.get("sql_body"):
            return "The SQL statement of the job is empty; set sql_body before running it."
        if not job.is_sql and not job.spec.get("entrypoint"):
            return "The job has no entrypoint JAR; set entrypoint before running it."
        return None

    def _batch_stop(self, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
        ids, trigger_savepoint = self._batch_body(request, "trigger_savepoint")
        now = self.ctx.clock()
        timings = self.ctx.timings
        results: list[JSONObject] = []
        for raw_id in ids:
            job = self._batch_target(params["project_id"], raw_id)
            if job is None:
                results.append({"is_success": "false", "message": f"The job {raw_id} does not exist."})
                continue
            status = job.status(now)
            if status not in STOPPABLE_STATUSES:
                results.append(
                    {
                        "is_success": "false",
                        "message": f"The job {job.id} is not running (status {status}); "
                        "only a submitting or running job can be stopped.",
                    }
                )
                continue
            run = job.runs[-1]
            # A savepoint needs a running job; one still being submitted is just cancelled.
            savepoint_seconds = (
                timings.savepoint_seconds if trigger_savepoint and status == "job_running" else None
            )
            run.stop(now, savepoint_seconds, timings.cancelling_seconds)
            if savepoint_seconds is not None:
                job.savepoints.append(
                    _Savepoint(
                        path=f"obs://flinkcloud-emulator/savepoints/{job.id}/{uuid.uuid4()}",
                        done_at=now + savepoint_seconds,
                    )
                )
            job.updated_at = now
            self._stops_by_name[job.name] += 1
            results.append({"is_success": "true", "message": STOP_DELIVERED_MESSAGE})
        return self._respond(results)

    # -- rendering -------------------------------------------------------------------------------

    def _render(self, job: _Job, now: float, *, short: bool, detail: bool) -> JSONObject:
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
            "create_time": _ms(job.created_at),
            "start_time": _ms(run.started_at) if run is not None else None,
            "graph_editor_enabled": False,
            "has_savepoint": savepoint is not None,
            "savepoint_path": savepoint.path if savepoint is not None else None,
            "edge_group_ids": job.spec.get("edge_group_ids"),
            "restart_times": max(0, len(job.runs) - 1),
        }
        if short:
            ended = run.ended_at(now) if run is not None else None
            record["user_name"] = job.user_name
            record["duration"] = (
                _ms((ended if ended is not None else now) - run.started_at) if run is not None else 0
            )
            record["root_id"] = -1
        if detail:
            spec = job.spec
            record.update(
                {
                    "user_id": EMULATOR_USER_ID,
                    "project_id": job.project_id,
                    "sql_body": spec.get("sql_body") if job.is_sql else None,
                    "run_mode": spec.get("run_mode", "shared_cluster") if job.is_sql else None,
                    "main_class": None if job.is_sql else spec.get("main_class"),
                    "entrypoint_args": None if job.is_sql else spec.get("entrypoint_args"),
                    "execution_graph": None,
                    "update_time": _ms(job.updated_at),
                    "job_config": self._job_config(job),
                }
            )
        return record

    @staticmethod
    def _job_config(job: _Job) -> JSONObject:
        spec = job.spec
        cu_number = spec.get("cu_number", 2)
        manager_cu_number = spec.get("manager_cu_number", 1)
        parallel_number = spec.get("parallel_number", 1)
        tm_cus = spec.get("tm_cus", 1)
        task_cus = cu_number - manager_cu_number
        # The documented default: (parallel_number * tm_cus) / (cu_number - manager_cu_number).
        default_slots = -(-parallel_number * tm_cus // task_cus) if task_cus > 0 else 0
        return {
            "checkpoint_enabled": spec.get("checkpoint_enabled", False),
            "checkpoint_mode": CHECKPOINT_MODES[spec.get("checkpoint_mode", 1)],
            "checkpoint_interval": spec.get("checkpoint_interval", 10),
            "log_enabled": spec.get("log_enabled", False),
            "obs_bucket": spec.get("obs_bucket"),
            "smn_topic": spec.get("smn_topic"),
            "edge_group_ids": spec.get("edge_group_ids"),
            "root_id": -1,
            "manager_cu_number": manager_cu_number,
            "cu_number": cu_number,
            "parallel_number": parallel_number,
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
            "tm_cus": tm_cus,
            "tm_slot_num": spec.get("tm_slot_num") or default_slots,
            "image": spec.get("image"),
            "feature": spec.get("feature"),
            "flink_version": spec.get("flink_version"),
            "operator_config": spec.get("operator_config"),
            "static_estimator_config": spec.get("static_estimator_config"),
            "real_cu_number": 0,
            "resource_config": spec.get("resource_config"),
            "resource_config_version": spec.get("resource_config_version", "v1"),
        }
