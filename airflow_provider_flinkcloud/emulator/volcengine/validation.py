"""Request parameters: the query and JSON body merged, typed and checked against the documented enums.

The fields are those of StartApplicationInstance (https://www.volcengine.com/docs/6581/1359413) and the
GWS operations (https://www.volcengine.com/docs/6581/2477881).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from airflow_provider_flinkcloud.emulator.platform import ApiRequest, JSONObject
from airflow_provider_flinkcloud.emulator.volcengine.responses import (
    DEPLOY_REQUEST_FIELDS,
    VolcengineError,
    invalid,
)

JOB_TYPES = ("FLINK_STREAMING_JAR", "FLINK_STREAMING_SQL", "FLINK_BATCH_SQL", "FLINK_BATCH_JAR")
ENGINE_VERSIONS = ("FLINK_VERSION_1_11", "FLINK_VERSION_1_16", "FLINK_VERSION_1_17")
SCHEDULE_POLICIES = ("GANG", "DRF")
RESTORE_TYPES = ("FROM_NEW", "FROM_LATEST", "FROM_SAVEPOINT")

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
_CONF_EXPECTED = "expected a JSON object or a JSON-encoded object"


def string(value: Any, field_name: str, *, allow_int: bool = False) -> str:
    if isinstance(value, str):
        return value
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise invalid(field_name, f"expected a string, got {json.dumps(value)}")


def enum(value: Any, field_name: str, allowed: tuple[str, ...]) -> str:
    text = string(value, field_name)
    if text not in allowed:
        raise invalid(field_name, f"{text!r} is not one of {', '.join(allowed)}")
    return text


def optional_enum(value: Any, field_name: str, allowed: tuple[str, ...]) -> None:
    """Check a filter parameter; an absent or empty one filters nothing."""
    if value not in (None, ""):
        enum(value, field_name, allowed)


def page_number(value: Any, field_name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise invalid(field_name, "expected a positive integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(field_name, f"expected a positive integer, got {json.dumps(value)}") from None
    if number < 1:
        raise invalid(field_name, f"expected a positive integer, got {number}")
    return number


def _conf(conf: Any) -> str:
    # The SDK types Conf as a string, the doc example sends an object: take both.
    if isinstance(conf, dict):
        return json.dumps(conf, ensure_ascii=False, separators=(",", ":"))
    if not isinstance(conf, str):
        raise invalid("App.Conf", _CONF_EXPECTED)
    if conf.strip():
        try:
            parsed = json.loads(conf)
        except ValueError:
            raise invalid("App.Conf", _CONF_EXPECTED) from None
        if not isinstance(parsed, dict):
            raise invalid("App.Conf", _CONF_EXPECTED)
    return conf


def _deploy_request(deploy: Any) -> JSONObject:
    if not isinstance(deploy, dict):
        raise invalid("App.DeployRequest", "expected an object")
    normalised = {
        name: string(deploy[name], f"App.DeployRequest.{name}", allow_int=True)
        for name in DEPLOY_REQUEST_FIELDS
        if deploy.get(name) is not None
    }
    if "SchedulePolicy" in normalised:
        enum(normalised["SchedulePolicy"], "App.DeployRequest.SchedulePolicy", SCHEDULE_POLICIES)
    return normalised


def _dependency(dependency: Any) -> JSONObject:
    if not isinstance(dependency, dict):
        raise invalid("App.Dependency", "expected an object")
    normalised: JSONObject = {}
    for name in ("Jars", "PyLibraries"):
        items = dependency.get(name)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise invalid(f"App.Dependency.{name}", "expected a list of strings")
        normalised[name] = list(items)
    return normalised


def normalise_app(app: Any) -> JSONObject:
    """The ``App`` object as stored: known fields only, validated, ``Conf`` as a JSON string."""
    if not isinstance(app, dict):
        raise invalid("App", "expected an object")
    spec: JSONObject = {}
    for name in _APP_STRING_FIELDS:
        value = app.get(name)
        if value is not None:
            spec[name] = string(value, f"App.{name}", allow_int=name in _ID_FIELDS)
    if "JobType" in spec:
        enum(spec["JobType"], "App.JobType", JOB_TYPES)
    if "EngineVersion" in spec:
        enum(spec["EngineVersion"], "App.EngineVersion", ENGINE_VERSIONS)
    if app.get("Conf") is not None:
        spec["Conf"] = _conf(app["Conf"])
    if app.get("DeployRequest") is not None:
        spec["DeployRequest"] = _deploy_request(app["DeployRequest"])
    if app.get("Dependency") is not None:
        spec["Dependency"] = _dependency(app["Dependency"])
    return spec


def check_runnable(spec: JSONObject) -> None:
    # Not stated by the vendor; the emulator refuses to run a job it could not know how to run.
    for name in ("JobType", "JobName"):
        if not spec.get(name):
            raise invalid(f"App.{name}", "required to start a job")
    job_type = spec["JobType"]
    if job_type.endswith("_SQL") and not spec.get("SqlText"):
        raise invalid("App.SqlText", f"required for {job_type} jobs")
    if job_type.endswith("_JAR") and not spec.get("Jar"):
        raise invalid("App.Jar", f"required for {job_type} jobs")


def _dequote(value: str) -> str:
    # The vendor's own Cancel example (https://www.volcengine.com/docs/6581/1359414) sends
    # ProjectId="ahbf3mzf1iih", quotes included, in the query.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def params(request: ApiRequest) -> JSONObject:
    """The query (without Action and Version) updated with the form or JSON body."""
    merged: JSONObject = {
        name: _dequote(value) for name, value in request.query if name not in ("Action", "Version")
    }
    if not request.body.strip():
        return merged
    content_type = (request.header("Content-Type") or "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        merged.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        return merged
    try:
        body = json.loads(request.body)
    except ValueError:
        raise VolcengineError(400, "InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise VolcengineError(400, "InvalidParameter", "The request body must be a JSON object.")
    merged.update(body)
    return merged
