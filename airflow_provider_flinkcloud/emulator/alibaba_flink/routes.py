"""Which requests ververica answers (``/api/v2/namespaces/{namespace}/...``), their operations, dispatch.

Routes match the raw path as sent: the SDK spells the custom verbs ``jobs:start`` / ``{jobId}:stop`` with
``%3A`` (and signs them so); a literal ``:`` is accepted too. Path parameters are percent-decoded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from airflow_provider_flinkcloud.emulator.alibaba_flink import auth, responses
from airflow_provider_flinkcloud.emulator.alibaba_flink.actions import OPERATIONS
from airflow_provider_flinkcloud.emulator.alibaba_flink.responses import AlibabaFlinkError, gateway
from airflow_provider_flinkcloud.emulator.alibaba_flink.state import AlibabaFlinkState
from airflow_provider_flinkcloud.emulator.gateway import CredentialTable
from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ApiResponse,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
)

PREFIX = "/api/v2/namespaces/"
API_VERSION = "2022-07-18"
_NS = r"/api/v2/namespaces/(?P<namespace>[^/]+)"
_VERB = r"(?:%3A|%3a|:)"
ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(_NS + pattern), operation)
    for method, pattern, operation in (
        ("POST", "/deployments", "CreateDeployment"),
        ("GET", "/deployments", "ListDeployments"),
        ("GET", "/deployments/(?P<deployment_id>[^/]+)", "GetDeployment"),
        ("PUT", "/deployments/(?P<deployment_id>[^/]+)", "UpdateDeployment"),
        ("DELETE", "/deployments/(?P<deployment_id>[^/]+)", "DeleteDeployment"),
        ("POST", f"/jobs{_VERB}start", "StartJobWithParams"),
        ("GET", "/jobs", "ListJobs"),
        ("GET", "/jobs/(?P<job_id>[^/]+)", "GetJob"),
        ("POST", f"/jobs/(?P<job_id>[^/]+?){_VERB}stop", "StopJob"),
        ("POST", "/savepoints", "CreateSavepoint"),
        ("GET", "/savepoints", "ListSavepoints"),
        ("GET", "/savepoints/(?P<savepoint_id>[^/]+)", "GetSavepoint"),
    )
)


def route(request: ApiRequest) -> tuple[str, dict[str, str]] | None:
    path = request.path.rstrip("/") or "/"
    for method, pattern, operation in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and method == request.method:
            return operation, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


class AlibabaFlinkPlatform(Platform):
    name = "alibaba_flink"
    max_body_bytes = auth.MAX_BODY_BYTES

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(ctx)
        self.credentials = CredentialTable(auth.DEFAULT_CREDENTIALS)
        self.workspaces = {auth.ALIBABA_FLINK_WORKSPACE}
        self.reset()

    def reset(self) -> None:
        self.state = AlibabaFlinkState(self.ctx)
        self.nonces = auth.NonceBook()

    def claims(self, request: ApiRequest) -> bool:
        return request.path.startswith(PREFIX)

    def operation(self, request: ApiRequest) -> str:
        matched = route(request)
        return matched[0] if matched is not None else ""

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            matched = route(request)
            if matched is None:
                raise gateway(
                    404,
                    "InvalidApi.NotFound",
                    "Specified api is not found, please check your url and method.",
                )
            operation, params = matched
            auth.authenticate(request, self.credentials, self.nonces, self.ctx.clock())
            self._check_headers(request, operation)
            return OPERATIONS[operation](self.state, request, params)
        except AlibabaFlinkError as exc:
            return responses.error_response(exc)

    def _check_headers(self, request: ApiRequest, operation: str) -> None:
        if request.header("x-acs-version") != API_VERSION:
            raise gateway(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if request.header("x-acs-action") != operation:
            raise gateway(
                404, "InvalidApi.NotFound", "Specified api is not found, please check your url and method."
            )
        workspace = request.header("workspace")
        if not workspace:
            raise gateway(400, "Missingworkspace", "workspace is mandatory for this action.")
        if workspace not in self.workspaces:
            raise gateway(
                403,
                "Forbidden.RAM",
                f"User not authorized to operate on the specified resource: workspace {workspace}.",
            )

    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return responses.error_response(gateway(status, code, message), headers)

    def malformed_response(self, request: ApiRequest, detail: str) -> ApiResponse:
        return responses.error_response(gateway(400, "InvalidParameter", "The request body is malformed."))

    def too_large_response(self, request: ApiRequest) -> ApiResponse:
        return responses.error_response(
            gateway(413, "RequestEntityTooLarge", "The request body is too large.")
        )

    def fault_code(self, status: int) -> tuple[str, str]:
        return responses.fault_code(status)

    def counters(self) -> JSONObject:
        return {
            "creates_by_name": dict(self.state.creates_by_name),
            "updates_by_name": dict(self.state.updates_by_name),
            "deletes_by_name": dict(self.state.deletes_by_name),
            "starts_by_name": dict(self.state.starts_by_name),
            "stops_by_name": dict(self.state.stops_by_name),
        }

    def snapshot(self) -> JSONObject:
        return self.state.snapshot()

    def add_failure(self, failure: FailureSpec) -> None:
        self.state.failures.add(failure)

    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        self.credentials.add_from_payload(payload)
