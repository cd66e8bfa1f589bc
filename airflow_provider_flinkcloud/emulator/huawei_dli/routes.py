"""Which requests DLI answers (``/v1.0/{project_id}/streaming/...`` and kin), their operation names, dispatch.

The operation names are those of the DLI SDK's client; the paths those of the API reference
(https://github.com/opentelekomcloud-docs/data-lake-insight/tree/main/api-ref/source/flink_job-related_apis).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_flinkcloud.emulator.gateway import CredentialTable
from airflow_provider_flinkcloud.emulator.huawei_dli import auth, responses
from airflow_provider_flinkcloud.emulator.huawei_dli.actions import OPERATIONS
from airflow_provider_flinkcloud.emulator.huawei_dli.responses import DliError
from airflow_provider_flinkcloud.emulator.huawei_dli.state import DliState, JobIds
from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ApiResponse,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
)

# Documented DLI operations the emulator knows of but does not model answer 501 rather than
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


def route(request: ApiRequest) -> tuple[str, dict[str, str]] | None:
    """The operation a request names and its path parameters; None when no route matches."""
    path = request.path.rstrip("/") or "/"
    for method, pattern, operation in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and method == request.method:
            return operation, match.groupdict()
    return None


def no_such_api(request: ApiRequest) -> DliError:
    path = request.path.rstrip("/") or "/"
    if any(pattern.fullmatch(path) for _method, pattern, _operation in ROUTES):
        return DliError(404, "APIG.0101", "The API does not exist.")
    return DliError(404, "APIG.0101", "The API does not exist or has not been published in the environment.")


class HuaweiDliPlatform(Platform):
    name = "huawei_dli"
    max_body_bytes = auth.MAX_BODY_BYTES

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(ctx)
        self.credentials = CredentialTable(auth.DEFAULT_CREDENTIALS)
        # Outside reset(): an id from before a reset must never resolve to a new job.
        self._ids = JobIds()
        self.reset()

    def reset(self) -> None:
        self.state = DliState(self.ctx, self._ids)

    def claims(self, request: ApiRequest) -> bool:
        return request.path.startswith("/v1.0/") or route(request) is not None

    def operation(self, request: ApiRequest) -> str:
        matched = route(request)
        return matched[0] if matched is not None else ""

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            matched = route(request)
            if matched is None:
                raise no_such_api(request)
            operation, params = matched
            if len(request.body) > auth.MAX_BODY_BYTES:
                # The server refuses such a body before reading it; this covers a core driven directly.
                raise responses.entity_too_large()
            auth.authenticate(request, self.credentials, params["project_id"], self.ctx.clock())
            handler = OPERATIONS.get(operation)
            if handler is None:
                raise DliError(501, "DLI.0007", f"flinkcloud-emulator does not model {operation}.")
            return handler(self.state, request, params)
        except DliError as exc:
            return self._error(exc)

    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return responses.error_response(status, code, message, headers)

    def malformed_response(self, request: ApiRequest, detail: str) -> ApiResponse:
        # The gateway's message is fixed; the server logs the detail.
        return self._error(responses.bad_request())

    def too_large_response(self, request: ApiRequest) -> ApiResponse:
        return self._error(responses.entity_too_large())

    @staticmethod
    def _error(exc: DliError) -> ApiResponse:
        return responses.error_response(exc.status, exc.code, exc.message)

    def fault_code(self, status: int) -> tuple[str, str]:
        return responses.fault_code(status)

    def counters(self) -> JSONObject:
        return {
            "creates_by_name": dict(self.state.creates_by_name),
            "runs_by_name": dict(self.state.runs_by_name),
            "stops_by_name": dict(self.state.stops_by_name),
            "deletes_by_name": dict(self.state.deletes_by_name),
        }

    def snapshot(self) -> JSONObject:
        projects = {
            access_key: sorted(credential.scopes) for access_key, credential in self.credentials.items()
        }
        return responses.snapshot(self.state, projects, self.ctx.clock())

    def add_failure(self, failure: FailureSpec) -> None:
        self.state.failures.add(failure)

    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        auth.add_credentials(self.credentials, payload)
