"""Dinky OpenAPI bodies, spelled as Dinky spells them (camelCase), and the job-instance state table.

Sources (DataLinkDC/dinky, https://github.com/DataLinkDC/dinky): ``org.dinky.data.result.Result``
(1.x wrapper: ``data``, ``code``, ``msg``, ``time``, ``success``; 0.7 ``com.dlink.common.result.Result``
has ``datas`` and no ``success``), ``org.dinky.job.JobResult``, ``org.dinky.data.model.job.JobInstance``,
``org.dinky.gateway.result.SavePointResult`` and ``org.dinky.data.enums.JobStatus``; the OpenAPI is
documented at https://www.dinky.org.cn/docs/next/openapi/openapi_overview.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from airflow_provider_flinkcloud.arguments.dinky import dinky_id
from airflow_provider_flinkcloud.core.models import FlinkCloudModel
from airflow_provider_flinkcloud.core.states import JobState, StateTable

# Every value of JobStatus (dinky-common/.../enums/JobStatus.java, the same set in 0.7.5, 1.0, 1.1 and
# 1.2). Dinky writes them from the Flink REST API (JobRefreshHandler), plus RECONNECTING and UNKNOWN of
# its own.
DINKY_STATES = StateTable(
    "Dinky",
    {
        # Dinky's first value for a new instance, then Flink's own.
        "INITIALIZING": JobState.PENDING,
        "CREATED": JobState.PENDING,
        "RUNNING": JobState.RUNNING,
        # A full restart after a failure, or state recovery after a JobManager failover: not running
        # yet, but on its way back.
        "RESTARTING": JobState.PENDING,
        "RECONCILING": JobState.PENDING,
        # Failed and cleaning up: it ends FAILED or restarts.
        "FAILING": JobState.STOPPING,
        "CANCELLING": JobState.STOPPING,
        # Stopped but kept in the HA store; Flink has no path from here to an end without HA.
        "SUSPENDED": JobState.PAUSED,
        "FINISHED": JobState.SUCCESS,
        "CANCELED": JobState.CANCELED,
        # FAILED is final only once it has held (see ``judge_instance``); Dinky itself keeps it "in
        # transition" for a minute, since a job with a restart strategy goes FAILED -> RUNNING.
        "FAILED": JobState.FAILED,
        # Dinky cannot reach the Flink REST API and retries; within a minute it recovers or turns UNKNOWN.
        "RECONNECTING": JobState.UNKNOWN,
        # Dinky lost track of the job (a forced cancel, a cluster record gone): it never refreshes it
        # again (``JobStatus.isDone()``). Failed by default, see ``judge_instance``.
        "UNKNOWN": JobState.UNKNOWN,
    },
)
# Statuses of an instance that may still run a Flink job: something to reattach to or to stop.
ACTIVE_STATUSES = frozenset(
    {
        "INITIALIZING",
        "CREATED",
        "RUNNING",
        "RESTARTING",
        "RECONCILING",
        "FAILING",
        "SUSPENDED",
        "RECONNECTING",
    }
)
# Statuses Dinky never changes again by itself (``JobStatus.getAllDoneStatus()``).
DONE_STATUSES = frozenset({"FINISHED", "CANCELED", "FAILED", "UNKNOWN"})

# Result.code (org.dinky.data.enums.CodeEnum; 0.7 com.dlink.common.result.CodeEnum adds 401 NOTLOGIN).
CODE_SUCCESS = 0
CODE_NAMES = {
    0: "SUCCESS",
    1: "ERROR",
    5: "EXCEPTION",
    6: "PARAMS_ERROR",
    7: "AUTHORIZE_ERROR",
    401: "NOTLOGIN",
}

# Result.time and the JobInstance times: hutool DateTime / @JsonFormat "yyyy-MM-dd HH:mm:ss", in the
# server's time zone (both come from the same clock, so their difference is exact).
DINKY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_dinky_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip()[:19], DINKY_TIME_FORMAT)
    except ValueError:
        return None


class DinkyResult(FlinkCloudModel):
    """The wrapper of every reply: 1.x ``data`` + ``success``; 0.7 ``datas`` and no ``success``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    code: int | None = None
    msg: str | None = None
    time: str | None = None
    success: bool | None = None
    data: Any = None
    datas: Any = None

    @property
    def payload(self) -> Any:
        return self.data if self.data is not None else self.datas

    @property
    def ok(self) -> bool:
        # success is code == 0 in 1.x (Result.succeed); 0.7 has only the code.
        if self.success is not None:
            return bool(self.success) and self.code in (None, CODE_SUCCESS)
        return self.code == CODE_SUCCESS


