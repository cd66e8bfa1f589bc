"""Dinky's answers, in the shapes of ``tests/vectors/dinky_samples.json`` (built from the Java classes).

1.x wraps everything in ``Result {data, code, msg, time, success}``, 0.7 in ``{datas, code, msg, time}``;
both answer HTTP 200 for errors too, except the 401 of ``@SaCheckLogin`` endpoints and Spring's own
404 for an unmapped path. Times are the server's (UTC here): ``yyyy-MM-dd HH:mm:ss`` for ``Result.time``
and the ``JobInstance`` columns, ISO-8601 without a zone for ``JobResult`` start/end (Jackson's
``LocalDateTime``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.emulator.dinky.auth import ADMIN_ID, DINKY_PASSWORD_MD5
from airflow_provider_flinkcloud.emulator.platform import ApiResponse, JSONObject, json_response

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.emulator.dinky.state import Instance, Task

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def server_time(now: float) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime(TIME_FORMAT)


def iso_time(now: float) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class DinkyError(Exception):
    """An error Dinky answers in its wrapper: ``code`` 1 (business), 5 (exception), 6, 7."""

    def __init__(self, code: int, message: str, data: Any = None, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.status = status


def exception(message: str, java_class: str = "java.lang.Exception") -> DinkyError:
    """Code 5 as ``UnKnownExceptionHandler`` sends it: the message, and the stack trace as ``data``."""
    frame = "\tat org.dinky.controller.APIController.invoke(APIController.java:97)"
    trace = f"{java_class}: {message}\n{frame}\n\t..."
    return DinkyError(5, message, trace)


def envelope(legacy: bool, now: float, code: int, msg: str, data: Any) -> JSONObject:
    if legacy:
        return {"datas": data, "code": code, "msg": msg, "time": server_time(now)}
    return {"data": data, "code": code, "msg": msg, "time": server_time(now), "success": code == 0}


def ok(
    legacy: bool, now: float, data: Any, msg: str, headers: Mapping[str, str] | None = None
) -> ApiResponse:
    # 0.7's messages were Chinese only ("执行成功" / "获取成功").
    return json_response(200, envelope(legacy, now, 0, "执行成功" if legacy else msg, data), headers)


def failed(legacy: bool, now: float, error: DinkyError) -> ApiResponse:
    # 0.7 answers every exception with code 1 (com.dlink.exception.WebExceptionHandler).
    code = 1 if legacy and error.code == 5 else error.code
    return json_response(error.status, envelope(legacy, now, code, error.message, error.data))


def spring_not_found(now: float, path: str) -> ApiResponse:
    """Spring Boot's BasicErrorController body for an unmapped path."""
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"
    return json_response(404, {"timestamp": stamp, "status": 404, "error": "Not Found", "path": path})


def proxy_error(status: int, reason: str, headers: Mapping[str, str] | None = None) -> ApiResponse:
    """What a reverse proxy in front of Dinky answers (Dinky itself never sends 429 or 5xx)."""
    body = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
    )
    return ApiResponse(status, body.encode(), {"Content-Type": "text/html", **(headers or {})})


EXECUTOR_SETTING: JSONObject = {
    "type": "standalone",
    "host": "127.0.0.1",
    "port": 8081,
    "useBatchModel": False,
    "plan": False,
    "checkpoint": 0,
    "parallelism": 1,
    "useSqlFragment": False,
    "useStatementSet": True,
    "savePointPath": None,
    "jobName": "airflow_demo",
    "config": {},
    "variables": {},
    "jarFiles": None,
    "jobManagerAddress": "127.0.0.1:8081",
    "remote": True,
    "validParallelism": True,
    "validJobName": True,
    "validHost": True,
    "validPort": True,
    "validConfig": False,
    "validVariables": False,
    "validJarFiles": False,
}


def job_config(task: Task, savepoint_path: str | None, variables: Mapping[str, str]) -> JSONObject:
    return {
        "type": "standalone",
        "checkpoint": 0,
        "savePointStrategy": "CUSTOM" if savepoint_path else "NONE",
        "savePointPath": savepoint_path,
        "parallelism": 1,
        "clusterId": 1,
        "clusterConfigurationId": None,
        "step": 1,
        "configJson": {},
        "udfRefer": {},
        "useResult": False,
        "useChangeLog": False,
        "useAutoCancel": False,
        "useRemote": True,
        "address": "127.0.0.1:8081",
        "taskId": task.id,
        "jarFiles": None,
        "pyFiles": None,
        "jobName": task.name,
        "fragment": False,
        "statementSet": True,
        "batchModel": task.batch,
        "maxRowNum": 100,
        "gatewayConfig": None,
        "variables": dict(variables),
        # JobConfig.getExecutorSetting() (dinky-core/.../executor/ExecutorConfig.java).
        "executorSetting": {
            **EXECUTOR_SETTING,
            "useBatchModel": task.batch,
            "savePointPath": savepoint_path,
            "jobName": task.name,
            "variables": dict(variables),
        },
    }


