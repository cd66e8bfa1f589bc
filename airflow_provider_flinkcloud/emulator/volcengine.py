"""Volcengine Flink OpenAPI 2025-01-01, as documented in api/volcengine-alibaba.md part 1.

Requests are verified with the provider's own signer canonicalisation
(:mod:`airflow_provider_flinkcloud.signers.volcengine`), which the vendor vectors pin to the SDK.
Instance states are computed lazily from a per-instance timeline, so no background thread runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

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
from airflow_provider_flinkcloud.signers.volcengine import canonical_request, parse_authorization, signature

# Published on purpose: the emulator's default credentials, printed at start-up and documented.
VOLCENGINE_ACCESS_KEY = "AKLTflinkcloudemulator"
VOLCENGINE_SECRET_KEY = "flinkcloud-emulator-secret"  # noqa: S105
VOLCENGINE_STS_ACCESS_KEY = "AKTPflinkcloudemulator"
VOLCENGINE_STS_SECRET_KEY = "flinkcloud-emulator-sts-secret"  # noqa: S105
VOLCENGINE_STS_TOKEN = "flinkcloud-emulator-sts-token"  # noqa: S105

SERVICE = "flink"
API_VERSION = "2025-01-01"
DEFAULT_REGION = "cn-beijing"
# The window is not documented (api Q5); 15 minutes is what the other V4-style gateways allow.
MAX_CLOCK_SKEW_SECONDS = 15 * 60

JOB_TYPES = ("FLINK_STREAMING_JAR", "FLINK_STREAMING_SQL", "FLINK_BATCH_SQL", "FLINK_BATCH_JAR")
ENGINE_VERSIONS = ("FLINK_VERSION_1_11", "FLINK_VERSION_1_16", "FLINK_VERSION_1_17")
SCHEDULE_POLICIES = ("GANG", "DRF")
RESTORE_TYPES = ("FROM_NEW", "FROM_LATEST", "FROM_SAVEPOINT")
INSTANCE_STATES = ("STARTING", "RUNNING", "FAILED", "CANCELLING", "SUCCEEDED", "STOPPED", "UNKNOWN")
ACTIVE_STATES = frozenset({"STARTING", "RUNNING"})
RUN_STATES = RunStates(
    starting="STARTING", running="RUNNING", start_failed="FAILED", failed="FAILED", finished="SUCCEEDED"
)
TERMINAL_STATES = frozenset({"FAILED", "SUCCEEDED", "STOPPED"})
# What a Flink JobManager would report for each Volcengine instance state.
FLINK_JOB_STATES = {
    "STARTING": "INITIALIZING",
    "RUNNING": "RUNNING",
    "CANCELLING": "CANCELLING",
    "STOPPED": "CANCELED",
    "FAILED": "FAILED",
    "SUCCEEDED": "FINISHED",
    "UNKNOWN": "RECONCILING",
}

# Operations of the 2025-01-01 API that the emulator knows of but does not model (drafts and
# resource pools); they answer 501 rather than pretending the operation does not exist.
UNMODELLED_ACTIONS = frozenset(
    {
        "CreateGWSApplicationDraft",
        "UpdateGWSApplicationDraft",
        "DeployGWSApplicationDraft",
        "CreateGMCSResourcePool",
        "GetGMCSResourcePool",
        "ListGMCSResources",
        "UpdateGMCSResourcePool",
        "DeleteGMCSResource",
    }
)

_APP_STRING_FIELDS = (
    "JobType",
    "ProjectId",
    "AccountId",
    "UserId",
    "JobName",
    "UniqueKey",
    "EngineVersion",
    "Jar",
    "MainClass",
    "Args",
    "SqlText",
)
_ID_FIELDS = frozenset({"ProjectId", "AccountId", "UserId"})
_DEPLOY_REQUEST_FIELDS = (
    "Queue",
    "Priority",
    "ResourcePool",
    "SchedulePolicy",
    "ScheduleTimeout",
    "Namespace",
)
_SHORT_DATE = re.compile(r"\d{8}")
_X_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your Secret Access Key and signing method. Consult the service documentation for details."
)
APP_NOT_FOUND_MESSAGE = "app id is empty or invalid, at the same time, not found app Resource"


class VolcengineError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        code_n: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.code_n = code_n
        self.headers = dict(headers or {})


def _invalid(field_name: str, why: str) -> VolcengineError:
    return VolcengineError(400, "InvalidParameter", f"The parameter {field_name} is invalid: {why}.")


def _app_not_found() -> VolcengineError:
    # The vendor's error table shows this business error with HTTP 200; the SDK raises it as
    # ApiException(status=200), so a client must check ResponseMetadata.Error on 200 too.
    return VolcengineError(200, "default system error", APP_NOT_FOUND_MESSAGE)


def _ms(seconds: float | None) -> str:
    # The time format is undocumented (api Q1); epoch milliseconds as a string is the emulator's choice.
    return "" if seconds is None else str(int(seconds * 1000))


@dataclass(frozen=True)
class _Credential:
    secret_key: str
    session_token: str | None


@dataclass
class _Savepoint:
    seq: int
    savepoint_id: str
    instance_id: str
    description: str
    created_at: float
    done_at: float
    user_id: str

    def status(self, now: float) -> str:
        return "SUCCESS" if now >= self.done_at else "IN_PROGRESS"

    def render(self, now: float) -> JSONObject:
        return {
            "Id": self.seq,
            "UserId": self.user_id,
            "SavepointId": self.savepoint_id,
            "SavepointPath": f"tos://flinkcloud-emulator/savepoints/{self.savepoint_id}",
            "Status": self.status(now),
            "CreateType": "MANUAL",
            "Description": self.description,
            "CreateTime": _ms(self.created_at),
            "CompeleteTime": _ms(self.done_at) if now >= self.done_at else "",
        }


@dataclass
class _App:
    id: str
    project_id: str
    unique_key: str | None
    spec: JSONObject
    created_at: float
    modified_at: float
    version: int = 1
    instance_ids: list[str] = field(default_factory=list)
    savepoints: list[_Savepoint] = field(default_factory=list)

    def job_keys(self) -> set[str]:
        keys = {self.id, str(self.spec.get("JobName") or "")}
        if self.unique_key:
            keys.add(self.unique_key)
        return keys - {""}


@dataclass
class _Instance:
    id: str
    app_id: str
    seq: int
    application_id: str
    deployment_id: str
    jid: str
    rest_url: str
    spec: JSONObject
    version: int
    started_at: float
    # (time, state) in time order; the state at t is the last entry whose time is <= t.
    timeline: Timeline
    error: str | None
    # The restore strategy as requested, and the savepoint it resolved to (FROM_LATEST may find none).
    restore: JSONObject | None
    restored_from: str | None

    def state(self, now: float) -> str:
        return state_at(self.timeline, now)

    def entered_at(self, now: float) -> float:
        return entered_at(self.timeline, now)

    def ended_at(self, now: float) -> float | None:
        return self.entered_at(now) if self.state(now) in TERMINAL_STATES else None

    def cancel(self, now: float, cancelling_seconds: float) -> None:
        self.timeline = replan(self.timeline, now, (now, "CANCELLING"), (now + cancelling_seconds, "STOPPED"))

    def visible_error(self, now: float) -> str | None:
        return self.error if self.state(now) == "FAILED" else None


def _string(value: Any, field_name: str, *, allow_int: bool = False) -> str:
    if isinstance(value, str):
        return value
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _invalid(field_name, f"expected a string, got {json.dumps(value)}")


def _enum(value: Any, field_name: str, allowed: tuple[str, ...]) -> str:
    text = _string(value, field_name)
    if text not in allowed:
        raise _invalid(field_name, f"{text!r} is not one of {', '.join(allowed)}")
    return text


def _page_number(value: Any, field_name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _invalid(field_name, "expected a positive integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(field_name, f"expected a positive integer, got {json.dumps(value)}") from None
    if number < 1:
        raise _invalid(field_name, f"expected a positive integer, got {number}")
    return number


def _normalise_app(app: Any) -> JSONObject:
    """The ``App`` object as stored: known fields only, validated, ``Conf`` as a JSON string."""
    if not isinstance(app, dict):
        raise _invalid("App", "expected an object")
    spec: JSONObject = {}
    for name in _APP_STRING_FIELDS:
        value = app.get(name)
        if value is not None:
            spec[name] = _string(value, f"App.{name}", allow_int=name in _ID_FIELDS)
    if "JobType" in spec:
        _enum(spec["JobType"], "App.JobType", JOB_TYPES)
    if "EngineVersion" in spec:
        _enum(spec["EngineVersion"], "App.EngineVersion", ENGINE_VERSIONS)
    conf = app.get("Conf")
    if conf is not None:
        # The SDK types Conf as a string, the doc example sends an object (api Q2): take both.
        if isinstance(conf, dict):
            spec["Conf"] = json.dumps(conf, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(conf, str):
            if conf.strip():
                try:
                    parsed = json.loads(conf)
                except ValueError:
                    raise _invalid("App.Conf", "expected a JSON object or a JSON-encoded object") from None
                if not isinstance(parsed, dict):
                    raise _invalid("App.Conf", "expected a JSON object or a JSON-encoded object")
            spec["Conf"] = conf
        else:
            raise _invalid("App.Conf", "expected a JSON object or a JSON-encoded object")
    deploy = app.get("DeployRequest")
    if deploy is not None:
        if not isinstance(deploy, dict):
            raise _invalid("App.DeployRequest", "expected an object")
        spec["DeployRequest"] = {
            name: _string(deploy[name], f"App.DeployRequest.{name}", allow_int=True)
            for name in _DEPLOY_REQUEST_FIELDS
            if deploy.get(name) is not None
        }
        if "SchedulePolicy" in spec["DeployRequest"]:
            _enum(
                spec["DeployRequest"]["SchedulePolicy"], "App.DeployRequest.SchedulePolicy", SCHEDULE_POLICIES
            )
    dependency = app.get("Dependency")
    if dependency is not None:
        if not isinstance(dependency, dict):
            raise _invalid("App.Dependency", "expected an object")
        spec["Dependency"] = {}
        for name in ("Jars", "PyLibraries"):
            items = dependency.get(name)
            if items is None:
                continue
            if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
                raise _invalid(f"App.Dependency.{name}", "expected a list of strings")
            spec["Dependency"][name] = list(items)
    return spec


def _check_runnable(spec: JSONObject) -> None:
    # Not stated by the vendor; the emulator refuses to run a job it could not know how to run.
    for name in ("JobType", "JobName"):
        if not spec.get(name):
            raise _invalid(f"App.{name}", "required to start a job")
    job_type = spec["JobType"]
    if job_type.endswith("_SQL") and not spec.get("SqlText"):
        raise _invalid("App.SqlText", f"required for {job_type} jobs")
    if job_type.endswith("_JAR") and not spec.get("Jar"):
        raise _invalid("App.Jar", f"required for {job_type} jobs")


def _dequote(value: str) -> str:
    # The vendor's own Cancel example sends ProjectId="ahbf3mzf1iih" (quotes included) in the query.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


class VolcenginePlatform(Platform):
    name = "volcengine"

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(ctx)
        self._credentials: dict[str, _Credential] = {
            VOLCENGINE_ACCESS_KEY: _Credential(VOLCENGINE_SECRET_KEY, None),
            VOLCENGINE_STS_ACCESS_KEY: _Credential(VOLCENGINE_STS_SECRET_KEY, VOLCENGINE_STS_TOKEN),
        }
        self._actions: dict[str, Callable[[ApiRequest, JSONObject], JSONObject]] = {
            "StartApplicationInstance": self._start_application_instance,
            "GetApplicationInstance": self._get_application_instance,
            "ListApplicationInstance": self._list_application_instance,
            "CancelApplicationInstance": self._cancel_application_instance,
            "CreateGWSSavepoint": self._create_gws_savepoint,
            "ListGWSSavepoint": self._list_gws_savepoint,
            "GetGWSStartMethod": self._get_gws_start_method,
            "RestartGWSApplication": self._restart_gws_application,
            "ListGWSApplication": self._list_gws_application,
        }
        self.reset()

    # -- Platform interface ----------------------------------------------------------------------

    def reset(self) -> None:
        self._apps: dict[str, _App] = {}
        self._instances: dict[str, _Instance] = {}
        self._failures: list[FailureSpec] = []
        self._starts_by_app: Counter[str] = Counter()
        self._starts_by_name: Counter[str] = Counter()
        self._instance_seq = 0
        self._savepoint_seq = 0

    def claims(self, request: ApiRequest) -> bool:
        return request.path == "/"

    def operation(self, request: ApiRequest) -> str:
        return self._query(request).get("Action", "")

    def counters(self) -> JSONObject:
        return {"starts_by_app": dict(self._starts_by_app), "starts_by_name": dict(self._starts_by_name)}

    def add_failure(self, failure: FailureSpec) -> None:
        self._failures.append(failure)

    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        access_key, secret_key = payload.get("access_key"), payload.get("secret_key")
        token = payload.get("session_token")
        if not isinstance(access_key, str) or not access_key:
            raise ControlError("'access_key' is required")
        if not isinstance(secret_key, str) or not secret_key:
            raise ControlError("'secret_key' is required")
        if token is not None and (not isinstance(token, str) or not token):
            raise ControlError("'session_token' must be a non-empty string when given")
        self._credentials[access_key] = _Credential(secret_key, token)

    def snapshot(self) -> JSONObject:
        now = self.ctx.clock()
        return {
            "access_keys": sorted(self._credentials),
            "pending_failures": [failure.as_dict() for failure in self._failures],
            "apps": [
                {
                    "Id": app.id,
                    "ProjectId": app.project_id,
                    "UniqueKey": app.unique_key,
                    "State": self._app_state(app, now),
                    "Spec": app.spec,
                    "VersionId": app.version,
                    "InstanceIds": list(app.instance_ids),
                    "Savepoints": [savepoint.render(now) for savepoint in app.savepoints],
                }
                for app in self._apps.values()
            ],
            "instances": [
                {
                    "Id": instance.id,
                    "JobId": instance.app_id,
                    "JobName": instance.spec.get("JobName", ""),
                    "State": instance.state(now),
                    "Error": instance.error,
                    "RestoreStrategy": instance.restore,
                    "RestoredFrom": instance.restored_from,
                    "Timeline": [{"at": _ms(at), "state": state} for at, state in instance.timeline],
                }
                for instance in self._instances.values()
            ],
        }

    def fault_code(self, status: int) -> tuple[str, str]:
        if status == 429:
            return "RequestLimitExceeded", "Request limit exceeded, please try again later."
        if status == 503:
            return "ServiceUnavailable", "Service is temporarily unavailable, please try again later."
        if status == 504:
            return "InternalServiceTimeout", "Internal Service is timeout. Pls Contact With Admin."
        if status >= 500:
            return "InternalError", "Service has some internal Error. Pls Contact With Admin."
        return "InjectedFault", f"HTTP {status} injected by flinkcloud-emulator."

    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        code_n: int | None = None,
    ) -> ApiResponse:
        error: JSONObject = {"Code": code, "Message": message}
        if code_n is not None:
            error = {"CodeN": code_n, **error}
        metadata = {**self._metadata(request), "Error": error}
        return json_response(status, {"ResponseMetadata": metadata}, headers)

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            self._authenticate(request)
            action = self._resolve_action(request)
            result = self._actions[action](request, self._params(request))
        except VolcengineError as exc:
            return self.error_response(request, exc.status, exc.code, exc.message, exc.headers, exc.code_n)
        return json_response(200, {"ResponseMetadata": self._metadata(request), "Result": result})

    # -- envelope and authentication ------------------------------------------------------------

    @staticmethod
    def _query(request: ApiRequest) -> dict[str, str]:
        return dict(request.query)

    def _metadata(self, request: ApiRequest) -> JSONObject:
        query = self._query(request)
        parsed = parse_authorization(request.header("Authorization") or "")
        stamp = datetime.fromtimestamp(self.ctx.clock(), timezone.utc).strftime("%Y%m%d%H%M%S")
        return {
            "RequestId": f"{stamp}{secrets.token_hex(10).upper()}",
            "Action": query.get("Action", ""),
            "Version": query.get("Version", ""),
            "Service": SERVICE,
            "Region": parsed.region if parsed is not None else DEFAULT_REGION,
        }

    def _authenticate(self, request: ApiRequest) -> None:
        authorization = request.header("Authorization")
        if not authorization:
            raise VolcengineError(
                401, "MissingAuthenticationToken", "Request is missing Authentication Token.", 100003
            )
        parsed = parse_authorization(authorization)
        if parsed is None or not parsed.access_key or not parsed.signature or not parsed.region:
            raise VolcengineError(
                400, "InvalidAuthorization", "Invalid 'Authorization' header, Pls check authorization header."
            )
        if parsed.service != SERVICE or not _SHORT_DATE.fullmatch(parsed.short_date):
            # The documented code for a well-formed header whose credential scope is wrong.
            raise VolcengineError(
                400,
                "InvalidCredential",
                "Invalid credential in 'Authorization', Pls check credential in authorization header.",
            )
        credential = self._credentials.get(parsed.access_key)
        if credential is None:
            raise VolcengineError(
                401,
                "InvalidAccessKey",
                f"The accesskey [{parsed.access_key}] included in the request is invalid.",
                100009,
            )
        x_date = request.header("X-Date")
        if not x_date:
            raise VolcengineError(
                400, "MissingRequestInfo", "The request is missing X-Date information.", 100004
            )
        try:
            signed_at = datetime.strptime(x_date, _X_DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            signed_at = None
        if signed_at is None or abs(self.ctx.clock() - signed_at) > MAX_CLOCK_SKEW_SECONDS:
            # The vendor tables disagree on 400 or 403 (api §1.7); 400 is what the Volcengine
            # gateway tables (6369, 6491) give.
            raise VolcengineError(400, "InvalidTimestamp", "The Signature of the request is expired.", 100006)
        if credential.session_token is not None:
            token = request.header("X-Security-Token")
            if token is None:
                raise VolcengineError(
                    401, "InvalidSecretToken", "Invalid secret token, msg: token is missing."
                )
            if not hmac.compare_digest(token.encode(), credential.session_token.encode()):
                raise VolcengineError(
                    401,
                    "InvalidSecretToken",
                    "Invalid secret token, msg: token does not match the access key.",
                )
        mismatch = VolcengineError(401, "SignatureDoesNotMatch", SIGNATURE_MISMATCH_MESSAGE, 100010)
        body_sha256 = request.header("X-Content-Sha256")
        if body_sha256 is None or not hmac.compare_digest(
            body_sha256.encode(), hashlib.sha256(request.body).hexdigest().encode()
        ):
            raise mismatch
        names = parsed.signed_headers
        if "host" not in names or "x-date" not in names:
            raise mismatch
        signed_values: dict[str, str] = {}
        for name in names:
            value = request.header(name)
            if value is None:
                raise mismatch
            signed_values[name] = value
        canonical = canonical_request(request.method, request.path, request.query, signed_values, body_sha256)
        expected = signature(credential.secret_key, x_date, parsed.region, parsed.service, canonical)
        if parsed.short_date != x_date[:8] or not hmac.compare_digest(expected, parsed.signature):
            raise mismatch

    def _resolve_action(self, request: ApiRequest) -> str:
        query = self._query(request)
        action, version = query.get("Action"), query.get("Version")
        # api §1.7: a missing Action or Version is MissingParameter (100002), not a lookup failure.
        for name, value in (("Action", action), ("Version", version)):
            if not value:
                raise VolcengineError(
                    400, "MissingParameter", f"The request is missing {name} parameter.", 100002
                )
        assert action is not None and version is not None
        if version != API_VERSION or (action not in self._actions and action not in UNMODELLED_ACTIONS):
            raise VolcengineError(
                404,
                "InvalidActionOrVersion",
                f"Could not find operation {action} for version {version}",
                100008,
            )
        if action in UNMODELLED_ACTIONS:
            raise VolcengineError(501, "NotImplemented", f"flinkcloud-emulator does not model {action}.")
        return action

    @staticmethod
    def _params(request: ApiRequest) -> JSONObject:
        params: JSONObject = {
            name: _dequote(value) for name, value in request.query if name not in ("Action", "Version")
        }
        if not request.body.strip():
            return params
        content_type = (request.header("Content-Type") or "").lower()
        if content_type.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
            return params
        try:
            body = json.loads(request.body)
        except ValueError:
            raise VolcengineError(400, "InvalidParameter", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise VolcengineError(400, "InvalidParameter", "The request body must be a JSON object.")
        params.update(body)
        return params

    # -- model helpers ---------------------------------------------------------------------------

    def _app(self, app_id: Any) -> _App:
        app = self._apps.get(str(app_id)) if app_id not in (None, "") else None
        if app is None:
            raise _app_not_found()
        return app

    def _instance(self, params: JSONObject) -> _Instance:
        instance_id = params.get("InstanceId")
        if instance_id in (None, ""):
            raise VolcengineError(
                400, "MissingParameter", "The request is missing InstanceId parameter.", 100002
            )
        instance = self._instances.get(str(instance_id))
        if instance is None:
            # Undocumented; the emulator answers an unknown instance with 404 ResourceNotFound.
            raise VolcengineError(404, "ResourceNotFound", f"The instance {instance_id} does not exist.")
        return instance

    def _app_state(self, app: _App, now: float) -> str:
        if not app.instance_ids:
            return "CREATED"
        return self._instances[app.instance_ids[-1]].state(now)

    def _active_instance(self, app: _App, now: float) -> _Instance | None:
        for instance_id in reversed(app.instance_ids):
            instance = self._instances[instance_id]
            if instance.state(now) in ACTIVE_STATES:
                return instance
        return None

    def _successful_savepoint(self, app: _App, savepoint_id: Any, now: float, field_name: str) -> _Savepoint:
        if savepoint_id in (None, ""):
            raise _invalid(field_name, "required when the restore type is FROM_SAVEPOINT")
        for savepoint in app.savepoints:
            if savepoint.savepoint_id == str(savepoint_id) and savepoint.status(now) == "SUCCESS":
                return savepoint
        raise _invalid(field_name, f"no successful savepoint {savepoint_id} exists for app {app.id}")

    def _restore_source(
        self, app: _App, kind: str, savepoint_id: Any, now: float, field_name: str
    ) -> str | None:
        if kind == "FROM_SAVEPOINT":
            return self._successful_savepoint(app, savepoint_id, now, field_name).savepoint_id
        if kind == "FROM_LATEST":
            done = [sp for sp in app.savepoints if sp.status(now) == "SUCCESS"]
            return done[-1].savepoint_id if done else None
        return None

    def _take_failure(self, app: _App) -> FailureSpec | None:
        keys = app.job_keys()
        for failure in self._failures:
            if failure.job in keys:
                self._failures.remove(failure)
                return failure
        return None

    def _launch(
        self, request: ApiRequest, app: _App, restore: JSONObject | None, restored_from: str | None
    ) -> _Instance:
        now = self.ctx.clock()
        failure = self._take_failure(app)
        bounded = str(app.spec.get("JobType", "")).startswith("FLINK_BATCH_")
        timeline = plan_run(now, self.ctx.timings, RUN_STATES, bounded=bounded, failure=failure)
        self._instance_seq += 1
        instance_id = self.ctx.new_id()
        host = request.header("Host")
        base = f"http://{host}" if host else self.ctx.base_url
        instance = _Instance(
            id=instance_id,
            app_id=app.id,
            seq=self._instance_seq,
            application_id=f"s-{self.ctx.new_id()}",
            deployment_id=self.ctx.new_id(),
            jid=uuid.uuid4().hex,
            rest_url=f"{base}/_flink/{self.name}/{instance_id}",
            spec=json.loads(json.dumps(app.spec)),
            version=app.version,
            started_at=now,
            timeline=timeline,
            error=failure.error if failure is not None else None,
            restore=restore,
            restored_from=restored_from,
        )
        self._instances[instance_id] = instance
        app.instance_ids.append(instance_id)
        self._starts_by_app[app.id] += 1
        self._starts_by_name[str(app.spec.get("JobName", ""))] += 1
        return instance

    @staticmethod
    def _update_spec(app: _App, spec: JSONObject, now: float) -> None:
        changes = {name: value for name, value in spec.items() if name != "UniqueKey"}
        merged = {**app.spec, **changes}
        if merged != app.spec:
            app.spec = merged
            app.version += 1
            app.modified_at = now

    # -- rendering -------------------------------------------------------------------------------

    def _instance_record(self, instance: _Instance, now: float) -> JSONObject:
        spec = instance.spec
        deploy = spec.get("DeployRequest") or {}
        ended = instance.ended_at(now)
        return {
            "Id": instance.id,
            "JobId": instance.app_id,
            "JobType": spec.get("JobType", ""),
            "ProjectId": spec.get("ProjectId", ""),
            "AccountId": spec.get("AccountId", ""),
            "UserId": spec.get("UserId", ""),
            "JobName": spec.get("JobName", ""),
            "DeployRequest": {name: deploy.get(name, "") for name in _DEPLOY_REQUEST_FIELDS},
            "EngineVersion": spec.get("EngineVersion", ""),
            "Jar": spec.get("Jar", ""),
            "MainClass": spec.get("MainClass", ""),
            "Args": spec.get("Args", ""),
            "SqlText": spec.get("SqlText", ""),
            "Dependency": {
                "Jars": list((spec.get("Dependency") or {}).get("Jars", [])),
                "PyLibraries": list((spec.get("Dependency") or {}).get("PyLibraries", [])),
            },
            "Conf": spec.get("Conf", ""),
            "ApplicationId": instance.application_id,
            "DeploymentId": instance.deployment_id,
            "CompleteRestUrl": instance.rest_url,
            "StartTime": _ms(instance.started_at),
            "EndTime": _ms(ended),
            "State": instance.state(now),
        }

    def _instance_detail(self, instance: _Instance, now: float) -> JSONObject:
        ended = instance.ended_at(now)
        deploy = instance.spec.get("DeployRequest") or {}
        return {
            **self._instance_record(instance, now),
            "RestUrl": instance.rest_url,
            "Duration": int((ended if ended is not None else now) - instance.started_at),
            "Core": 2,
            "Memory": 4096,
            "Cluster": "flinkcloud-emulator",
            "CurQueue": deploy.get("Queue", "default"),
            "JobEngineKey": instance.jid,
            "ResourcePreemptionPolicy": "",
            "ResourceVersion": "",
            "CurrentEmitEventTimeLag": 0,
            "VersionId": instance.version,
        }

    # -- actions ---------------------------------------------------------------------------------

    def _start_application_instance(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        raw_app = params.get("App")
        spec = _normalise_app(raw_app) if raw_app is not None else None
        restore = params.get("RestoreStrategy")
        kind: str | None = None
        strategy: JSONObject | None = None
        if restore is not None:
            if not isinstance(restore, dict):
                raise _invalid("RestoreStrategy", "expected an object")
            kind = _enum(restore.get("Type"), "RestoreStrategy.Type", RESTORE_TYPES)
            strategy = {"Type": kind, "SavepointId": restore.get("SavepointId")}
        app_id = params.get("Id")
        app: _App | None
        if app_id not in (None, ""):
            app = self._app(app_id)
        else:
            if spec is None or not spec.get("UniqueKey"):
                raise _app_not_found()
            project_id = spec.get("ProjectId", "")
            app = next(
                (
                    candidate
                    for candidate in self._apps.values()
                    if candidate.project_id == project_id and candidate.unique_key == spec["UniqueKey"]
                ),
                None,
            )
        restored_from: str | None = None
        if app is None:
            assert spec is not None
            _check_runnable(spec)
            if kind == "FROM_SAVEPOINT":
                raise _invalid(
                    "RestoreStrategy.SavepointId", "a job that was never started has no savepoints"
                )
            app = _App(
                id=self.ctx.new_id(),
                project_id=spec.get("ProjectId", ""),
                unique_key=spec["UniqueKey"],
                spec=dict(spec),
                created_at=now,
                modified_at=now,
            )
            self._apps[app.id] = app
        else:
            if kind is not None:
                assert isinstance(restore, dict)
                restored_from = self._restore_source(
                    app, kind, restore.get("SavepointId"), now, "RestoreStrategy.SavepointId"
                )
            # An App sent along with a known job updates the stored definition.
            if spec is not None:
                _check_runnable({**app.spec, **spec})
                self._update_spec(app, spec, now)
            else:
                _check_runnable(app.spec)
        # A second start while an instance is active is allowed here, as on the real service:
        # the provider has to avoid it, and the start counters let tests check that it does.
        instance = self._launch(request, app, strategy, restored_from)
        return {"Id": app.id, "InstanceId": instance.id, "Success": True}

    def _get_application_instance(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        return self._instance_detail(self._instance(params), self.ctx.clock())

    def _list_application_instance(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        page_num = _page_number(params.get("PageNum"), "PageNum", 1)
        page_size = _page_number(params.get("PageSize"), "PageSize", 10)
        state = params.get("State")
        if state not in (None, ""):
            _enum(state, "State", INSTANCE_STATES)
        sort_order = str(params.get("SortOrder") or "desc").lower()
        if sort_order not in ("asc", "desc"):
            raise _invalid("SortOrder", f"{sort_order!r} is not one of asc, desc")
        project_id, job_id = params.get("ProjectId"), params.get("JobId")
        job_name, resource_pool = params.get("JobName"), params.get("ResourcePool")
        records: list[tuple[_Instance, JSONObject]] = []
        for instance in self._instances.values():
            record = self._instance_record(instance, now)
            if project_id not in (None, "") and record["ProjectId"] != str(project_id):
                continue
            if job_id not in (None, "") and record["JobId"] != str(job_id):
                continue
            if state not in (None, "") and record["State"] != state:
                continue
            # A substring match, as the console's search box does; callers must compare names exactly.
            if job_name not in (None, "") and str(job_name) not in record["JobName"]:
                continue
            if resource_pool not in (None, "") and record["DeployRequest"]["ResourcePool"] != str(
                resource_pool
            ):
                continue
            records.append((instance, record))
        sort_field = str(params.get("SortField") or "StartTime")
        if records and sort_field not in records[0][1]:
            raise _invalid("SortField", f"{sort_field!r} is not a field of the records")

        def sort_key(item: tuple[_Instance, JSONObject]) -> tuple[Any, ...]:
            value = item[1].get(sort_field, "")
            if sort_field in ("StartTime", "EndTime", "Id", "JobId"):
                return (int(value or 0), item[0].seq)
            return (str(value), item[0].seq)

        records.sort(key=sort_key, reverse=sort_order == "desc")
        page = records[(page_num - 1) * page_size : page_num * page_size]
        return {
            "Total": len(records),
            "Size": page_size,
            "Current": page_num,
            "Records": [record for _instance, record in page],
        }

    def _cancel_application_instance(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        instance = self._instance(params)
        state = instance.state(now)
        if state not in ACTIVE_STATES:
            # Undocumented; the emulator refuses to cancel an instance that is not active.
            raise VolcengineError(
                400,
                "InvalidState",
                f"The instance {instance.id} is {state}; "
                "only a STARTING or RUNNING instance can be cancelled.",
            )
        instance.cancel(now, self.ctx.timings.cancelling_seconds)
        return {"InstanceId": instance.id, "Success": True, "Id": instance.app_id}

    def _create_gws_savepoint(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        app = self._app(params.get("Id"))
        description = params.get("Description")
        description = "" if description is None else _string(description, "Description")
        running = next(
            (
                self._instances[instance_id]
                for instance_id in reversed(app.instance_ids)
                if self._instances[instance_id].state(now) == "RUNNING"
            ),
            None,
        )
        if running is None:
            raise VolcengineError(
                400,
                "InvalidState",
                f"The job {app.id} is {self._app_state(app, now)}; a savepoint needs a RUNNING instance.",
            )
        self._savepoint_seq += 1
        app.savepoints.append(
            _Savepoint(
                seq=self._savepoint_seq,
                savepoint_id=str(uuid.uuid4()),
                instance_id=running.id,
                description=description,
                created_at=now,
                done_at=now + self.ctx.timings.savepoint_seconds,
                user_id=str(app.spec.get("UserId", "")),
            )
        )
        return {"Id": app.id, "Success": True, "InstanceId": running.id}

    def _list_gws_savepoint(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        app = self._app(params.get("Id"))
        return {"SavepointInfos": [savepoint.render(now) for savepoint in reversed(app.savepoints)]}

    def _get_gws_start_method(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        app = self._app(params.get("Id"))
        available = [sp.render(now) for sp in reversed(app.savepoints) if sp.status(now) == "SUCCESS"]
        return {
            "EnableStartMethods": list(RESTORE_TYPES),
            "AvailableSavepoints": available,
            # The values are undocumented (api Q8); the emulator says whether one can be used.
            "SavepointInfoStatus": "AVAILABLE" if available else "UNAVAILABLE",
        }

    def _restart_gws_application(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        app = self._app(params.get("Id"))
        kind = _enum(params.get("Type"), "Type", RESTORE_TYPES)
        restored_from = self._restore_source(app, kind, params.get("SavepointId"), now, "SavepointId")
        _check_runnable(app.spec)
        active = self._active_instance(app, now)
        if active is not None:
            active.cancel(now, self.ctx.timings.cancelling_seconds)
        strategy = {"Type": kind, "SavepointId": params.get("SavepointId")}
        self._launch(request, app, strategy, restored_from)
        return {"Id": app.id, "Success": True}

    def _list_gws_application(self, request: ApiRequest, params: JSONObject) -> JSONObject:
        now = self.ctx.clock()
        page_num = _page_number(params.get("PageNum"), "PageNum", 1)
        page_size = _page_number(params.get("PageSize"), "PageSize", 10)
        job_type, engine = params.get("JobType"), params.get("EngineVersion")
        if job_type not in (None, ""):
            _enum(job_type, "JobType", JOB_TYPES)
        if engine not in (None, ""):
            _enum(engine, "EngineVersion", ENGINE_VERSIONS)
        state = params.get("State")
        if state not in (None, ""):
            _enum(state, "State", ("CREATED", *INSTANCE_STATES))
        project_id, job_name, pool = (
            params.get("ProjectId"),
            params.get("JobName"),
            params.get("ResourcePool"),
        )
        records: list[JSONObject] = []
        for app in sorted(self._apps.values(), key=lambda a: a.id, reverse=True):
            spec = app.spec
            deploy = spec.get("DeployRequest") or {}
            newest = self._instances[app.instance_ids[-1]] if app.instance_ids else None
            checks = (
                (project_id, app.project_id),
                (job_type, spec.get("JobType", "")),
                (engine, spec.get("EngineVersion", "")),
                (state, self._app_state(app, now)),
                (pool, deploy.get("ResourcePool", "")),
            )
            if any(wanted not in (None, "") and str(wanted) != actual for wanted, actual in checks):
                continue
            if job_name not in (None, "") and str(job_name) not in spec.get("JobName", ""):
                continue
            records.append(
                {
                    "Id": app.id,
                    "AppDraftId": "",
                    "ApplicationId": newest.application_id if newest else "",
                    "JobName": spec.get("JobName", ""),
                    "JobType": spec.get("JobType", ""),
                    "EngineVersion": spec.get("EngineVersion", ""),
                    "ProjectId": app.project_id,
                    "AccountId": spec.get("AccountId", ""),
                    "UserId": spec.get("UserId", ""),
                    "State": self._app_state(app, now),
                    "StartTime": _ms(newest.started_at) if newest else "",
                    "EndTime": _ms(newest.ended_at(now)) if newest else "",
                    "CreateTime": _ms(app.created_at),
                    "ModifiedTime": _ms(app.modified_at),
                    "DeployTime": _ms(app.created_at),
                    "DeployRequest": {name: deploy.get(name, "") for name in _DEPLOY_REQUEST_FIELDS},
                    "Dependency": {
                        "Jars": list((spec.get("Dependency") or {}).get("Jars", [])),
                        "PyLibraries": list((spec.get("Dependency") or {}).get("PyLibraries", [])),
                    },
                    "Options": spec.get("Conf", ""),
                    "Platform": "",
                    "Cluster": "flinkcloud-emulator",
                    "ClusterId": "",
                    "JobPriority": deploy.get("Priority", ""),
                    "ResourcePreemptionPolicy": "",
                    "ResourceVersion": "",
                    "RestUrl": newest.rest_url if newest else "",
                }
            )
        page = records[(page_num - 1) * page_size : page_num * page_size]
        return {"Total": len(records), "Size": page_size, "Current": page_num, "Records": page}

    # -- Flink JobManager REST stub ------------------------------------------------------------------

    def flink_rest(self, request: ApiRequest, subpath: str) -> ApiResponse:
        now = self.ctx.clock()
        parts = [part for part in subpath.split("/") if part]
        instance = self._instances.get(parts[0]) if parts else None
        if instance is None:
            return json_response(404, {"errors": [f"Not found: {request.path}"]})
        rest = parts[1:]
        if rest == ["jobs", "overview"]:
            return json_response(200, {"jobs": [self._flink_job(instance, now)]})
        if rest == ["jobs"]:
            return json_response(
                200, {"jobs": [{"id": instance.jid, "status": self._flink_state(instance, now)}]}
            )
        if len(rest) >= 2 and rest[0] == "jobs" and rest[1] == instance.jid:
            if len(rest) == 2:
                return json_response(200, self._flink_job(instance, now))
            if rest[2:] == ["exceptions"]:
                return json_response(200, self._flink_exceptions(instance, now))
        return json_response(404, {"errors": [f"Not found: {request.path}"]})

    @staticmethod
    def _flink_state(instance: _Instance, now: float) -> str:
        return FLINK_JOB_STATES[instance.state(now)]

    def _flink_job(self, instance: _Instance, now: float) -> JSONObject:
        ended = instance.ended_at(now)
        start_ms = int(instance.started_at * 1000)
        end_ms = int(ended * 1000) if ended is not None else -1
        return {
            "jid": instance.jid,
            "name": instance.spec.get("JobName", ""),
            "state": self._flink_state(instance, now),
            "start-time": start_ms,
            "end-time": end_ms,
            "duration": (end_ms if ended is not None else int(now * 1000)) - start_ms,
            "last-modification": int(instance.entered_at(now) * 1000),
        }

    @staticmethod
    def _flink_exceptions(instance: _Instance, now: float) -> JSONObject:
        error = instance.visible_error(now)
        if error is None:
            return {
                "root-exception": None,
                "timestamp": None,
                "all-exceptions": [],
                "truncated": False,
                "exceptionHistory": {"entries": [], "truncated": False},
            }
        failed_ms = int(instance.entered_at(now) * 1000)
        name, sep, _rest = error.partition(":")
        exception_name = name if sep and "." in name and " " not in name else "java.lang.RuntimeException"
        return {
            "root-exception": error,
            "timestamp": failed_ms,
            "all-exceptions": [],
            "truncated": False,
            "exceptionHistory": {
                "entries": [
                    {
                        "exceptionName": exception_name,
                        "stacktrace": error,
                        "timestamp": failed_ms,
                        "taskName": None,
                        "location": None,
                        "taskManagerId": None,
                        "failureLabels": {},
                        "concurrentExceptions": [],
                    }
                ],
                "truncated": False,
            },
        }