class DinkyJobResult(FlinkCloudModel):
    """``JobResult``: what submitTask / restartTask return. ``jobConfig`` is kept opaque but for
    ``batchModel``, which says whether the task is a batch (bounded) job."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: int | None = None
    job_config: dict[str, Any] | None = Field(default=None, alias="jobConfig")
    job_manager_address: str | None = Field(default=None, alias="jobManagerAddress")
    # Job.JobStatus: INITIALIZE, RUNNING, SUCCESS, FAILED, CANCEL (the submit itself, not the Flink job).
    status: str | None = None
    success: bool | None = None
    statement: str | None = None
    job_id: str | None = Field(default=None, alias="jobId")
    job_instance_id: int | None = Field(default=None, alias="jobInstanceId")
    error: str | None = None
    start_time: str | None = Field(default=None, alias="startTime")
    end_time: str | None = Field(default=None, alias="endTime")

    @property
    def batch_model(self) -> bool | None:
        value = (self.job_config or {}).get("batchModel")
        return value if isinstance(value, bool) else None


class DinkyJobInstance(FlinkCloudModel):
    """``JobInstance`` (table ``dinky_job_instance``); 0.7 adds ``type``, ``clusterAlias`` and
    ``jobManagerAddress``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: int
    tenant_id: int | None = Field(default=None, alias="tenantId")
    name: str | None = None
    task_id: int | None = Field(default=None, alias="taskId")
    step: int | None = None
    cluster_id: int | None = Field(default=None, alias="clusterId")
    jid: str | None = None
    status: str | None = None
    history_id: int | None = Field(default=None, alias="historyId")
    error: str | None = None
    create_time: str | None = Field(default=None, alias="createTime")
    update_time: str | None = Field(default=None, alias="updateTime")
    finish_time: str | None = Field(default=None, alias="finishTime")
    duration: int | None = None
    failed_restart_count: int | None = Field(default=None, alias="failedRestartCount")
    job_manager_address: str | None = Field(default=None, alias="jobManagerAddress")


class DinkySavepointJobInfo(FlinkCloudModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    job_id: str | None = Field(default=None, alias="jobId")
    save_point: str | None = Field(default=None, alias="savePoint")
    status: str | None = None


class DinkySavepointResult(FlinkCloudModel):
    """``SavePointResult``: the gateway's answer to a savepoint, with one entry per Flink job."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str | None = None
    success: bool | None = None
    exception_msg: str | None = Field(default=None, alias="exceptionMsg")
    error: str | None = None
    job_infos: list[DinkySavepointJobInfo] | None = Field(default=None, alias="jobInfos")

    @property
    def path(self) -> str | None:
        return next((info.save_point for info in self.job_infos or () if info.save_point), None)


class DinkySubmitSpec(FlinkCloudModel):
    """What a submit names: the Dinky task (``TaskSubmitDto.id``), its variables and a savepoint path."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dinky_task_id: int
    # TaskSubmitDto.variables is a Map<String, String>; they take priority over global variables.
    variables: dict[str, str] = Field(default_factory=dict)
    savepoint_path: str | None = Field(default=None, min_length=1)

    @field_validator("dinky_task_id", mode="before")
    @classmethod
    def _task_id(cls, value: Any) -> int:
        return dinky_id(value, "dinky_task_id")

    @field_validator("variables", mode="before")
    @classmethod
    def _variables(cls, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"must be a dict of variable names to values, got {type(value).__name__}")
        variables: dict[str, str] = {}
        for name, item in value.items():
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"variable names must be non-empty text, got {name!r}")
            if isinstance(item, dict | list | tuple | set) or item is None:
                raise ValueError(f"{name}: a variable value is text or a number, got {item!r}")
            # Dinky substitutes the text; a number or a boolean is sent as Java would print it.
            variables[name] = str(item).lower() if isinstance(item, bool) else str(item)
        return variables

    def body(self, savepoint_path: str | None = None) -> dict[str, Any]:
        """The ``TaskSubmitDto`` of ``POST /openapi/submitTask``."""
        body: dict[str, Any] = {"id": self.dinky_task_id, "variables": dict(self.variables)}
        path = savepoint_path or self.savepoint_path
        if path:
            body["savePointPath"] = path
        return body
