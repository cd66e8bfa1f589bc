"""The POP gateway's error body and the records foas 2018-11-11 returns.

A success is the operation's own JSON object with a top-level ``RequestId`` (no envelope); an error is
``{RequestId, HostId, Code, Message, Recommend}`` with an HTTP status outside 2xx
(https://help.aliyun.com/document_detail/95922.html; HostId and Recommend as a real gateway reply shows
them). Instance and job records carry the fields of GetInstance and GetJob
(https://api.aliyun.com/api/foas/2018-11-11/GetInstance, .../GetJob).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ApiResponse, JSONObject, json_response

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.emulator.alibaba.state import BlinkJob, BlinkState, Instance, Project

DEFAULT_HOST = "foas.cn-hangzhou.aliyuncs.com"
RECOMMEND = "https://error-center.aliyun.com/status/search?Keyword={code}&source=PopGw"


class AlibabaError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def ok(payload: JSONObject) -> ApiResponse:
    return json_response(200, {"RequestId": request_id(), **payload})


def error_response(
    request: ApiRequest, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> ApiResponse:
    body = {
        "RequestId": request_id(),
        "HostId": request.header("Host") or DEFAULT_HOST,
        "Code": code,
        "Message": message,
        "Recommend": RECOMMEND.format(code=code),
    }
    return json_response(status, body, headers)


def missing(name: str) -> AlibabaError:
    return AlibabaError(400, f"Missing{name[:1].upper()}{name[1:]}", f"{name} is mandatory for this action.")


def invalid(name: str, why: str) -> AlibabaError:
    # The gateway's Invalid{ParameterName} wording, with the reason the emulator found.
    return AlibabaError(400, "InvalidParameter", f"Specified parameter {name} is not valid: {why}.")


def invalid_state(message: str) -> AlibabaError:
    # foas documents no business codes ([Meta] errorCodes is {} for every API): the emulator's own.
    return AlibabaError(400, "InvalidInstance.State", message)


def not_found(kind: str, what: str) -> AlibabaError:
    return AlibabaError(
        404, f"Invalid{kind}.NotFound", f"The specified {kind.lower()} {what} does not exist."
    )


def malformed(detail: str) -> AlibabaError:
    return AlibabaError(400, "InvalidParameter", f"The request is malformed: {detail}.")


def entity_too_large(limit: int) -> AlibabaError:
    return AlibabaError(413, "RequestEntityTooLarge", f"The request body is larger than {limit} bytes.")


def fault_code(status: int) -> tuple[str, str]:
    """The gateway's code for an injected HTTP ``status`` (https://help.aliyun.com/document_detail/95922.html)."""
    if status == 429:
        return "Throttling.User", "Request was denied due to user flow control."
    if status == 503:
        return "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
    if status >= 500:
        return (
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    return "InjectedFault", f"HTTP {status} injected by flinkcloud-emulator."


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def instance_record(instance: Instance, now: float) -> JSONObject:
    record: dict[str, Any] = {
        "Id": int(instance.id),
        "ProjectName": instance.project_name,
        "JobName": instance.job_name,
        "JobType": instance.job_type,
        "ApiType": instance.api_type,
        "ActualState": instance.state(now),
        "ExpectState": instance.expect_state(now),
        "Code": instance.code,
        "Properties": instance.properties,
        "PlanJson": "",
        "Packages": "",
        "EngineVersion": "blink-3.7.10",
        "EngineJobHandler": instance.engine_job_handler,
        "ClusterId": "flinkcloudemulator",
        "QueueName": f"root.{instance.project_name}",
        "Starter": "flinkcloud-emulator",
        "LastOperator": "flinkcloud-emulator",
        "StartTime": _ms(instance.started_at),
        "LastOperateTime": _ms(instance.last_operated_at),
        "InputDelay": -99999999,
        "AutoScaleParams": '{"isOnOff":false,"strategyConfigure":null,"maxCU":null}',
        "Priority": 0,
    }
    ended = instance.ended_at(now)
    if ended is not None:
        record["EndTime"] = _ms(ended)
    error = instance.visible_error(now)
    if error is not None:
        record["LastErrorMessage"] = error
        record["LastErrorTime"] = _ms(instance.entered_at(now))
    return record


def run_summary(instance: Instance, now: float) -> JSONObject:
    record = instance_record(instance, now)
    names = ("Id", "JobName", "ActualState", "ExpectState", "EngineJobHandler", "InputDelay")
    summary = {name: record[name] for name in names}
    for name in ("LastErrorMessage", "LastErrorTime"):
        if name in record:
            summary[name] = record[name]
    return summary


def job_record(job: BlinkJob) -> JSONObject:
    return {
        "JobId": job.job_id,
        "JobName": job.name,
        "ProjectName": job.project_name,
        "JobType": job.job_type,
        "ApiType": job.api_type,
        "Code": job.code,
        "Properties": job.properties,
        "PlanJson": "",
        "Packages": "",
        "EngineVersion": "blink-3.7.10",
        "ClusterId": "flinkcloudemulator",
        "QueueName": f"root.{job.project_name}",
        "FolderId": 0,
        "Description": job.description,
        "Creator": "flinkcloud-emulator",
        "Modifier": "flinkcloud-emulator",
        "CreateTime": _ms(job.created_at),
        "ModifyTime": _ms(job.modified_at),
        "IsCommitted": job.committed,
    }


def project_record(project: Project) -> JSONObject:
    # ListProject's record is not in the contract's sources; these are the emulator's fields.
    return {
        "Id": project.name,
        "Name": project.name,
        "State": "RUNNING",
        "DeployType": "cell",
        "ClusterId": "flinkcloudemulator",
        "Region": "cn-hangzhou",
        "Description": "flinkcloud-emulator project",
        "CreateTime": _ms(project.created_at),
    }


def page(records: list[JSONObject], page_index: int, page_size: int) -> tuple[list[JSONObject], JSONObject]:
    """One page of ``records`` and the paging fields of a list reply."""
    start = (page_index - 1) * page_size
    total_page = (len(records) + page_size - 1) // page_size
    fields = {
        "PageIndex": page_index,
        "PageSize": page_size,
        "TotalPage": total_page,
        "TotalCount": len(records),
    }
    return records[start : start + page_size], fields


def snapshot(state: BlinkState, access_keys: list[str], now: float) -> JSONObject:
    return {
        "access_keys": access_keys,
        "projects": {
            name: [job_record(job) for job in project.jobs.values()]
            for name, project in state.projects.items()
        },
        "instances": [
            # Besides GetInstance's fields: what StartJob and the stop were given, for tests to check.
            {
                **instance_record(instance, now),
                "Archived": instance.archived(now),
                "ParameterJson": instance.parameters,
                "CheckpointOnStop": instance.checkpoint_on_stop,
            }
            for instance in state.instances.values()
        ],
        "pending_failures": state.failures.as_list(),
    }