def job_result(instance: Instance, legacy: bool) -> JSONObject:
    result: JSONObject = {
        "id": instance.history_id,
        "jobConfig": job_config(instance.task, instance.savepoint_path, instance.variables),
        "jobManagerAddress": "127.0.0.1:8081",
        "status": "SUCCESS",
        "success": True,
        "statement": instance.task.statement,
        "jobId": instance.jid,
        "jobInstanceId": instance.id,
        "error": None,
        "result": None,
        "startTime": iso_time(instance.created),
        "endTime": iso_time(instance.created + 0.5),
    }
    if not legacy:
        result["results"] = None
    return result


def job_instance(instance: Instance, now: float, legacy: bool) -> JSONObject:
    status = instance.status(now)
    finished = instance.finished_at(now)
    body: JSONObject = {
        "id": instance.id,
        "tenantId": 1,
        "name": instance.task.name,
        "taskId": instance.task.id,
        "step": 1,
        "clusterId": 1,
        "jid": instance.jid,
        "status": status,
        "historyId": instance.history_id,
        "error": instance.error if status == "FAILED" else None,
        "createTime": server_time(instance.created),
        "updateTime": server_time(now),
        "finishTime": server_time(finished) if finished is not None else None,
        "duration": int(((finished or now) - instance.created) * 1000),
        "failedRestartCount": 0,
        "creator": ADMIN_ID,
        "updater": ADMIN_ID,
        "operator": ADMIN_ID,
        "count": None,
    }
    if legacy:
        body.update(type="standalone", clusterAlias="emulated", jobManagerAddress="127.0.0.1:8081")
    return body


def savepoint_result(instance: Instance, path: str, started: float, now: float) -> JSONObject:
    return {
        "type": "STANDALONE",
        "startTime": iso_time(started),
        "endTime": iso_time(now),
        "success": True,
        "exceptionMsg": None,
        "appId": None,
        "jobInfos": [{"jobId": instance.jid, "savePoint": path, "status": None}],
        "id": None,
        "webURL": None,
        "jids": None,
        "error": None,
    }


# The shipped default rows (script/sql/dinky-mysql.sql) as the login reply shows them.
DEFAULT_USER: JSONObject = {
    "id": 1,
    "username": "admin",
    "nickname": "Admin",
    "userType": 0,
    "worknum": "Dinky-001",
    "avatar": None,
    "mobile": "17777777777",
    "enabled": True,
    "isDelete": False,
    "superAdminFlag": True,
    "tenantAdminFlag": None,
    "createTime": "2022-12-13 05:27:19",
    "updateTime": "2023-07-28 23:22:52",
}
DEFAULT_ROLE: JSONObject = {
    "id": 1,
    "tenantId": 1,
    "roleCode": "SuperAdmin",
    "roleName": "SuperAdmin",
    "isDelete": False,
    "note": "SuperAdmin of Role",
    "tenant": None,
    "createTime": "2022-12-13 05:27:19",
    "updateTime": "2022-12-13 05:27:19",
}
DEFAULT_TENANT: JSONObject = {
    "id": 1,
    "tenantCode": "DefaultTenant",
    "note": "DefaultTenant",
    "isDelete": False,
    "createTime": "2022-12-13 05:27:19",
    "updateTime": "2022-12-13 05:27:19",
}
LOGIN_TOKEN_INFO: JSONObject = {
    "tokenName": "dinky-token",
    "tokenValue": None,
    "isLogin": False,
    "loginId": None,
    "loginType": "random-32",
    "tokenTimeout": -2,
    "sessionTimeout": -2,
    "tokenSessionTimeout": -2,
    "tokenActiveTimeout": -1,
    "loginDevice": None,
    "tag": None,
}


def login_payload(username: str, token_name: str) -> JSONObject:
    """The ``UserDTO`` of a login, with the shipped default rows. tokenInfo is built before
    ``StpUtil.login()``, so it never holds the new token; the user row leaks the stored MD5 as the real
    server's does."""
    return {
        "user": {**DEFAULT_USER, "username": username, "password": DINKY_PASSWORD_MD5},
        "roleList": [dict(DEFAULT_ROLE)],
        "tenantList": [dict(DEFAULT_TENANT)],
        "menuList": [],
        "currentTenant": None,
        "tokenInfo": {**LOGIN_TOKEN_INFO, "tokenName": token_name},
    }


def token_info(token_name: str, token: str, user_id: int, remaining: float) -> JSONObject:
    return {
        "tokenName": token_name,
        "tokenValue": token,
        "isLogin": True,
        "loginId": str(user_id),
        "loginType": "random-32",
        "tokenTimeout": int(remaining),
        "sessionTimeout": int(remaining),
        "tokenSessionTimeout": -2,
        "tokenActiveTimeout": -1,
        "loginDevice": "default-device",
        "tag": None,
    }


# The en_US texts of the NotLoginException types (messages_en_US.properties).
NOT_LOGIN_MESSAGES = {
    "NOT_TOKEN": "Can Not Read Token",
    "INVALID_TOKEN": "Invalid Token",
    "TOKEN_TIMEOUT": "Token Expired",
    "BE_REPLACED": "Token Has Been Replaced",
}
