"""Huawei Cloud DLI Flink job bodies, spelled as the platform spells them (snake_case)."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from airflow_provider_flinkcloud.arguments.huawei_dli import dli_job_ids
from airflow_provider_flinkcloud.core.models import FlinkCloudModel
from airflow_provider_flinkcloud.core.states import JobState, StateTable

# The 14 statuses of huaweicloudsdkdli 3.1.219 (flink_job.py) and the Open Telekom Cloud API reference
# (https://docs.otc.t-systems.com/data-lake-insight/api-ref/, "Querying the Flink job list"). DLI has no
# job_success / job_failed / job_canceled.
DLI_STATES = StateTable(
    "Huawei Cloud DLI",
    {
        # Never run, or back to draft after a stop; after a run request it is about to submit.
        "job_init": JobState.PENDING,
        "job_submitting": JobState.PENDING,
        "job_downloading": JobState.PENDING,
        "job_arrearage_recovering": JobState.PENDING,
        "job_running": JobState.RUNNING,
        # A savepoint is taken while the job runs on.
        "job_savepointing": JobState.RUNNING,
        # The stop failed: the job is most likely still running.
        "job_cancel_fail": JobState.RUNNING,
        "job_canceling": JobState.STOPPING,
        "job_cancel_success": JobState.CANCELED,
        "job_finish": JobState.SUCCESS,
        "job_submit_fail": JobState.FAILED,
        "job_running_exception": JobState.FAILED,
        "job_arrearage_stopped": JobState.FAILED,
        # Documented without a meaning; neither running nor over.
        "job_idle": JobState.UNKNOWN,
    },
)
# What can be reattached to or stopped (job_canceling is already stopping).
ACTIVE_STATUSES = frozenset(
    {
        "job_submitting",
        "job_downloading",
        "job_running",
        "job_savepointing",
        "job_cancel_fail",
        "job_idle",
        "job_arrearage_recovering",
    }
)
# Where a stop ends: DLI goes back to job_init or to job_cancel_success (TF waits for either).
STOPPED_STATUSES = frozenset(
    {
        "job_init",
        "job_cancel_success",
        "job_finish",
        "job_submit_fail",
        "job_running_exception",
        "job_arrearage_stopped",
    }
)

JobKind = Literal["jar", "sql"]

# A project id is up to 64 letters and digits (Huawei Cloud's are 32 hex characters).
PROJECT_ID = re.compile(r"[A-Za-z0-9]{1,64}")


_BATCH_MODE = re.compile(
    r"""execution\.runtime-mode['"]?\s*(?:=|:|['"]?\s*,\s*['"]value['"]\s*:)\s*['"]?batch""", re.I
)


def declares_batch_mode(*texts: str | None) -> bool:
    """Whether a job sets Flink's ``execution.runtime-mode`` to ``batch`` (a bounded job that finishes)."""
    return any(text and _BATCH_MODE.search(text) for text in texts)


def is_true(value: Any) -> bool:
    """DLI sends ``is_success`` as a boolean or as the string "true"/"false"."""
    return str(value).strip().lower() == "true"


