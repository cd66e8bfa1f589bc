"""The modelled foas operations (https://api.aliyun.com/api/foas/2018-11-11).

Each takes the state, the request, its path parameters and its parameters (query, then body: JSON or
form-encoded, as the SDK may send either) and returns the reply object; errors are raised as
:class:`AlibabaError` and rendered by the platform.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airflow_provider_flinkcloud.emulator.alibaba import responses
from airflow_provider_flinkcloud.emulator.alibaba.responses import invalid, missing
from airflow_provider_flinkcloud.emulator.alibaba.state import ACTUAL_STATES, BATCH, STREAM, BlinkState
from airflow_provider_flinkcloud.emulator.platform import ApiRequest, JSONObject

Params = dict[str, Any]
Operation = Callable[[BlinkState, ApiRequest, dict[str, str], Params], JSONObject]
JOB_TYPES = (STREAM, BATCH)
API_TYPES = ("SQL", "DATASTREAM")


def _text(params: Params, name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str):
        raise invalid(name, f"expected a string, got {type(value).__name__}")
    return value


def _flag(params: Params, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    # A form body carries Python's str(True) from the SDK, a JSON body a boolean.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(name, f"expected a boolean, got {value!r}")


def _number(params: Params, name: str, default: int, *, largest: int = 100) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    text = str(value)
    if not text.isdigit() or not 1 <= int(text) <= largest:
        raise invalid(name, f"expected a whole number from 1 to {largest}, got {value!r}")
    return int(text)


def _choice(value: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    # jobType and apiType are case-insensitive (the Java demo says so).
    upper = value.upper()
    if upper not in allowed:
        raise invalid(name, f"{value!r} is not one of {', '.join(allowed)}")
    return upper


def start_job(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    job = state.job(path["projectName"], path["jobName"])
    parameter_json = _text(params, "parameterJson")
    if parameter_json is not None:
        try:
            parsed = json.loads(parameter_json)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise invalid("parameterJson", "expected a JSON object as a string")
    instance = state.start(job, parameter_json)
    # Lower-case instanceId, unlike every other field (the metadata and the Java unmarshaller agree).
    return {"instanceId": int(instance.id)}


def get_instance(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    job = state.job(path["projectName"], path["jobName"])
    instance = state.instance(job, path["instanceId"])
    return {"Instance": responses.instance_record(instance, state.ctx.clock())}


def get_instance_run_summary(
    state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params
) -> JSONObject:
    job = state.job(path["projectName"], path["jobName"])
    instance = state.instance(job, path["instanceId"])
    return {"RunSummary": responses.run_summary(instance, state.ctx.clock())}


def list_instance(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    now = state.ctx.clock()
    project = state.project(path["projectName"])
    job_type = _choice(_text(params, "jobType", required=True), "jobType", JOB_TYPES)
    api_type = _choice(_text(params, "apiType"), "apiType", API_TYPES)
    actual = _choice(_text(params, "actualState"), "actualState", ACTUAL_STATES)
    expect = _choice(_text(params, "expectState"), "expectState", ACTUAL_STATES)
    job_name = _text(params, "jobName")
    archived = _flag(params, "isArchived", False)
    page_index = _number(params, "pageIndex", 1, largest=10**6)
    page_size = _number(params, "pageSize", 10)
    records = [
        responses.instance_record(instance, now)
        for instance in sorted(state.instances.values(), key=lambda i: int(i.id), reverse=True)
        if instance.project_name == project.name
        and instance.job_type == job_type
        and instance.archived(now) == archived
        and job_name in (None, instance.job_name)
        and api_type in (None, instance.api_type)
    ]
    records = [
        r for r in records if actual in (None, r["ActualState"]) and expect in (None, r["ExpectState"])
    ]
    shown, fields = responses.page(records, page_index, page_size)
    # The metadata's example nests the list as Instances.Instance[].
    return {**fields, "Instances": {"Instance": shown}}


def modify_instance_state(
    state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params
) -> JSONObject:
    job = state.job(path["projectName"], path["jobName"])
    instance = state.instance(job, path["instanceId"])
    expect = _choice(_text(params, "expectState", required=True), "expectState", ACTUAL_STATES)
    assert expect is not None
    checkpoint = _flag(params, "triggerCheckpoint", False)
    _flag(params, "isFlush", True)
    state.modify(instance, expect, state.ctx.clock(), checkpoint=checkpoint)
    return {}


def get_job(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    return {"Job": responses.job_record(state.job(path["projectName"], path["jobName"]))}


def list_job(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    project = state.project(path["projectName"])
    job_type = _choice(_text(params, "jobType"), "jobType", JOB_TYPES)
    job_name = _text(params, "jobName")
    records = [
        responses.job_record(job)
        for job in project.jobs.values()
        if job_type in (None, job.job_type) and (job_name is None or job_name in job.name)
    ]
    shown, fields = responses.page(
        records, _number(params, "pageIndex", 1, largest=10**6), _number(params, "pageSize", 10)
    )
    return {**fields, "Jobs": {"Job": shown}}


def create_job(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    name = _text(params, "jobName", required=True)
    job_type = _choice(_text(params, "jobType", required=True), "jobType", JOB_TYPES)
    api_type = _choice(_text(params, "apiType", required=True), "apiType", API_TYPES)
    assert name is not None and job_type is not None and api_type is not None
    state.add_job(
        path["projectName"],
        name,
        job_type,
        api_type,
        _text(params, "code") or "",
        _text(params, "properties") or "",
        state.ctx.clock(),
        description=_text(params, "description") or "",
    )
    return {}


def commit_job(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    job = state.job(path["projectName"], path["jobName"])
    job.committed = True
    job.modified_at = state.ctx.clock()
    return {}


def offline_job(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    job = state.job(path["projectName"], path["jobName"])
    live = state.live_instance(job, state.ctx.clock())
    if live is not None:
        raise responses.invalid_state(f"The job {job.name} has a live instance {live.id}; stop it first.")
    job.committed = False
    return {}


def list_project(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    name = _text(params, "name")
    records = [
        responses.project_record(state.projects[n]) for n in sorted(state.projects) if name in (None, n)
    ]
    shown, fields = responses.page(
        records, _number(params, "pageIndex", 1, largest=10**6), _number(params, "pageSize", 10)
    )
    return {**fields, "Projects": {"Project": shown}}


def get_project(state: BlinkState, request: ApiRequest, path: dict[str, str], params: Params) -> JSONObject:
    state.project(path["projectName"])
    return {"Project": responses.project_record(state.projects[path["projectName"]])}


OPERATIONS: dict[str, Operation] = {
    "StartJob": start_job,
    "GetInstance": get_instance,
    "GetInstanceRunSummary": get_instance_run_summary,
    "ListInstance": list_instance,
    "ModifyInstanceState": modify_instance_state,
    "GetJob": get_job,
    "ListJob": list_job,
    "CreateJob": create_job,
    "CommitJob": commit_job,
    "OfflineJob": offline_job,
    "ListProject": list_project,
    "GetProject": get_project,
}
