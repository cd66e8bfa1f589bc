"""Volcengine's envelope, error bodies and the records the actions return.

Every answer is ``{"ResponseMetadata": {RequestId, Action, Version, Service, Region[, Error]}, "Result"}``
(https://www.volcengine.com/docs/6369/68677); an error has ``Error = {[CodeN,] Code, Message}`` and
no ``Result``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ApiResponse, JSONObject, json_response
from airflow_provider_flinkcloud.signers.volcengine import parse_authorization

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.emulator.volcengine.state import (
        App,
        Instance,
        Savepoint,
        VolcengineState,
    )

SERVICE = "flink"
DEFAULT_REGION = "cn-beijing"
DEPLOY_REQUEST_FIELDS = (
    "Queue",
    "Priority",
    "ResourcePool",
    "SchedulePolicy",
    "ScheduleTimeout",
    "Namespace",
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


def invalid(field_name: str, why: str) -> VolcengineError:
    return VolcengineError(400, "InvalidParameter", f"The parameter {field_name} is invalid: {why}.")


def missing_parameter(name: str) -> VolcengineError:
    return VolcengineError(400, "MissingParameter", f"The request is missing {name} parameter.", 100002)


def app_not_found() -> VolcengineError:
    # The vendor's error table shows this business error with HTTP 200; the SDK raises it as
    # ApiException(status=200), so a client must check ResponseMetadata.Error on 200 too.
    return VolcengineError(200, "default system error", APP_NOT_FOUND_MESSAGE)


def malformed_request(detail: str) -> VolcengineError:
    # InvalidParameter is the platform's common code for a request it cannot parse ("Data unmarshal
    # failed", https://www.volcengine.com/docs/6406/113579); the message says what is wrong.
    return VolcengineError(400, "InvalidParameter", f"The request is malformed: {detail}.")


def entity_too_large(limit: int) -> VolcengineError:
    # Undocumented code (see volcengine.auth.MAX_BODY_BYTES).
    return VolcengineError(
        413, "RequestEntityTooLarge", f"The request body is larger than the limit of {limit} bytes."
    )


def invalid_state(message: str) -> VolcengineError:
    # Undocumented; the emulator refuses what the state of a job or instance does not allow.
    return VolcengineError(400, "InvalidState", message)


def fault_code(status: int) -> tuple[str, str]:
    """The gateway's code for an injected HTTP ``status`` (https://www.volcengine.com/docs/6369/68677)."""
    if status == 429:
        return "RequestLimitExceeded", "Request limit exceeded, please try again later."
    if status == 503:
        return "ServiceUnavailable", "Service is temporarily unavailable, please try again later."
    if status == 504:
        return "InternalServiceTimeout", "Internal Service is timeout. Pls Contact With Admin."
    if status >= 500:
        return "InternalError", "Service has some internal Error. Pls Contact With Admin."
    return "InjectedFault", f"HTTP {status} injected by flinkcloud-emulator."


# -- envelope ---------------------------------------------------------------------------------------


def metadata(request: ApiRequest, now: float) -> JSONObject:
    query = dict(request.query)
    parsed = parse_authorization(request.header("Authorization") or "")
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%d%H%M%S")
    return {
        "RequestId": f"{stamp}{secrets.token_hex(10).upper()}",
        "Action": query.get("Action", ""),
        "Version": query.get("Version", ""),
        "Service": SERVICE,
        "Region": parsed.region if parsed is not None else DEFAULT_REGION,
    }


def result_response(request: ApiRequest, now: float, result: JSONObject) -> ApiResponse:
    return json_response(200, {"ResponseMetadata": metadata(request, now), "Result": result})


def error_response(
    request: ApiRequest,
    now: float,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    code_n: int | None = None,
) -> ApiResponse:
    error: JSONObject = {"Code": code, "Message": message}
    if code_n is not None:
        error = {"CodeN": code_n, **error}
    return json_response(status, {"ResponseMetadata": {**metadata(request, now), "Error": error}}, headers)


# -- records ----------------------------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    # The time format is undocumented; epoch milliseconds as a string is the emulator's choice.
    return "" if seconds is None else str(int(seconds * 1000))


def savepoint_record(savepoint: Savepoint, now: float) -> JSONObject:
    return {
        "Id": savepoint.seq,
        "UserId": savepoint.user_id,
        "SavepointId": savepoint.savepoint_id,
        "SavepointPath": f"tos://flinkcloud-emulator/savepoints/{savepoint.savepoint_id}",
        "Status": savepoint.status(now),
        "CreateType": "MANUAL",
        "Description": savepoint.description,
        "CreateTime": ms(savepoint.created_at),
        "CompeleteTime": ms(savepoint.done_at) if now >= savepoint.done_at else "",
    }