class Tag(FlinkCloudModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(min_length=1, max_length=128)
    value: str = Field(min_length=1, max_length=255)


class ResourceSpec(FlinkCloudModel):
    model_config = ConfigDict(extra="forbid")

    cpu: float | None = Field(default=None, ge=0.5)
    memory: str | None = None


class ResourceConfig(FlinkCloudModel):
    model_config = ConfigDict(extra="forbid")

    max_slot: int | None = Field(default=None, ge=1)
    parallel_number: int | None = Field(default=None, ge=1)
    jobmanager_resource_spec: ResourceSpec | None = None
    taskmanager_resource_spec: ResourceSpec | None = None


class _DliJobSpec(FlinkCloudModel):
    """Fields both job kinds share, with the documented limits. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=57)
    desc: str | None = Field(default=None, max_length=512)
    queue_name: str | None = Field(default=None, min_length=1, max_length=128)
    cu_number: int | None = Field(default=None, ge=2, le=400)
    manager_cu_number: int | None = Field(default=None, ge=1)
    parallel_number: int | None = Field(default=None, ge=1, le=2000)
    tm_cus: int | None = Field(default=None, ge=1)
    tm_slot_num: int | None = Field(default=None, ge=1)
    checkpoint_enabled: bool | None = None
    checkpoint_mode: Literal[1, 2] | None = None
    checkpoint_interval: int | None = Field(default=None, ge=1, le=3600)
    log_enabled: bool | None = None
    obs_bucket: str | None = None
    smn_topic: str | None = None
    restart_when_exception: bool | None = None
    resume_checkpoint: bool | None = None
    resume_max_num: int | None = None
    runtime_config: str | None = None
    execution_agency_urn: str | None = None
    tags: list[Tag] | None = None
    resource_config_version: Literal["v1", "v2"] | None = None
    resource_config: ResourceConfig | None = None
    flink_version: str | None = None
    flink_log_config: str | None = None

    @field_validator("checkpoint_mode", mode="before")
    @classmethod
    def _checkpoint_mode_by_name(cls, value: Any) -> Any:
        # Job details spell the mode as a name; create and update take its number.
        names = {"exactly_once": 1, "at_least_once": 2}
        return names.get(value, value) if isinstance(value, str) else value

    @field_validator("runtime_config", "flink_log_config", mode="before")
    @classmethod
    def _structured_as_json_string(cls, value: Any) -> Any:
        # DLI takes these as strings; terraform sends runtime_config as a JSON [{key, value}] array.
        if isinstance(value, dict) and value and "key" not in value:
            value = [{"key": k, "value": str(v)} for k, v in value.items()]
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False)
        return value

    @field_validator("resume_max_num")
    @classmethod
    def _resume_max_num(cls, value: int | None) -> int | None:
        if value is not None and value != -1 and value <= 0:
            raise ValueError("must be -1 (unlimited) or greater than 0")
        return value

    @model_validator(mode="after")
    def _shared_rules(self) -> _DliJobSpec:
        if self.log_enabled and not self.obs_bucket:
            raise ValueError("obs_bucket: required when log_enabled is true (DLI writes the logs there)")
        if self.resource_config and self.resource_config_version != "v2":
            raise ValueError('resource_config: used only with resource_config_version "v2"')
        if self.resource_config_version != "v2" and self.cu_number is not None:
            manager = self.manager_cu_number or 1
            if self.cu_number <= manager:
                raise ValueError(
                    f"cu_number: must exceed manager_cu_number ({manager}) to leave CUs for TaskManagers"
                )
        return self

    @property
    def is_batch(self) -> bool:
        return declares_batch_mode(self.runtime_config)

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class DliJarJobSpec(_DliJobSpec):
    """Body of ``POST /v1.0/{project_id}/streaming/flink-jobs`` (and of its update)."""

    main_class: str | None = None
    entrypoint: str | None = None
    entrypoint_args: str | None = None
    dependency_jars: list[str] | None = None
    dependency_files: list[str] | None = None
    checkpoint_path: str | None = None
    feature: Literal["basic", "custom"] | None = None
    image: str | None = None

    @model_validator(mode="after")
    def _jar_rules(self) -> DliJarJobSpec:
        if not self.entrypoint:
            raise ValueError("entrypoint: required (the job's JAR, e.g. obs://bucket/job.jar)")
        if self.feature == "custom" and not self.image:
            raise ValueError('image: required when feature is "custom"')
        return self


class DliSqlJobSpec(_DliJobSpec):
    """Body of ``POST /v1.0/{project_id}/streaming/sql-jobs`` (and of its update)."""

    sql_body: str | None = Field(default=None, max_length=1024 * 1024)
    template_id: int | None = None
    run_mode: Literal["shared_cluster", "exclusive_cluster", "edge_node"] | None = None
    job_type: Literal["flink_sql_job", "flink_opensource_sql_job"] | None = None
    idle_state_retention: int | None = Field(default=None, ge=1)
    edge_group_ids: list[str] | None = None
    dirty_data_strategy: str | None = Field(default=None, pattern=r"^(0|1|2:.+)$")
    udf_jar_url: str | None = None

    @model_validator(mode="after")
    def _sql_rules(self) -> DliSqlJobSpec:
        if not self.sql_body and self.template_id is None:
            raise ValueError("sql_body: required (or template_id of a template that holds the SQL)")
        if self.run_mode == "shared_cluster" and self.job_type == "flink_opensource_sql_job":
            raise ValueError('job_type: "flink_opensource_sql_job" cannot run on a shared_cluster')
        if self.resource_config_version != "v2" and self.parallel_number and self.cu_number:
            limit = 4 * (self.cu_number - (self.manager_cu_number or 1))
            if self.parallel_number > limit:
                raise ValueError(f"parallel_number: at most 4 x (cu_number - manager_cu_number) = {limit}")
        return self

    @property
    def is_batch(self) -> bool:
        return declares_batch_mode(self.runtime_config, self.sql_body)


class DliRunJobsSpec(FlinkCloudModel):
    """What ``DliFlinkRunJobsOperator`` runs: existing job ids, in one batch call."""

    model_config = ConfigDict(extra="forbid")

    job_ids: list[int] = Field(min_length=1)
    resume_savepoint: bool = False

    @field_validator("job_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> list[int]:
        return dli_job_ids(value)


# -- replies -------------------------------------------------------------------------------------


class _Reply(FlinkCloudModel):
    """Platform replies: lenient, newer fields are ignored; many fields arrive as null."""

    model_config = ConfigDict(extra="ignore")


class DliJob(_Reply):
    """A ``FlinkJob`` from show (``job_detail``) or list (``job_list.jobs``)."""

    job_id: int
    name: str | None = None
    job_type: str | None = None
    status: str | None = None
    status_desc: str | None = None
    queue_name: str | None = None
    sql_body: str | None = None
    has_savepoint: bool | None = None
    savepoint_path: str | None = None
    create_time: int | None = None
    start_time: int | None = None
    job_config: dict[str, Any] | None = None


class DliCreatedJob(_Reply):
    job_id: int
    status_name: str | None = None
    status_desc: str | None = None


class DliJobList(_Reply):
    total_count: int = 0
    jobs: list[DliJob] = Field(default_factory=list)


class DliBatchResult(_Reply):
    """One element of the top-level array that batch run / stop answer with, one per job id."""

    is_success: Any = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return is_true(self.is_success)
