"""Dinky OpenAPI client (1.0-1.2, and 0.7 where it costs little): settings, token, error table, calls.

No Airflow here. Dinky is a server of the user's own, addressed by host and port; it signs nothing.
OpenAPI: https://www.dinky.org.cn/docs/next/openapi/openapi_overview and the controller
``dinky-admin/src/main/java/org/dinky/controller/APIController.java`` (https://github.com/DataLinkDC/dinky).

Every reply is HTTP 200 with a ``Result`` wrapper, errors included: success is ``code`` 0 (1.x also says
``success: true``); 1 is a business error, 5 any exception (``data`` then holds the Java stack trace), 6
a parameter error, 7 an authorisation error (HTTP 401 on ``/api/**``). ``msg`` is localised and the
server's locale can change at run time, so nothing here keys on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from typing_extensions import Self

from airflow_provider_flinkcloud.arguments.dinky import SAVEPOINT_TYPES
from airflow_provider_flinkcloud.core.errors import JobSpecError, VendorErrorCodes
from airflow_provider_flinkcloud.core.settings import ConnectionLike, HostSettings, extra_flag, extra_text
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiRequest, ApiResponse, VendorError
from airflow_provider_flinkcloud.models.dinky import (
    CODE_NAMES,
    DinkyJobInstance,
    DinkyJobResult,
    DinkyResult,
    DinkySavepointResult,
    DinkySubmitSpec,
)

PLATFORM = "Dinky"

# Sa-Token's token name per Dinky version (``sa-token.token-name`` in each tag's application.yml).
TOKEN_NAME_1_2 = "dinky-token"  # noqa: S105  (a header name) dev from commit 846f3e01e (2024-10-17), released as 1.2
TOKEN_NAME_1_0 = "token"  # noqa: S105  (a header name) v1.0.0 .. v1.1.x
TOKEN_NAME_0_7 = "satoken"  # noqa: S105  (a header name) 0.6 / 0.7 (dlink)
KNOWN_TOKEN_NAMES = (TOKEN_NAME_1_2, TOKEN_NAME_1_0, TOKEN_NAME_0_7)
# What a 0.7 server is called here: it has no /openapi/version (added in 1.0.0-rc4).
LEGACY_VERSION = "0.7"
# How much of a Java stack trace a failed task shows: the exception and its causes, not the frames.
MAX_ERROR_CHARS = 4000


def error_code(code: int | None) -> str:
    return f"{CODE_NAMES.get(code, 'CODE')}({code})" if code is not None else "no code"


DINKY_CODES = VendorErrorCodes(
    auth=frozenset({error_code(7), error_code(401)}),
    # 1 (BusException: task / instance / cluster not found, ...), 5 (any exception, e.g. a failed SQL
    # submit), 6 (@Valid failures): repeating the same request gets the same answer.
    invalid=frozenset({error_code(1), error_code(5), error_code(6)}),
)


@dataclass(frozen=True, repr=False)
class DinkySettings(HostSettings):
    """A Dinky connection: host / port / schema, a login (``login`` + ``password``) or an API token
    (``password`` without a login, or extra ``token``); extra ``token_name`` overrides the header and
    cookie name the server version implies. ``failed_hold_seconds`` (default 60): how long FAILED must
    hold before it is final; ``fail_on_unknown`` (default true): whether UNKNOWN fails the task."""

    token_name: str | None = None
    failed_hold_seconds: float = 60.0
    fail_on_unknown: bool = True

    @classmethod
    def from_connection(cls, conn: ConnectionLike, extra: dict[str, Any]) -> Self:
        fields = cls.host_fields(conn, extra)
        token_name = extra_text(conn.conn_id, extra, "token_name")
        if token_name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", token_name):
            raise JobSpecError(
                f"connection {conn.conn_id!r}: extra token_name: must be a header name (letters, digits, "
                f"'-', '_', '.'), got {token_name!r}"
            )
        if fields["token"] and fields["login"]:
            raise JobSpecError(
                f"connection {conn.conn_id!r}: give either a login (login + password) or an API token "
                "(extra token), not both"
            )
        if fields["login"] and not fields["password"]:
            raise JobSpecError(f"connection {conn.conn_id!r}: login {fields['login']!r} has no password")
        hold = extra.get("failed_hold_seconds", 60.0)
        try:
            hold_seconds = float(hold)
        except (TypeError, ValueError):
            hold_seconds = -1.0
        if isinstance(hold, bool) or not hold_seconds >= 0:
            raise JobSpecError(
                f"connection {conn.conn_id!r}: extra failed_hold_seconds must be a number of seconds >= 0, "
                f"got {hold!r}"
            )
        return cls(
            **fields,
            token_name=token_name,
            failed_hold_seconds=hold_seconds,
            fail_on_unknown=extra_flag(conn.conn_id, extra, "fail_on_unknown", True),
        )

    @property
    def api_token(self) -> str | None:
        """The API token: extra ``token``, or the password of a connection without a login."""
        return self.token or (self.password if not self.login else None)


def is_legacy(version: str | None) -> bool:
    return version is not None and version.split(".")[0] == "0"


def token_name_for(version: str | None) -> str:
    """The token name a server of ``version`` reads (1.2+ ``dinky-token``, 1.0-1.1 ``token``, 0.7
    ``satoken``)."""
    if version is None:
        return TOKEN_NAME_1_2
    if is_legacy(version):
        return TOKEN_NAME_0_7
    numbers = [int(n) for n in re.findall(r"\d+", version)[:2]] + [0, 0]
    return TOKEN_NAME_1_2 if (numbers[0], numbers[1]) >= (1, 2) else TOKEN_NAME_1_0


def summarize_java_error(text: str) -> str:
    """The useful part of a Java stack trace: the exception with its message (Dinky's carries the
    numbered SQL statement), then each ``Caused by:`` with its message; no ``at`` frames."""
    kept: list[str] = []
    in_frames = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("Caused by:"):
            in_frames = False
        elif stripped.startswith("Suppressed:") or (
            stripped.startswith(("at ", "... ")) and line[:1] in ("\t", " ")
        ):
            in_frames = True
            continue
        if not in_frames:
            kept.append(line.rstrip())
    summary = "\n".join(kept).strip()
    if len(summary) > MAX_ERROR_CHARS:
        summary = summary[:MAX_ERROR_CHARS] + "\n... (cut; the full trace is in Dinky's log)"
    return summary


def looks_like_trace(text: Any) -> bool:
    return isinstance(text, str) and "\n\tat " in text


def error_text(result: DinkyResult) -> str:
    """The error a reply states: the summarised stack trace when ``data`` holds one, else ``msg``."""
    payload = result.payload
    if looks_like_trace(payload):
        return summarize_java_error(payload)
    if isinstance(payload, dict):
        # 0.7: a failed submit answers {datas: JobResult(FAILED, error), code: 1, msg: error}.
        error = payload.get("error")
        if isinstance(error, str) and error.strip():
            return summarize_java_error(error)
    return (result.msg or "").strip() or f"Dinky answered {error_code(result.code)} without a message"


def _result(response: ApiResponse) -> DinkyResult:
    payload = response.json()
    if not isinstance(payload, dict):
        raise ValueError(f"expected Dinky's Result object, got {type(payload).__name__}")
    return DinkyResult.model_validate(payload)


def _data(parse_payload: Callable[[Any], Any]) -> Callable[[ApiResponse], Any]:
    def parse(response: ApiResponse) -> Any:
        return parse_payload(_result(response).payload)

    return parse


@dataclass(frozen=True)
class InstanceReply:
    """A job instance with the server's time of the reply (``Result.time``, the server's clock)."""

    instance: DinkyJobInstance
    server_time: str | None


def _optional_instance_reply(response: ApiResponse) -> InstanceReply | None:
    result = _result(response)
    if result.payload is None:
        return None
    return InstanceReply(DinkyJobInstance.model_validate(result.payload), result.time)


def _instance_reply(response: ApiResponse) -> InstanceReply:
    reply = _optional_instance_reply(response)
    if reply is None:
        raise ValueError("the reply has no job instance")
    return reply


def _token_from(response: ApiResponse, names: Sequence[str]) -> str:
    """The token a login set: Sa-Token writes it to the header ``<token-name>`` and to a cookie.
    ``data.tokenInfo`` does not hold it (it is built before ``StpUtil.login()``)."""
    for name in names:
        value = response.header(name)
        if value:
            return value.strip()
    cookie = response.header("Set-Cookie") or ""
    for name in names:
        match = re.search(rf"(?:^|[;,]\s*){re.escape(name)}=([^;,\s]+)", cookie)
        if match:
            return match.group(1)
    raise ValueError("the login reply carries no token (no token header or cookie)")


def legacy_target(verb: str, jid: str | None, address: str | None) -> dict[str, str]:
    """What 0.7 acts on instead of a task id: the Flink job id and its JobManager's address."""
    if not jid or not address:
        raise JobSpecError(f"Dinky 0.7 {verb} by Flink job id and JobManager address; they are not known")
    return {"jobId": jid, "address": address}