def _deploy_request(spec: JSONObject) -> JSONObject:
    deploy = spec.get("DeployRequest") or {}
    return {name: deploy.get(name, "") for name in DEPLOY_REQUEST_FIELDS}


def _dependency(spec: JSONObject) -> JSONObject:
    dependency = spec.get("Dependency") or {}
    return {
        "Jars": list(dependency.get("Jars", [])),
        "PyLibraries": list(dependency.get("PyLibraries", [])),
    }


def instance_record(instance: Instance, now: float) -> JSONObject:
    spec = instance.spec
    return {
        "Id": instance.id,
        "JobId": instance.app_id,
        "JobType": spec.get("JobType", ""),
        "ProjectId": spec.get("ProjectId", ""),
        "AccountId": spec.get("AccountId", ""),
        "UserId": spec.get("UserId", ""),
        "JobName": spec.get("JobName", ""),
        "DeployRequest": _deploy_request(spec),
        "EngineVersion": spec.get("EngineVersion", ""),
        "Jar": spec.get("Jar", ""),
        "MainClass": spec.get("MainClass", ""),
        "Args": spec.get("Args", ""),
        "SqlText": spec.get("SqlText", ""),
        "Dependency": _dependency(spec),
        "Conf": spec.get("Conf", ""),
        "ApplicationId": instance.application_id,
        "DeploymentId": instance.deployment_id,
        "CompleteRestUrl": instance.rest_url,
        "StartTime": ms(instance.started_at),
        "EndTime": ms(instance.ended_at(now)),
        "State": instance.state(now),
    }


def instance_detail(instance: Instance, now: float) -> JSONObject:
    ended = instance.ended_at(now)
    deploy = instance.spec.get("DeployRequest") or {}
    return {
        **instance_record(instance, now),
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


def app_record(state: VolcengineState, app: App, now: float) -> JSONObject:
    """One ``ListGWSApplication`` record (https://www.volcengine.com/docs/6581/2477888)."""
    spec = app.spec
    deploy = spec.get("DeployRequest") or {}
    newest = state.newest_instance(app)
    return {
        "Id": app.id,
        "AppDraftId": "",
        "ApplicationId": newest.application_id if newest else "",
        "JobName": spec.get("JobName", ""),
        "JobType": spec.get("JobType", ""),
        "EngineVersion": spec.get("EngineVersion", ""),
        "ProjectId": app.project_id,
        "AccountId": spec.get("AccountId", ""),
        "UserId": spec.get("UserId", ""),
        "State": state.app_state(app, now),
        "StartTime": ms(newest.started_at) if newest else "",
        "EndTime": ms(newest.ended_at(now)) if newest else "",
        "CreateTime": ms(app.created_at),
        "ModifiedTime": ms(app.modified_at),
        "DeployTime": ms(app.created_at),
        "DeployRequest": _deploy_request(spec),
        "Dependency": _dependency(spec),
        "Options": spec.get("Conf", ""),
        "Platform": "",
        "Cluster": "flinkcloud-emulator",
        "ClusterId": "",
        "JobPriority": deploy.get("Priority", ""),
        "ResourcePreemptionPolicy": "",
        "ResourceVersion": "",
        "RestUrl": newest.rest_url if newest else "",
    }


def page(records: list[Any], page_num: int, page_size: int) -> JSONObject:
    chosen = records[(page_num - 1) * page_size : page_num * page_size]
    return {"Total": len(records), "Size": page_size, "Current": page_num, "Records": chosen}


def snapshot(
    state: VolcengineState, access_keys: list[str], pending: list[JSONObject], now: float
) -> JSONObject:
    """Everything the platform holds, for ``GET /_emulator/state``."""
    return {
        "access_keys": access_keys,
        "pending_failures": pending,
        "apps": [
            {
                "Id": app.id,
                "ProjectId": app.project_id,
                "UniqueKey": app.unique_key,
                "State": state.app_state(app, now),
                "Spec": app.spec,
                "VersionId": app.version,
                "InstanceIds": list(app.instance_ids),
                "Savepoints": [savepoint_record(savepoint, now) for savepoint in app.savepoints],
            }
            for app in state.apps.values()
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
                "Timeline": [{"at": ms(at), "state": name} for at, name in instance.timeline],
            }
            for instance in state.instances.values()
        ],
    }
