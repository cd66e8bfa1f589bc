"""Alibaba Cloud Realtime Compute for Apache Flink (``ververica`` 2022-07-18) bodies and the state table.

Field names are the API's camelCase wire names (``alibabacloud-ververica20220718`` 1.14.0 ``to_map()``);
snake_case is accepted too. API reference:
https://www.alibabacloud.com/help/en/flink/developer-reference/api-ververica-2022-07-18-overview.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from airflow_provider_flinkcloud.arguments.alibaba_flink import ververica_id
from airflow_provider_flinkcloud.core.models import FlinkCloudModel
from airflow_provider_flinkcloud.core.states import JobState, StateTable

# JobStatus.currentJobStatus (GetJob, https://help.aliyun.com/document_detail/453528.html).
JOB_STATES = StateTable(
    "Alibaba Cloud Realtime Compute for Apache Flink",
    {
        "STARTING": JobState.PENDING,
        "RUNNING": JobState.RUNNING,
        "CANCELLING": JobState.STOPPING,
        "CANCELLED": JobState.CANCELED,
        "FAILED": JobState.FAILED,
        # The end of a bounded (BATCH) job.
        "FINISHED": JobState.SUCCESS,
    },
)
# A job of a deployment that can be reattached to or stopped.
ACTIVE_JOB_STATES = frozenset({"STARTING", "RUNNING"})

ExecutionMode = Literal["STREAMING", "BATCH"]
ArtifactKind = Literal["SQLSCRIPT", "JAR", "PYTHON", "CDCYAML"]
RestoreKind = Literal["NONE", "LATEST_SAVEPOINT", "FROM_SAVEPOINT", "LATEST_STATE"]
StopStrategy = Literal["NONE", "STOP_WITH_SAVEPOINT", "STOP_WITH_DRAIN"]
RESTORE_KINDS: tuple[str, ...] = ("NONE", "LATEST_SAVEPOINT", "FROM_SAVEPOINT", "LATEST_STATE")


class _Spec(FlinkCloudModel):
    """User-given bodies: unknown keys are refused so that a typo names itself."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    def body(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class _Reply(FlinkCloudModel):
    """Platform replies: lenient, newer fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SqlArtifact(_Spec):
    sql_script: str = Field(min_length=1)
    additional_dependencies: list[str] | None = None


class JarArtifact(_Spec):
    jar_uri: str = Field(min_length=1)
    entry_class: str | None = None
    main_args: str | None = None
    additional_dependencies: list[str] | None = None


class PythonArtifact(_Spec):
    python_artifact_uri: str = Field(min_length=1)
    entry_module: str | None = None
    main_args: str | None = None
    additional_dependencies: list[str] | None = None
    additional_python_libraries: list[str] | None = None
    additional_python_archives: list[str] | None = None


class CdcYamlArtifact(_Spec):
    cdc_yaml: str = Field(min_length=1)


# The part of the artifact each kind reads, by attribute name (the wire name is its camelCase).
_ARTIFACT_PARTS = {
    "SQLSCRIPT": "sql_artifact",
    "JAR": "jar_artifact",
    "PYTHON": "python_artifact",
    "CDCYAML": "cdc_yaml_artifact",
}


class Artifact(_Spec):
    """``kind`` names the one part that must be given (CreateDeployment: no artifact, no deployment)."""

    kind: ArtifactKind
    sql_artifact: SqlArtifact | None = None
    jar_artifact: JarArtifact | None = None
    python_artifact: PythonArtifact | None = None
    cdc_yaml_artifact: CdcYamlArtifact | None = None

    @model_validator(mode="after")
    def _part_of_kind(self) -> Artifact:
        given = {to_camel(part) for part in _ARTIFACT_PARTS.values() if getattr(self, part) is not None}
        wanted = to_camel(_ARTIFACT_PARTS[self.kind])
        if wanted not in given:
            raise ValueError(f"{wanted}: required for artifact kind {self.kind}")
        if given - {wanted}:
            others = ", ".join(sorted(given - {wanted}))
            raise ValueError(f"{others}: not allowed with artifact kind {self.kind}")
        return self


class DeploymentTarget(_Spec):
    # PER_JOB in the API metadata's enum; SESSION in Alibaba's Terraform provider.
    mode: Literal["PER_JOB", "SESSION"] = "PER_JOB"
    name: str = Field(min_length=1, description="the resource queue, e.g. default-queue")


class ResourceSpec(_Spec):
    cpu: float = Field(gt=0)
    memory: str = Field(min_length=1, description="e.g. 4 GiB")


class BasicResourceSetting(_Spec):
    parallelism: int | None = Field(default=None, ge=1)
    jobmanager_resource_setting_spec: ResourceSpec | None = None
    taskmanager_resource_setting_spec: ResourceSpec | None = None


class ExpertResourceSetting(_Spec):
    jobmanager_resource_setting_spec: ResourceSpec | None = None
    resource_plan: str | None = None


class StreamingResourceSetting(_Spec):
    resource_setting_mode: Literal["BASIC", "EXPERT"] = "BASIC"
    basic_resource_setting: BasicResourceSetting | None = None
    expert_resource_setting: ExpertResourceSetting | None = None

    @model_validator(mode="after")
    def _setting_of_mode(self) -> StreamingResourceSetting:
        if self.resource_setting_mode == "BASIC" and self.basic_resource_setting is None:
            raise ValueError("basicResourceSetting: required with resourceSettingMode BASIC")
        if self.resource_setting_mode == "EXPERT" and self.expert_resource_setting is None:
            raise ValueError("expertResourceSetting: required with resourceSettingMode EXPERT")
        return self


class BatchResourceSetting(_Spec):
    max_slot: int | None = Field(default=None, ge=1)
    basic_resource_setting: BasicResourceSetting | None = None


class LocalVariable(_Spec):
    name: str = Field(min_length=1)
    value: str


class AlibabaFlinkDeployment(_Spec):
    """The body of CreateDeployment / UpdateDeployment (the ``Deployment`` model), as the user gives it.

    Required as CreateDeployment documents: ``name``, ``artifact``, ``executionMode``,
    ``deploymentTarget``, and the resource setting of the execution mode
    (``streamingResourceSetting`` for STREAMING, ``batchResourceSetting`` for BATCH).
    """

    name: str = Field(min_length=1, max_length=255)
    execution_mode: ExecutionMode
    artifact: Artifact
    deployment_target: DeploymentTarget
    engine_version: str | None = None
    streaming_resource_setting: StreamingResourceSetting | None = None
    batch_resource_setting: BatchResourceSetting | None = None
    flink_conf: dict[str, Any] | None = None
    logging: dict[str, Any] | None = None
    labels: dict[str, Any] | None = None
    local_variables: list[LocalVariable] = Field(default_factory=list)
    description: str | None = None

    @model_validator(mode="after")
    def _resources_of_mode(self) -> AlibabaFlinkDeployment:
        if self.execution_mode == "STREAMING" and self.streaming_resource_setting is None:
            raise ValueError("streamingResourceSetting: required for executionMode STREAMING")
        if self.execution_mode == "BATCH" and self.batch_resource_setting is None:
            raise ValueError("batchResourceSetting: required for executionMode BATCH")
        return self

    @property
    def is_batch(self) -> bool:
        return self.execution_mode == "BATCH"

    def body(self) -> dict[str, Any]:
        # The SDK always sends localVariables, [] when unset.
        return {**super().body(), "localVariables": [v.body() for v in self.local_variables]}


class RestoreStrategy(_Spec):
    """DeploymentRestoreStrategy: how a start restores state."""

    kind: RestoreKind = "NONE"
    savepoint_id: str | None = None
    allow_non_restored_state: bool | None = None
    job_start_time_in_ms: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _savepoint_of_kind(self) -> RestoreStrategy:
        if self.kind == "FROM_SAVEPOINT" and not self.savepoint_id:
            raise ValueError("savepointId: required for restore kind FROM_SAVEPOINT")
        if self.kind != "FROM_SAVEPOINT" and self.savepoint_id:
            raise ValueError(f"savepointId: only with restore kind FROM_SAVEPOINT, not {self.kind}")
        if self.savepoint_id:
            ververica_id(self.savepoint_id, "savepointId")
        return self


# -- replies ------------------------------------------------------------------------------------------


class DeploymentRecord(_Reply):
    deployment_id: str
    name: str = ""
    namespace: str | None = None
    execution_mode: str | None = None
    created_at: str | int | None = None


class DeploymentPage(_Reply):
    data: list[DeploymentRecord] = Field(default_factory=list)
    total_size: int = 0


class JobFailure(_Reply):
    message: str | None = None
    reason: str | None = None
    failed_at: int | None = None


class JobStatusBody(_Reply):
    current_job_status: str | None = None
    failure: JobFailure | None = None


class JobRecord(_Reply):
    job_id: str
    deployment_id: str | None = None
    deployment_name: str | None = None
    namespace: str | None = None
    execution_mode: str | None = None
    status: JobStatusBody = Field(default_factory=JobStatusBody)
    start_time: int | None = None

    @property
    def current_status(self) -> str | None:
        return self.status.current_job_status

    def failure_message(self) -> str | None:
        # The StartJobWithParams example fills ``failure`` with empty strings on a RUNNING job: only a
        # FAILED job's text counts.
        failure = self.status.failure
        return failure.message or failure.reason if failure is not None else None


class JobPage(_Reply):
    data: list[JobRecord] = Field(default_factory=list)
    total_size: int = 0


class SavepointStatus(_Reply):
    state: str | None = None
    failure: JobFailure | None = None


class SavepointRecord(_Reply):
    savepoint_id: str
    deployment_id: str | None = None
    job_id: str | None = None
    savepoint_origin: str | None = None
    savepoint_location: str | None = None
    status: SavepointStatus = Field(default_factory=SavepointStatus)
    created_at: int | None = None


class SavepointPage(_Reply):
    data: list[SavepointRecord] = Field(default_factory=list)
    total_size: int = 0
