"""Alibaba Cloud Realtime Compute (Blink), product ``foas`` 2018-11-11: bodies, replies and the state table.

Field names are spelled as the API spells them (PascalCase replies, camelCase request parameters), from
Alibaba's OpenAPI metadata for foas 2018-11-11 (https://api.aliyun.com/api/foas/2018-11-11/GetInstance,
.../StartJob, .../ListInstance, .../ModifyInstanceState, .../GetJob) and ``aliyun-python-sdk-foas`` 2.11.1.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from airflow_provider_flinkcloud.arguments.alibaba import blink_name
from airflow_provider_flinkcloud.core.models import FlinkCloudModel
from airflow_provider_flinkcloud.core.states import JobState, StateTable

PRODUCT = "foas"
API_VERSION = "2018-11-11"

JobType = Literal["FLINK_STREAM", "FLINK_BATCH"]
STREAM, BATCH = "FLINK_STREAM", "FLINK_BATCH"

# ActualState of an instance (GetInstance), plus UNKNOWN, which Alibaba's Java demo checks for ("no live
# instance"). TERMINATED is a stop, for stream and batch jobs alike; SUCCESS and FAILED end batch jobs and,
# the metadata's ExpectState says, a stream job can fail too.
INSTANCE_STATES = StateTable(
    "Alibaba Realtime Compute",
    {
        "UNKNOWN": JobState.UNKNOWN,
        "WAITING": JobState.PENDING,
        "RUNNING": JobState.RUNNING,
        "PAUSED": JobState.PAUSED,
        "TERMINATED": JobState.CANCELED,
        "SUCCESS": JobState.SUCCESS,
        "FAILED": JobState.FAILED,
    },
)
# Listed in the order an instance moves through them, so one that moves on between two list calls is
# seen in the second, never missed by both.
ACTIVE_ACTUAL_STATES = ("WAITING", "RUNNING", "PAUSED")
# ModifyInstanceState's target for a stop (https://api.aliyun.com/api/foas/2018-11-11/ModifyInstanceState).
STOPPED_EXPECT_STATE = "TERMINATED"


def _parameters_object(value: Any) -> dict[str, Any] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
    if not isinstance(parsed, dict):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise ValueError(f"must be a dict (or a JSON object as text), got {shown}")
    for key, item in parsed.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"keys must be non-empty text, got {key!r}")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValueError(f"{key}: must be text, a number or a boolean, got {type(item).__name__}")
    return dict(parsed)


class RealtimeComputeStartSpec(FlinkCloudModel):
    """What the start operator needs: the committed job (project and name) and StartJob's parameters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project_name: str
    job_name: str
    # StartJob's ``parameterJson``, e.g. {"startOffset": "1730103603000"} (epoch ms to read sources from)
    # or {"blink.checkpoint.interval.ms": "180000"}; sent as a JSON string.
    parameters: dict[str, Any] | None = None

    @field_validator("project_name", "job_name", mode="before")
    @classmethod
    def _name(cls, value: Any, info: Any) -> str:
        return blink_name(value, info.field_name)

    @field_validator("parameters", mode="before")
    @classmethod
    def _parameters(cls, value: Any) -> dict[str, Any] | None:
        return _parameters_object(value)

    def parameter_json(self) -> str | None:
        if self.parameters is None:
            return None
        return json.dumps(self.parameters, ensure_ascii=False, separators=(",", ":"))


class _Reply(FlinkCloudModel):
    """Platform replies: lenient, newer fields are ignored."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", coerce_numbers_to_str=True)


class BlinkInstance(_Reply):
    """``Instance`` of GetInstance and of ListInstance's ``Instances.Instance[]``."""

    id: str = Field(alias="Id")
    project_name: str | None = Field(None, alias="ProjectName")
    job_name: str | None = Field(None, alias="JobName")
    job_type: str | None = Field(None, alias="JobType")
    api_type: str | None = Field(None, alias="ApiType")
    actual_state: str | None = Field(None, alias="ActualState")
    expect_state: str | None = Field(None, alias="ExpectState")
    engine_version: str | None = Field(None, alias="EngineVersion")
    engine_job_handler: str | None = Field(None, alias="EngineJobHandler")
    cluster_id: str | None = Field(None, alias="ClusterId")
    queue_name: str | None = Field(None, alias="QueueName")
    # Epoch milliseconds; EndTime is empty while the instance runs.
    start_time: str | None = Field(None, alias="StartTime")
    end_time: str | None = Field(None, alias="EndTime")
    last_error_time: str | None = Field(None, alias="LastErrorTime")
    last_error_message: str | None = Field(None, alias="LastErrorMessage")

    @property
    def started_ms(self) -> float | None:
        text = self.start_time or ""
        return float(text) if text.isdigit() else None

    @property
    def is_stopping(self) -> bool:
        """Asked to stop (ExpectState TERMINATED) and not stopped yet: ModifyInstanceState is asynchronous."""
        return self.expect_state == STOPPED_EXPECT_STATE and self.actual_state in ACTIVE_ACTUAL_STATES


class GetInstanceResult(_Reply):
    request_id: str | None = Field(None, alias="RequestId")
    instance: BlinkInstance = Field(alias="Instance")


class ListInstanceResult(_Reply):
    request_id: str | None = Field(None, alias="RequestId")
    page_index: int = Field(1, alias="PageIndex")
    page_size: int = Field(0, alias="PageSize")
    total_page: int = Field(0, alias="TotalPage")
    total_count: int = Field(0, alias="TotalCount")
    instances: list[BlinkInstance] = Field(default_factory=list, alias="Instances")

    @field_validator("instances", mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        # The metadata's example nests the list as {"Instance": [...]} (the XML shape carried into JSON);
        # a bare list is accepted too (open question 13 of the contract).
        if isinstance(value, dict):
            return value.get("Instance") or []
        return value or []


class StartJobResult(_Reply):
    request_id: str | None = Field(None, alias="RequestId")
    # Lower-case on the wire, unlike every other field (StartJobResponseUnmarshaller.java reads it so).
    instance_id: str = Field(alias="instanceId")


class BlinkJob(_Reply):
    job_id: str | None = Field(None, alias="JobId")
    job_name: str | None = Field(None, alias="JobName")
    project_name: str | None = Field(None, alias="ProjectName")
    job_type: str | None = Field(None, alias="JobType")
    api_type: str | None = Field(None, alias="ApiType")
    is_committed: bool | None = Field(None, alias="IsCommitted")

    @model_validator(mode="after")
    def _upper_type(self) -> BlinkJob:
        # CreateJob documents jobType as case-insensitive; compare it upper-cased.
        if self.job_type:
            self.job_type = self.job_type.upper()
        return self


class GetJobResult(_Reply):
    request_id: str | None = Field(None, alias="RequestId")
    job: BlinkJob = Field(alias="Job")


class RequestIdResult(_Reply):
    """ModifyInstanceState and the other calls that answer only ``{"RequestId"}``."""

    request_id: str | None = Field(None, alias="RequestId")


class ListProjectResult(_Reply):
    request_id: str | None = Field(None, alias="RequestId")
    total_count: int = Field(0, alias="TotalCount")
