"""Which requests Volcengine answers (``/?Action=...&Version=2025-01-01``), their operation names, dispatch.

Every OpenAPI call goes to the root path with ``Action`` and ``Version`` in the query
(https://www.volcengine.com/docs/6581/1359414); the operation name is the ``Action``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flinkcloud.emulator.gateway import CredentialTable
from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ApiResponse,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
)
from airflow_provider_flinkcloud.emulator.volcengine import responses
from airflow_provider_flinkcloud.emulator.volcengine.actions import ACTIONS
from airflow_provider_flinkcloud.emulator.volcengine.auth import (
    DEFAULT_CREDENTIALS,
    MAX_BODY_BYTES,
    authenticate,
)
from airflow_provider_flinkcloud.emulator.volcengine.flink_rest import flink_rest
from airflow_provider_flinkcloud.emulator.volcengine.responses import VolcengineError, missing_parameter
from airflow_provider_flinkcloud.emulator.volcengine.state import VolcengineState
from airflow_provider_flinkcloud.emulator.volcengine.validation import params

API_VERSION = "2025-01-01"
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


def resolve_action(request: ApiRequest) -> str:
    """The modelled action a request names; the gateway's error for a missing or unknown one."""
    query = dict(request.query)
    action, version = query.get("Action"), query.get("Version")
    # A missing Action or Version is MissingParameter (100002), not a lookup failure
    # (https://www.volcengine.com/docs/6369/68677).
    for name, value in (("Action", action), ("Version", version)):
        if not value:
            raise missing_parameter(name)
    assert action is not None and version is not None
    if version != API_VERSION or (action not in ACTIONS and action not in UNMODELLED_ACTIONS):
        raise VolcengineError(
            404, "InvalidActionOrVersion", f"Could not find operation {action} for version {version}", 100008
        )
    if action in UNMODELLED_ACTIONS:
        raise VolcengineError(501, "NotImplemented", f"flinkcloud-emulator does not model {action}.")
    return action


class VolcenginePlatform(Platform):
    name = "volcengine"
    max_body_bytes = MAX_BODY_BYTES

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(ctx)
        self.credentials = CredentialTable(DEFAULT_CREDENTIALS)
        self.reset()

    def reset(self) -> None:
        self.state = VolcengineState(self.ctx, self.name)

    def claims(self, request: ApiRequest) -> bool:
        return request.path == "/"

    def operation(self, request: ApiRequest) -> str:
        return dict(request.query).get("Action", "")

    def handle(self, request: ApiRequest) -> ApiResponse:
        now = self.ctx.clock()
        try:
            authenticate(request, self.credentials, now)
            action = resolve_action(request)
            result = ACTIONS[action](self.state, request, params(request))
        except VolcengineError as exc:
            return self.error_response(request, exc.status, exc.code, exc.message, exc.headers, exc.code_n)
        return responses.result_response(request, self.ctx.clock(), result)

    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        code_n: int | None = None,
    ) -> ApiResponse:
        return responses.error_response(request, self.ctx.clock(), status, code, message, headers, code_n)

    def _error(self, request: ApiRequest, exc: VolcengineError) -> ApiResponse:
        return self.error_response(request, exc.status, exc.code, exc.message, exc.headers, exc.code_n)

    def malformed_response(self, request: ApiRequest, detail: str) -> ApiResponse:
        return self._error(request, responses.malformed_request(detail))

    def too_large_response(self, request: ApiRequest) -> ApiResponse:
        return self._error(request, responses.entity_too_large(self.max_body_bytes))

    def fault_code(self, status: int) -> tuple[str, str]:
        return responses.fault_code(status)

    def flink_rest(self, request: ApiRequest, subpath: str) -> ApiResponse:
        return flink_rest(self.state, request, subpath)

    def counters(self) -> JSONObject:
        return {
            "starts_by_app": dict(self.state.starts_by_app),
            "starts_by_name": dict(self.state.starts_by_name),
        }

    def snapshot(self) -> JSONObject:
        return responses.snapshot(
            self.state, self.credentials.access_keys(), self.state.failures.as_list(), self.ctx.clock()
        )

    def add_failure(self, failure: FailureSpec) -> None:
        self.state.failures.add(failure)

    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        self.credentials.add_from_payload(payload)
