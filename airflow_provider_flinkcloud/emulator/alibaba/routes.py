"""Which requests foas answers (``/api/v2/projects/...`` and kin), their operation names, dispatch.

Methods and URI patterns are those of ``aliyun-python-sdk-foas`` 2.11.1 (``set_method`` /
``set_uri_pattern`` of each request class); the operation name is the SDK's action, which the request
also carries as ``x-acs-action``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from airflow_provider_flinkcloud.emulator.alibaba import auth, responses
from airflow_provider_flinkcloud.emulator.alibaba.actions import OPERATIONS, Params
from airflow_provider_flinkcloud.emulator.alibaba.responses import AlibabaError
from airflow_provider_flinkcloud.emulator.alibaba.state import BlinkState
from airflow_provider_flinkcloud.emulator.gateway import CredentialTable
from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ApiResponse,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
)

API_VERSION = "2018-11-11"
_PROJECT = r"/api/v2/projects/(?P<projectName>[^/]+)"
_JOB = _PROJECT + r"/jobs/(?P<jobName>[^/]+)"
_INSTANCE = _JOB + r"/instances/(?P<instanceId>-?[0-9]+)"
# Documented operations the emulator does not model answer 501 rather than pretending they do not exist.
ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), operation)
    for method, pattern, operation in (
        ("POST", _JOB + r"/instance", "StartJob"),
        ("GET", _INSTANCE, "GetInstance"),
        ("GET", _INSTANCE + r"/runsummary", "GetInstanceRunSummary"),
        ("PUT", _INSTANCE + r"/expectstate", "ModifyInstanceState"),
        ("GET", _INSTANCE + r"/checkpoints", "GetInstanceCheckpoint"),
        ("GET", _INSTANCE + r"/config", "GetInstanceConfig"),
        ("GET", _INSTANCE + r"/details", "GetInstanceDetail"),
        ("GET", _INSTANCE + r"/exceptions", "GetInstanceExceptions"),
        ("GET", _INSTANCE + r"/finalstate", "GetInstanceFinalState"),
        ("GET", _INSTANCE + r"/resource", "GetInstanceResource"),
        ("GET", _PROJECT + r"/instances", "ListInstance"),
        ("GET", _PROJECT + r"/runsummary", "BatchGetInstanceRunSummary"),
        ("GET", _JOB, "GetJob"),
        ("PUT", _JOB, "UpdateJob"),
        ("DELETE", _JOB, "DeleteJob"),
        ("PUT", _JOB + r"/commit", "CommitJob"),
        ("PUT", _JOB + r"/offline", "OfflineJob"),
        ("GET", _JOB + r"/validate", "ValidateJob"),
        ("GET", _PROJECT + r"/jobs", "ListJob"),
        ("POST", _PROJECT + r"/jobs", "CreateJob"),
        ("GET", _PROJECT, "GetProject"),
        ("DELETE", _PROJECT, "DeleteProject"),
        ("PUT", _PROJECT, "UpdateProject"),
        ("GET", r"/api/v2/projects", "ListProject"),
        ("POST", r"/api/v2/projects", "CreateProject"),
        ("GET", r"/api/v2/clusters", "ListCluster"),
        ("POST", r"/api/v2/clusters", "CreateCluster"),
    )
)
# The URL space of foas 2018-11-11: every path of the SDK's 67 requests starts with one of these.
CLAIMED_PREFIXES = (
    "/api/v2/projects",
    "/api/v2/project/",
    "/api/v2/clusters",
    "/api/v2/cluster/",
    "/api/v2/realtime-compute/",
)


def route(request: ApiRequest) -> tuple[str, dict[str, str]] | None:
    path = request.path.rstrip("/") or "/"
    for method, pattern, operation in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and method == request.method:
            return operation, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def parameters(request: ApiRequest) -> Params:
    """The query parameters, then the body's: JSON when the Content-Type says so, else form-encoded."""
    params: Params = dict(request.query)
    if not request.body:
        return params
    content_type = (request.header("Content-Type") or "").lower()
    if "application/json" in content_type:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise responses.malformed("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise responses.malformed("the JSON body is not an object")
        params.update(body)
    else:
        params.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


class AlibabaPlatform(Platform):
    name = "alibaba"
    max_body_bytes = auth.MAX_BODY_BYTES

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(ctx)
        self.credentials = CredentialTable(auth.DEFAULT_CREDENTIALS)
        self.reset()

    def reset(self) -> None:
        self.state = BlinkState(self.ctx)

    def claims(self, request: ApiRequest) -> bool:
        path = request.path.rstrip("/")
        return any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in CLAIMED_PREFIXES)

    def operation(self, request: ApiRequest) -> str:
        matched = route(request)
        return matched[0] if matched is not None else ""

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            auth.authenticate(request, self.credentials, self.ctx.clock())
            matched = route(request)
            if matched is None or request.header("x-acs-version") not in (None, API_VERSION):
                raise AlibabaError(
                    404,
                    "InvalidApi.NotFound",
                    "Specified api is not found, please check your url and method.",
                )
            operation, path_params = matched
            handler = OPERATIONS.get(operation)
            if handler is None:
                raise AlibabaError(501, "NotImplemented", f"flinkcloud-emulator does not model {operation}.")
            return responses.ok(handler(self.state, request, path_params, parameters(request)))
        except AlibabaError as exc:
            return self._error(request, exc)

    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return responses.error_response(request, status, code, message, headers)

    def _error(self, request: ApiRequest, exc: AlibabaError) -> ApiResponse:
        return self.error_response(request, exc.status, exc.code, exc.message, exc.headers)

    def malformed_response(self, request: ApiRequest, detail: str) -> ApiResponse:
        return self._error(request, responses.malformed(detail))

    def too_large_response(self, request: ApiRequest) -> ApiResponse:
        return self._error(request, responses.entity_too_large(self.max_body_bytes))

    def fault_code(self, status: int) -> tuple[str, str]:
        return responses.fault_code(status)

    def counters(self) -> JSONObject:
        return {
            "starts_by_name": dict(self.state.starts_by_name),
            "stops_by_name": dict(self.state.stops_by_name),
        }

    def snapshot(self) -> JSONObject:
        return responses.snapshot(self.state, self.credentials.access_keys(), self.ctx.clock())

    def add_failure(self, failure: FailureSpec) -> None:
        self.state.failures.add(failure)

    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        self.credentials.add_from_payload(payload)