class DinkyClient:
    platform = PLATFORM
    codes = DINKY_CODES

    def __init__(self, settings: DinkySettings) -> None:
        if not settings.endpoint:
            raise JobSpecError(f"connection {settings.conn_id!r}: host is empty (or set extra endpoint)")
        self.settings = settings
        self.base_url = settings.endpoint
        self.retry = settings.retry
        self.timeouts = (settings.wait.connect_timeout, settings.wait.read_timeout)
        # Learnt once per hook from GET /openapi/version (LEGACY_VERSION when the server has none).
        self.server_version: str | None = None
        # The token a login returned (only with login + password configured).
        self.session_token: str | None = None

    @property
    def legacy(self) -> bool:
        return is_legacy(self.server_version)

    @property
    def token_name(self) -> str:
        return self.settings.token_name or token_name_for(self.server_version)

    @property
    def token(self) -> str | None:
        return self.session_token or self.settings.api_token

    def sign(self, request: ApiRequest, host: str, now: datetime) -> dict[str, str]:
        """No signature: the token goes in the header the server version reads, and as a cookie (the
        server reads the parameter, then the header, then the cookie; a proxy may drop either)."""
        headers = {"Accept": "application/json", **request.headers}
        if request.body:
            headers["Content-Type"] = "application/json"
        token = self.token
        if token and request.operation != "login":
            headers[self.token_name] = token
            headers["Cookie"] = f"{self.token_name}={token}"
        return headers

    def read_error(self, request: ApiRequest, response: ApiResponse) -> VendorError | None:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and ("code" in payload or "success" in payload):
            result = DinkyResult.model_validate(payload)
            if result.ok and 200 <= response.status < 300:
                return None
            return VendorError(error_code(result.code), error_text(result))
        if 200 <= response.status < 300:
            return None
        # Spring's own error body (an unmapped path, e.g. /openapi/version on 0.7) or a proxy's page.
        if isinstance(payload, dict) and payload.get("error"):
            message = f"{payload.get('error')}: {payload.get('path') or request.path}"
        else:
            message = response.body[:200].decode("utf-8", "replace").strip() or f"HTTP {response.status}"
        return VendorError(f"HTTP {response.status}", message)

    # -- calls -------------------------------------------------------------------------------------

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[ApiResponse], Any],
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        idempotent: bool = True,
    ) -> ApiCall[Any]:
        return ApiCall(
            ApiRequest(
                operation=operation,
                method=method,
                path=path,
                query=tuple(query),
                body=b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8"),
                idempotent=idempotent,
            ),
            parse,
        )

    def version_call(self) -> ApiCall[str]:
        # GET /openapi/version exists from 1.0.0-rc4 on; 0.7 answers Spring's 404.
        return self.request("version", "GET", "/openapi/version", _data(lambda data: str(data or "").strip()))

    def login_call(self) -> ApiCall[str]:
        """POST /api/login (``LoginDTO``); the password is sent as typed, the server compares its MD5."""
        assert self.settings.login and self.settings.password
        body = {
            "username": self.settings.login,
            "password": self.settings.password,
            "tenantId": 1,
            "autoLogin": False,
            "ldapLogin": False,
        }
        names = [self.token_name, *(n for n in KNOWN_TOKEN_NAMES if n != self.token_name)]
        return self.request("login", "POST", "/api/login", lambda r: _token_from(r, names), body=body)

    def token_info_call(self) -> ApiCall[dict[str, Any]]:
        """GET /api/tokenInfo: ``@SaCheckLogin``, so an unknown or expired token is refused (HTTP 401,
        code 7), where ``/openapi`` would silently run it as the admin user."""
        return self.request("tokenInfo", "GET", "/api/tokenInfo", _data(lambda data: dict(data or {})))

    def submit_task_call(self, spec: DinkySubmitSpec, savepoint_path: str | None = None) -> ApiCall[Any]:
        """Submit the task once: Dinky has no "already running" check, so this is never repeated blindly."""
        if self.legacy:
            if spec.variables or savepoint_path or spec.savepoint_path:
                raise JobSpecError(
                    "Dinky 0.7's submitTask takes only the task id: variables and savepoint_path "
                    "need Dinky 1.x"
                )
            return self.request(
                "submitTask",
                "GET",
                "/openapi/submitTask",
                _data(DinkyJobResult.model_validate),
                query=[("id", str(spec.dinky_task_id))],
                idempotent=False,
            )
        return self.request(
            "submitTask",
            "POST",
            "/openapi/submitTask",
            _data(DinkyJobResult.model_validate),
            body=spec.body(savepoint_path),
            idempotent=False,
        )

    def job_instance_call(self, job_instance_id: int | str) -> ApiCall[InstanceReply]:
        return self.request(
            "getJobInstance",
            "GET",
            "/openapi/getJobInstance",
            _instance_reply,
            query=[("id", str(job_instance_id))],
        )

    def newest_instance_call(self, dinky_task_id: int | str) -> ApiCall[InstanceReply | None]:
        """The task's newest job instance (``order by id desc limit 1``), or None before its first submit."""
        return self.request(
            "getJobInstanceByTaskId",
            "GET",
            "/openapi/getJobInstanceByTaskId",
            _optional_instance_reply,
            query=[("id", str(dinky_task_id))],
        )

    def cancel_call(
        self, dinky_task_id: int | str, *, jid: str | None = None, address: str | None = None
    ) -> ApiCall[bool]:
        """Cancel the task's job. ``forceCancel=false``: with a forced cancel an unreachable cluster makes
        Dinky mark the instance UNKNOWN and answer true while the Flink job may run on."""
        if self.legacy:
            # 0.7: POST APICancelDTO {jobId (the Flink JID), address (the JobManager)}.
            return self.request(
                "cancel",
                "POST",
                "/openapi/cancel",
                _data(lambda data: data is not False),
                body=legacy_target("cancels", jid, address),
                idempotent=False,
            )
        return self.request(
            "cancel",
            "GET",
            "/openapi/cancel",
            _data(lambda data: data is not False),
            query=[("id", str(dinky_task_id)), ("withSavePoint", "false"), ("forceCancel", "false")],
            idempotent=False,
        )

    def savepoint_call(
        self,
        dinky_task_id: int | str,
        savepoint_type: str,
        *,
        jid: str | None = None,
        address: str | None = None,
    ) -> ApiCall[DinkySavepointResult]:
        """Take a savepoint of the task's job; type ``cancel`` (or ``stop``) stops the job with it."""
        if savepoint_type not in SAVEPOINT_TYPES:
            raise JobSpecError(
                f"savepoint_type: must be one of {', '.join(SAVEPOINT_TYPES)}, got {savepoint_type!r}"
            )
        parse = _data(DinkySavepointResult.model_validate)
        if self.legacy:
            body = {**legacy_target("takes savepoints", jid, address), "savePointType": savepoint_type}
            return self.request("savepoint", "POST", "/openapi/savepoint", parse, body=body, idempotent=False)
        # 1.x takes request parameters here, not JSON.
        query = [("taskId", str(dinky_task_id)), ("savePointType", savepoint_type)]
        return self.request("savepoint", "POST", "/openapi/savepoint", parse, query=query, idempotent=False)

    def probe_call(self) -> ApiCall[str]:
        return self.version_call()
