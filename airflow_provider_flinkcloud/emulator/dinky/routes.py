"""Which requests Dinky answers (``/openapi/**``, ``/api/login``, ``/api/tokenInfo``) and what it does.

The mappings are those of ``APIController`` per version (1.0.0-rc4 .. 1.2: POST ``submitTask`` with
JSON, GET ``cancel`` by task id; 0.7: GET ``submitTask?id=``, POST ``cancel`` with the Flink job id and
no ``/openapi/version``), https://github.com/DataLinkDC/dinky/blob/dev/dinky-admin/src/main/java/org/dinky/controller/APIController.java.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from airflow_provider_flinkcloud.emulator.dinky import auth, responses
from airflow_provider_flinkcloud.emulator.dinky.responses import DinkyError, exception
from airflow_provider_flinkcloud.emulator.dinky.state import ACTIVE, DinkyState, Instance, Task
from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ApiResponse,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
)

# Spring's default multipart/body limit is far above any OpenAPI body; 2 MiB keeps the server safe.
MAX_BODY_BYTES = 2 * 1024 * 1024
# Mapped OpenAPI endpoints the emulator does not model: a 501 in Dinky's wrapper, not Spring's 404.
UNMODELLED = frozenset(
    {"explainSql", "getJobPlan", "getStreamGraph", "exportSql", "getTaskLineage", "savepointTask"}
)
# (method, operation) per API generation; anything else under /openapi is refused as Dinky does.
MODERN_METHODS = {
    "version": "GET",
    "submitTask": "POST",
    "getJobInstance": "GET",
    "getJobInstanceByTaskId": "GET",
    "cancel": "GET",
    "savepoint": "POST",
    "restartTask": "GET",
}
LEGACY_METHODS = {**MODERN_METHODS, "submitTask": "GET", "cancel": "POST"}
LEGACY_MISSING = frozenset({"version", "savepointTask"})


def _integer(params: Mapping[str, str], name: str, java_type: str = "Integer") -> int:
    value = params.get(name)
    if value is None or value == "":
        raise exception(
            f"Required request parameter '{name}' for method parameter type {java_type} is not present",
            "org.springframework.web.bind.MissingServletRequestParameterException",
        )
    try:
        return int(value)
    except ValueError:
        raise exception(
            f"Failed to convert value of type 'java.lang.String' to required type 'java.lang.{java_type}'; "
            f'For input string: "{value}"',
            "org.springframework.web.method.annotation.MethodArgumentTypeMismatchException",
        ) from None


def _json_body(request: ApiRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except ValueError as exc:
        raise exception(
            f"JSON parse error: {exc}", "org.springframework.http.converter.HttpMessageNotReadableException"
        ) from None
    if not isinstance(body, dict):
        raise exception(
            "Required request body is missing",
            "org.springframework.http.converter.HttpMessageNotReadableException",
        )
    return body


def numbered(statement: str) -> str:
    """The SQL as ``JobManager.executeSql`` prints it in its error: one numbered line each."""
    return "\n".join(f"{i:<5}{line}" for i, line in enumerate(["", *statement.splitlines()], start=1))


class DinkyPlatform(Platform):
    name = "dinky"
    max_body_bytes = MAX_BODY_BYTES

    def __init__(self, ctx: EmulatorContext) -> None:
        super().__init__(ctx)
        # Kept across resets, like the other platforms' credentials.
        self.auth = auth.DinkyAuth()
        self.reset()

    def reset(self) -> None:
        self.state = DinkyState(self.ctx)
        self.auth.sessions.clear()
        self.auth.replaced.clear()

    # -- routing -----------------------------------------------------------------------------------

    def claims(self, request: ApiRequest) -> bool:
        return request.path.startswith("/openapi/") or request.path in ("/api/login", "/api/tokenInfo")

    def operation(self, request: ApiRequest) -> str:
        if request.path.startswith("/openapi/"):
            return request.path[len("/openapi/") :].strip("/")
        return request.path[len("/api/") :]

    def handle(self, request: ApiRequest) -> ApiResponse:
        state = self.state
        now = self.ctx.clock()
        operation = self.operation(request)
        try:
            if request.path == "/api/login":
                return self.login(request, now)
            if request.path == "/api/tokenInfo":
                return self.token_info(request, now)
            methods = LEGACY_METHODS if state.legacy else MODERN_METHODS
            if (operation not in methods and operation not in UNMODELLED) or (
                state.legacy and operation in LEGACY_MISSING
            ):
                return responses.spring_not_found(now, request.path)
            self.note_caller(request, now)
            if operation in UNMODELLED:
                raise DinkyError(5, f"flinkcloud-emulator does not model /openapi/{operation}", status=501)
            if request.method != methods[operation]:
                raise exception(
                    f"Request method '{request.method}' not supported",
                    "org.springframework.web.HttpRequestMethodNotSupportedException",
                )
            handler: Callable[[ApiRequest, float], ApiResponse] = getattr(self, f"op_{operation}")
            return handler(request, now)
        except DinkyError as exc:
            return responses.failed(state.legacy, now, exc)

    def note_caller(self, request: ApiRequest, now: float) -> None:
        """Who an OpenAPI call runs as: the token's user, else user 1 (admin) without a question."""
        user, _why = self.auth.check(auth.request_token(request, auth.token_name(self.state.version)), now)
        self.state.openapi_callers[user or "anonymous"] += 1

    def ok(
        self, data: Any, msg: str = "Successfully", headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        return responses.ok(self.state.legacy, self.ctx.clock(), data, msg, headers)

    # -- authentication ------------------------------------------------------------------------------

    def login(self, request: ApiRequest, now: float) -> ApiResponse:
        if request.method != "POST":
            raise exception(
                f"Request method '{request.method}' not supported",
                "org.springframework.web.HttpRequestMethodNotSupportedException",
            )
        body = _json_body(request)
        username, password = str(body.get("username") or ""), str(body.get("password") or "")
        session = self.auth.login(username, password, now, self.state.token_timeout_seconds)
        if session is None:
            # Result.authorizeFailed: HTTP 200, code 7.
            raise DinkyError(7, "UserName Or Password Not Correct")
        self.state.logins_by_name[username] += 1
        name = auth.token_name(self.state.version)
        cookie = f"{name}={session.token}; Path=/"
        if body.get("autoLogin"):
            cookie += f"; Max-Age={int(self.state.token_timeout_seconds)}"
        headers = {name: session.token, "Access-Control-Expose-Headers": name, "Set-Cookie": cookie}
        return self.ok(responses.login_payload(username, name), "Login Successfully", headers)

    def token_info(self, request: ApiRequest, now: float) -> ApiResponse:
        name = auth.token_name(self.state.version)
        token = auth.request_token(request, name)
        user, why = self.auth.check(token, now)
        if user is None or token is None:
            # WebExceptionHandler.notLoginException: HTTP 401 with code 7.
            raise DinkyError(7, responses.NOT_LOGIN_MESSAGES[why], status=401)
        session = self.auth.sessions.get(token)
        remaining = session.expires_at - now if session is not None else -1
        return self.ok(responses.token_info(name, token, auth.ADMIN_ID, remaining))

    # -- the OpenAPI ---------------------------------------------------------------------------------

    def task(self, task_id: int) -> Task:
        task = self.state.tasks.get(task_id)
        if task is None:
            raise DinkyError(1, "作业不存在" if self.state.legacy else "Task Not Exist")
        return task

    def instance_by_jid(self, jid: str) -> Instance:
        for instance in self.state.instances.values():
            if instance.jid == jid:
                return instance
        raise DinkyError(1, "Job Instance Not Exist")

    def current_instance(self, task: Task) -> Instance:
        instance_id = self.state.current_instance.get(task.id)
        if instance_id is None:
            raise DinkyError(1, "Job Instance Not Exist")
        return self.state.instances[instance_id]

    def op_version(self, request: ApiRequest, now: float) -> ApiResponse:
        return self.ok(self.state.version, "Query Successfully")

    def op_submitTask(self, request: ApiRequest, now: float) -> ApiResponse:
        if self.state.legacy:
            task_id, savepoint_path, variables = _integer(dict(request.query), "id"), None, {}
        else:
            body = _json_body(request)
            given = body.get("id")
            if isinstance(given, bool) or not isinstance(given, int):
                raise exception(f"Cannot deserialize value of type `java.lang.Integer` from {given!r}")
            task_id = given
            savepoint_path = body.get("savePointPath") or None
            variables = {str(k): str(v) for k, v in (body.get("variables") or {}).items()}
        return self.submit(self.task(task_id), savepoint_path, variables)

    def submit(self, task: Task, savepoint_path: str | None, variables: dict[str, str]) -> ApiResponse:
        cause = self.state.submit_errors.pop(task.id, None)
        if cause is not None:
            message = f"Exception in executing FlinkSQL:\n{numbered(task.statement)}\n{cause}"
            if self.state.legacy:
                failed = {"status": "FAILED", "success": False, "error": message, "statement": task.statement}
                raise DinkyError(1, message, failed)
            trace = (
                f"java.lang.Exception: {message}\n"
                "\tat org.dinky.job.JobManager.executeSql(JobManager.java:321)\n"
                "\tat org.dinky.service.impl.TaskServiceImpl.executeJob(TaskServiceImpl.java:205)\n"
                "\tat org.dinky.service.impl.TaskServiceImpl.submitTask(TaskServiceImpl.java:391)\n"
                + "\tat sun.reflect.GeneratedMethodAccessor.invoke(Unknown Source)\n"
                * 40
                + f"Caused by: {cause}\n"
                "\tat org.apache.flink.client.program.rest.RestClusterClient.submitJob("
                "RestClusterClient.java:410)\n"
                "\t... 87 more"
            )
            raise DinkyError(5, message, trace)
        instance = self.state.submit(task, savepoint_path, variables)
        return self.ok(responses.job_result(instance, self.state.legacy), "Execute Successfully")

    def op_getJobInstance(self, request: ApiRequest, now: float) -> ApiResponse:
        instance = self.state.instances.get(_integer(dict(request.query), "id"))
        if instance is None:
            raise DinkyError(1, "Job Instance Not Exist")
        return self.ok(responses.job_instance(instance, now, self.state.legacy))

    def op_getJobInstanceByTaskId(self, request: ApiRequest, now: float) -> ApiResponse:
        instance = self.state.newest_instance(self.task(_integer(dict(request.query), "id")))
        body = responses.job_instance(instance, now, self.state.legacy) if instance is not None else None
        return self.ok(body)

    def op_cancel(self, request: ApiRequest, now: float) -> ApiResponse:
        if self.state.legacy:
            instance = self.instance_by_jid(str(_json_body(request).get("jobId") or ""))
            with_savepoint = False
        else:
            params = dict(request.query)
            instance = self.current_instance(self.task(_integer(params, "id")))
            with_savepoint = params.get("withSavePoint", "false").lower() == "true"
        if instance.status(now) in ACTIVE:
            self.state.cancels_by_name[instance.task.name] += 1
            if with_savepoint:
                self.state.take_savepoint(instance)
            self.state.stop(instance, "CANCELED", savepoint_first=with_savepoint)
        # Flink's REST cancel of a job that has ended is answered, and Dinky reports true.
        return self.ok(True, "Execute Successfully")

    def op_savepoint(self, request: ApiRequest, now: float) -> ApiResponse:
        if self.state.legacy:
            body = _json_body(request)
            instance, kind = (
                self.instance_by_jid(str(body.get("jobId") or "")),
                str(body.get("savePointType") or ""),
            )
        else:
            params = dict(request.query)
            if request.body and not params:
                # Form fields are request parameters too.
                params = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
            instance = self.current_instance(self.task(_integer(params, "taskId")))
            kind = params.get("savePointType") or ""
            if not kind:
                raise exception(
                    "Required request parameter 'savePointType' for method parameter type String is not "
                    "present",
                    "org.springframework.web.bind.MissingServletRequestParameterException",
                )
        if kind.upper() not in ("TRIGGER", "DISPOSE", "STOP", "CANCEL"):
            raise exception(
                f"No enum constant org.dinky.gateway.enums.SavePointType.{kind.upper()}",
                "java.lang.IllegalArgumentException",
            )
        if instance.status(now) not in ACTIVE:
            raise DinkyError(1, f"The job {instance.jid} is not running")
        path = self.state.take_savepoint(instance)
        if kind.upper() in ("STOP", "CANCEL"):
            self.state.cancels_by_name[instance.task.name] += 1
            # Flink ends a stop-with-savepoint FINISHED and a cancel-with-savepoint CANCELED.
            self.state.stop(
                instance, "FINISHED" if kind.upper() == "STOP" else "CANCELED", savepoint_first=True
            )
        return self.ok(responses.savepoint_result(instance, path, now, now), "Execute Successfully")

    def op_restartTask(self, request: ApiRequest, now: float) -> ApiResponse:
        params = dict(request.query)
        task = self.task(_integer(params, "id"))
        savepoint_path = params.get("savePointPath") or None
        current = self.state.current_instance.get(task.id)
        if current is not None and self.state.instances[current].status(now) in ACTIVE:
            instance = self.state.instances[current]
            if savepoint_path is None:
                savepoint_path = self.state.take_savepoint(instance)
            # Dinky waits (up to 11 x 2 s) for the old job to stop before it submits.
            instance.timeline = [*instance.timeline, (now, "CANCELED")]
        self.state.restarts_by_name[task.name] += 1
        return self.submit(task, savepoint_path, {})

    # -- the emulator's own ----------------------------------------------------------------------------

    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return responses.proxy_error(status, message, headers)

    def malformed_response(self, request: ApiRequest, detail: str) -> ApiResponse:
        # Tomcat refuses a broken body before Spring sees it.
        return responses.proxy_error(400, "Bad Request")

    def too_large_response(self, request: ApiRequest) -> ApiResponse:
        return responses.proxy_error(413, "Request Entity Too Large")

    def fault_code(self, status: int) -> tuple[str, str]:
        reasons = {
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        return f"HTTP {status}", reasons.get(status, "Error")

    def counters(self) -> JSONObject:
        return self.state.counters()

    def snapshot(self) -> JSONObject:
        now = self.ctx.clock()
        return {
            **self.state.settings(),
            # What the submit asked for, which no reply shows, beside each instance.
            "instances": [
                {
                    **responses.job_instance(i, now, False),
                    "savePointPath": i.savepoint_path,
                    "variables": dict(i.variables),
                }
                for i in self.state.instances.values()
            ],
            "pending_failures": self.state.failures.as_list(),
            "users": sorted(self.auth.users),
        }

    def add_failure(self, failure: FailureSpec) -> None:
        self.state.failures.add(failure)

    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        """``access_key`` is a user name, ``secret_key`` its password, ``session_token`` an API token."""
        self.auth.add(
            str(payload.get("access_key") or ""), payload.get("secret_key"), payload.get("session_token")
        )

    def configure(self, payload: Mapping[str, Any]) -> JSONObject:
        return self.state.configure(dict(payload))
