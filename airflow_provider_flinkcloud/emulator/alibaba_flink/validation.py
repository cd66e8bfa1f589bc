"""What the service checks in a body before acting on it (CreateDeployment's required fields, the
enums of StartJobWithParams and StopJob), answered as ``InvalidParameter`` business errors."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_flinkcloud.emulator.alibaba_flink.responses import invalid
from airflow_provider_flinkcloud.emulator.platform import ApiRequest, JSONObject

EXECUTION_MODES = ("STREAMING", "BATCH")
# artifact.kind -> (its part, the part's required field).
ARTIFACT_PARTS = {
    "SQLSCRIPT": ("sqlArtifact", "sqlScript"),
    "JAR": ("jarArtifact", "jarUri"),
    "PYTHON": ("pythonArtifact", "pythonArtifactUri"),
    "CDCYAML": ("cdcYamlArtifact", "cdcYaml"),
}
RESTORE_KINDS = ("NONE", "LATEST_SAVEPOINT", "FROM_SAVEPOINT", "LATEST_STATE")
STOP_STRATEGIES = ("NONE", "STOP_WITH_SAVEPOINT", "STOP_WITH_DRAIN")


def json_body(request: ApiRequest) -> JSONObject:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise invalid("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object")
    return body


def _object(body: JSONObject, name: str) -> JSONObject:
    value = body.get(name)
    if not isinstance(value, dict):
        raise invalid(name, "is required (an object)")
    return value


def _text(body: JSONObject, name: str, where: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{where}{name}", "is required (a non-empty string)")
    return value


def enum(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise invalid(name, f"must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def deployment(body: JSONObject) -> JSONObject:
    """A Deployment as CreateDeployment / UpdateDeployment require it; output fields are dropped."""
    _text(body, "name", "")
    mode = enum(body.get("executionMode"), "executionMode", EXECUTION_MODES)
    artifact = _object(body, "artifact")
    kind = enum(artifact.get("kind"), "artifact.kind", tuple(ARTIFACT_PARTS))
    part, required = ARTIFACT_PARTS[kind]
    _text(_object(artifact, part), required, f"artifact.{part}.")
    _text(_object(body, "deploymentTarget"), "name", "deploymentTarget.")
    setting = "streamingResourceSetting" if mode == "STREAMING" else "batchResourceSetting"
    _object(body, setting)
    output = {"deploymentId", "namespace", "workspace", "createdAt", "modifiedAt", "jobSummary", "creator"}
    return {key: value for key, value in body.items() if key not in output}


def restore_strategy(body: JSONObject) -> JSONObject:
    restore = body.get("restoreStrategy") or {"kind": "NONE"}
    if not isinstance(restore, dict):
        raise invalid("restoreStrategy", "must be an object")
    kind = enum(restore.get("kind", "NONE"), "restoreStrategy.kind", RESTORE_KINDS)
    if kind == "FROM_SAVEPOINT" and not restore.get("savepointId"):
        raise invalid("restoreStrategy.savepointId", "is required for kind FROM_SAVEPOINT")
    return {**restore, "kind": kind}


def page(request: ApiRequest) -> tuple[int, int]:
    values = dict(request.query)
    try:
        index, size = int(values.get("pageIndex", "1")), int(values.get("pageSize", "10"))
    except ValueError:
        raise invalid("pageIndex/pageSize", "must be whole numbers") from None
    if index < 1 or not 1 <= size <= 100:
        raise invalid("pageIndex/pageSize", "pageIndex >= 1 and pageSize 1-100")
    return index, size
