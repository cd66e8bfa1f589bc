"""Volcengine Flink 2025-01-01 bodies, spelled as the platform spells them (PascalCase aliases)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_pascal

from airflow_provider_flinkcloud.core.models import FlinkCloudModel
from airflow_provider_flinkcloud.core.states import JobState, StateTable

API_VERSION = "2025-01-01"
SERVICE = "flink"

JobType = Literal["FLINK_STREAMING_JAR", "FLINK_STREAMING_SQL", "FLINK_BATCH_SQL", "FLINK_BATCH_JAR"]
EngineVersion = Literal["FLINK_VERSION_1_11", "FLINK_VERSION_1_16", "FLINK_VERSION_1_17"]
RestoreType = Literal["FROM_NEW", "FROM_LATEST", "FROM_SAVEPOINT"]
InstanceStateName = Literal["STARTING", "RUNNING", "CANCELLING", "SUCCEEDED", "FAILED", "STOPPED", "UNKNOWN"]

# Instance states of https://volcengine.com/docs/6581/1359416 (ListApplicationInstance State), plus
# CREATED, which application records carry before any start.
INSTANCE_STATES = StateTable(
    "Volcengine Flink",
    {
        "CREATED": JobState.PENDING,
        "STARTING": JobState.PENDING,
        "RUNNING": JobState.RUNNING,
        "CANCELLING": JobState.STOPPING,
        "SUCCEEDED": JobState.SUCCESS,
        "FAILED": JobState.FAILED,
        "STOPPED": JobState.CANCELED,
        "UNKNOWN": JobState.UNKNOWN,
    },
)
# Listed in the order an instance moves through them: one that turns RUNNING between the two list
# calls is still seen (in the second), never missed by both.
ACTIVE_INSTANCE_STATES: tuple[InstanceStateName, ...] = ("STARTING", "RUNNING")


class _Spec(FlinkCloudModel):
    """User-given bodies: unknown keys are rejected so a typo names itself."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        extra="forbid",
        coerce_numbers_to_str=True,
        str_strip_whitespace=True,
    )

    def body(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class _Reply(FlinkCloudModel):
    """Platform replies: lenient, newer fields are ignored."""

    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="ignore", coerce_numbers_to_str=True
    )


class DeployRequest(_Spec):
    queue: str | None = None
    priority: str | None = None
    resource_pool: str | None = None
    schedule_policy: Literal["GANG", "DRF"] | None = None
    schedule_timeout: str | None = None
    namespace: str | None = None


class Dependency(_Spec):
    jars: list[str] | None = None
    py_libraries: list[str] | None = None


class VolcengineFlinkApp(_Spec):
    """The ``App`` object of StartApplicationInstance."""

    job_type: JobType
    job_name: str = Field(min_length=1)
    project_id: str | None = None
    unique_key: str | None = None
    account_id: str | None = None
    user_id: str | None = None
    deploy_request: DeployRequest | None = None
    engine_version: EngineVersion | None = None
    jar: str | None = None
    main_class: str | None = None
    args: str | None = None
    sql_text: str | None = None
    dependency: Dependency | None = None
    conf: str | None = None

    @field_validator("conf", mode="before")
    @classmethod
    def _conf_as_json_string(cls, value: Any) -> Any:
        # The SDK types Conf as a JSON string while the doc example shows an object; send the string.
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return value
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise ValueError(f"must be a JSON object or a JSON string of one, got {shown}")

    @model_validator(mode="after")
    def _code_matches_job_type(self) -> VolcengineFlinkApp:
        if self.job_type.endswith("_SQL"):
            if not self.sql_text:
                raise ValueError(f"SqlText: required for {self.job_type} jobs")
            if self.jar or self.main_class:
                name = "Jar" if self.jar else "MainClass"
                raise ValueError(f"{name}: not used by {self.job_type} jobs (SQL jobs take SqlText)")
        elif not self.jar:
            raise ValueError(f"Jar: required for {self.job_type} jobs")
        return self

    @property
    def is_batch(self) -> bool:
        return self.job_type.startswith("FLINK_BATCH")


class RestoreStrategy(_Spec):
    type: RestoreType = "FROM_NEW"
    savepoint_id: str | None = None

    @model_validator(mode="after")
    def _savepoint_needs_id(self) -> RestoreStrategy:
        if self.type == "FROM_SAVEPOINT" and not self.savepoint_id:
            raise ValueError("SavepointId: required when Type is FROM_SAVEPOINT")
        return self


class StartApplicationInstanceRequest(_Spec):
    id: str | None = None
    restore_strategy: RestoreStrategy | None = None
    app: VolcengineFlinkApp | None = None


class StartApplicationInstanceResult(_Reply):
    id: str
    instance_id: str
    success: bool | None = None


class InstanceRecord(_Reply):
    id: str
    state: str | None = None
    job_id: str | None = None
    job_name: str | None = None
    job_type: str | None = None
    project_id: str | None = None
    application_id: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    rest_url: str | None = None
    complete_rest_url: str | None = None


class ListApplicationInstanceResult(_Reply):
    total: int = 0
    size: int | None = None
    current: int | None = None
    records: list[InstanceRecord] = Field(default_factory=list)


class CancelApplicationInstanceResult(_Reply):
    instance_id: str | None = None
    success: bool | None = None
    id: str | None = None


class ApplicationRecord(_Reply):
    id: str
    job_name: str | None = None
    job_type: str | None = None
    project_id: str | None = None
    state: str | None = None


class ListGWSApplicationResult(_Reply):
    total: int = 0
    records: list[ApplicationRecord] = Field(default_factory=list)


class CreateGWSSavepointResult(_Reply):
    id: str | None = None
    success: bool | None = None
    instance_id: str | None = None


class SavepointInfo(_Reply):
    id: str | None = None
    savepoint_id: str | None = None
    savepoint_path: str | None = None
    status: str | None = None
    create_type: str | None = None
    description: str | None = None
    create_time: str | None = None


class ListGWSSavepointResult(_Reply):
    savepoint_infos: list[SavepointInfo] = Field(default_factory=list)


class VolcengineFlinkStartSpec(_Spec):
    """What the start operator needs: the application (``Id`` or ``App.UniqueKey``), ``App``, the restore.

    ``project_id`` is filled from ``App.ProjectId`` or the connection; the reattach lookups need it.
    """

    application_id: str | None = None
    app: VolcengineFlinkApp | None = None
    restore_strategy: RestoreStrategy | None = None
    project_id: str = Field(min_length=1)

    @model_validator(mode="after")
    def _identifies_application(self) -> VolcengineFlinkStartSpec:
        if not self.application_id and not (self.app and self.app.unique_key):
            raise ValueError(
                "application_id / App.UniqueKey: a first start needs App.UniqueKey (unique in the project); "
                "later starts may give application_id instead"
            )
        return self
