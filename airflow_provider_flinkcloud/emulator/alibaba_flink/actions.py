"""The modelled operations of ververica 2022-07-18 (``alibabacloud-ververica20220718`` 1.14.0), one
function per operation taking the state, the request and the path parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from airflow_provider_flinkcloud.emulator.alibaba_flink import validation
from airflow_provider_flinkcloud.emulator.alibaba_flink.responses import invalid, ok
from airflow_provider_flinkcloud.emulator.alibaba_flink.state import AlibabaFlinkState
from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ApiResponse

Action = Callable[[AlibabaFlinkState, ApiRequest, dict[str, str]], ApiResponse]


def _paged(request: ApiRequest, items: Sequence[Any]) -> ApiResponse:
    index, size = validation.page(request)
    chosen = list(items[(index - 1) * size : index * size])
    return ok(chosen, pageIndex=index, pageSize=size, totalSize=len(items))


def create_deployment(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    spec = validation.deployment(validation.json_body(request))
    workspace = request.header("workspace") or ""
    return ok(state.create(params["namespace"], workspace, spec).render(state))


def update_deployment(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    deployment = state.deployment(params["namespace"], params["deployment_id"])
    state.update(deployment, validation.deployment(validation.json_body(request)))
    return ok(deployment.render(state))


def get_deployment(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    return ok(state.deployment(params["namespace"], params["deployment_id"]).render(state))


def delete_deployment(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    state.delete(state.deployment(params["namespace"], params["deployment_id"]))
    return ok(None)


def list_deployments(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    query = dict(request.query)
    name = query.get("name")
    found = [
        d
        for d in sorted(state.deployments.values(), key=lambda d: (d.created_at, d.deployment_id))
        if d.namespace == params["namespace"]
        # A fuzzy (substring) match: V6 leaves it open, and this is the case a client must survive.
        and (not name or name in d.name)
        and (not query.get("executionMode") or d.spec.get("executionMode") == query["executionMode"])
    ]
    return _paged(request, [d.render(state) for d in found])


def start_job(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    body = validation.json_body(request)
    if not body.get("deploymentId"):
        raise invalid("deploymentId", "is required")
    deployment = state.deployment(params["namespace"], body["deploymentId"])
    job = state.start(deployment, validation.restore_strategy(body))
    return ok(job.render(state.ctx.clock()))


def get_job(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    return ok(state.job(params["namespace"], params["job_id"]).render(state.ctx.clock()))


def list_jobs(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    deployment_id = dict(request.query).get("deploymentId")
    if not deployment_id:
        # The gateway's answer to a missing required query parameter.
        raise invalid("deploymentId", "is mandatory for this action")
    deployment = state.deployment(params["namespace"], deployment_id)
    now = state.ctx.clock()
    return _paged(request, [state.jobs[j].render(now) for j in reversed(deployment.job_ids)])


def stop_job(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    body = validation.json_body(request)
    strategy = validation.enum(body.get("stopStrategy"), "stopStrategy", validation.STOP_STRATEGIES)
    job = state.job(params["namespace"], params["job_id"])
    state.stop(job, strategy)
    return ok(job.render(state.ctx.clock()))


def create_savepoint(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    body = validation.json_body(request)
    if not body.get("deploymentId"):
        raise invalid("deploymentId", "is required")
    savepoint = state.create_savepoint(state.deployment(params["namespace"], body["deploymentId"]))
    return ok(savepoint.render(state.ctx.clock()))


def get_savepoint(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    return ok(state.savepoint(params["namespace"], params["savepoint_id"]).render(state.ctx.clock()))


def list_savepoints(state: AlibabaFlinkState, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
    query = dict(request.query)
    now = state.ctx.clock()
    found = [
        s.render(now)
        for s in sorted(state.savepoints.values(), key=lambda s: s.created_at, reverse=True)
        if s.namespace == params["namespace"]
        and (not query.get("deploymentId") or s.deployment_id == query["deploymentId"])
        and (not query.get("jobId") or s.job_id == query["jobId"])
    ]
    return _paged(request, found)


OPERATIONS: dict[str, Action] = {
    "CreateDeployment": create_deployment,
    "UpdateDeployment": update_deployment,
    "GetDeployment": get_deployment,
    "DeleteDeployment": delete_deployment,
    "ListDeployments": list_deployments,
    "StartJobWithParams": start_job,
    "GetJob": get_job,
    "ListJobs": list_jobs,
    "StopJob": stop_job,
    "CreateSavepoint": create_savepoint,
    "GetSavepoint": get_savepoint,
    "ListSavepoints": list_savepoints,
}
