"""A stub of the Flink JobManager REST API behind each instance's ``RestUrl`` (``/_flink/volcengine/<id>/``).

It answers the read-only endpoints a client polls: ``jobs``, ``jobs/overview``, ``jobs/<jid>`` and
``jobs/<jid>/exceptions`` (https://nightlies.apache.org/flink/flink-docs-stable/docs/ops/rest_api/).
"""

from __future__ import annotations

from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ApiResponse, JSONObject, json_response
from airflow_provider_flinkcloud.emulator.volcengine.state import Instance, VolcengineState

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


def _not_found(request: ApiRequest) -> ApiResponse:
    return json_response(404, {"errors": [f"Not found: {request.path}"]})


def flink_rest(state: VolcengineState, request: ApiRequest, subpath: str) -> ApiResponse:
    now = state.ctx.clock()
    parts = [part for part in subpath.split("/") if part]
    instance = state.instances.get(parts[0]) if parts else None
    if instance is None:
        return _not_found(request)
    rest = parts[1:]
    if rest == ["jobs", "overview"]:
        return json_response(200, {"jobs": [_job(instance, now)]})
    if rest == ["jobs"]:
        return json_response(200, {"jobs": [{"id": instance.jid, "status": _flink_state(instance, now)}]})
    if len(rest) >= 2 and rest[0] == "jobs" and rest[1] == instance.jid:
        if len(rest) == 2:
            return json_response(200, _job(instance, now))
        if rest[2:] == ["exceptions"]:
            return json_response(200, _exceptions(instance, now))
    return _not_found(request)


def _flink_state(instance: Instance, now: float) -> str:
    return FLINK_JOB_STATES[instance.state(now)]


def _job(instance: Instance, now: float) -> JSONObject:
    ended = instance.ended_at(now)
    start_ms = int(instance.started_at * 1000)
    end_ms = int(ended * 1000) if ended is not None else -1
    return {
        "jid": instance.jid,
        "name": instance.spec.get("JobName", ""),
        "state": _flink_state(instance, now),
        "start-time": start_ms,
        "end-time": end_ms,
        "duration": (end_ms if ended is not None else int(now * 1000)) - start_ms,
        "last-modification": int(instance.entered_at(now) * 1000),
    }


def _exceptions(instance: Instance, now: float) -> JSONObject:
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
    entry = {
        "exceptionName": exception_name,
        "stacktrace": error,
        "timestamp": failed_ms,
        "taskName": None,
        "location": None,
        "taskManagerId": None,
        "failureLabels": {},
        "concurrentExceptions": [],
    }
    return {
        "root-exception": error,
        "timestamp": failed_ms,
        "all-exceptions": [],
        "truncated": False,
        "exceptionHistory": {"entries": [entry], "truncated": False},
    }
