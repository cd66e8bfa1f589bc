"""Volcengine Flink hook: the job lifecycle of application instances (OpenAPI 2025-01-01).

The connection holds the access key (login), secret key (password) and, in extra, ``region``,
``project_id``, ``endpoint`` and ``security_token``. API: https://volcengine.com/docs/6581/1359414.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel

from airflow_provider_flinkcloud.arguments.volcengine import volcengine_id
from airflow_provider_flinkcloud.base.hook import FlinkCloudHook, recall_id, remember_id
from airflow_provider_flinkcloud.clients.volcengine import (
    LIST_PAGE_SIZE,
    PLATFORM,
    VolcengineFlinkClient,
    flink_root_exception,
)
from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError, JobSpecError, TransientError
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import ApiCall
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.links.volcengine import volcengine_console_url
from airflow_provider_flinkcloud.models.volcengine import (
    ACTIVE_INSTANCE_STATES,
    INSTANCE_STATES,
    InstanceRecord,
    RestoreStrategy,
    SavepointInfo,
    StartApplicationInstanceRequest,
    VolcengineFlinkStartSpec,
)
from airflow_provider_flinkcloud.registry import VOLCENGINE

log = logging.getLogger(__name__)

# Instances that started this long before a start request was sent still count as its own (clocks).
CLOCK_SKEW_SECONDS = 5.0
SAVEPOINT_DONE = frozenset({"SUCCESS", "SUCCEEDED", "COMPLETED", "COMPLETE", "FINISHED"})
SAVEPOINT_FAILED = frozenset({"FAILED", "FAIL", "ERROR", "CANCELED", "CANCELLED"})


def start_ms(record: InstanceRecord) -> float | None:
    # StartTime's format is not documented; epoch milliseconds are read, anything else is unknown.
    text = record.start_time or ""
    return float(text) if text.isdigit() else None


def started_order(record: InstanceRecord) -> tuple[float, int]:
    """Sort key of instances, oldest first: the start time, then the id (ids grow with time)."""
    started = start_ms(record)
    return (float("inf") if started is None else started, int(record.id) if record.id.isdigit() else 0)


def app_memory_key(project_id: str, unique_key: str) -> str:
    return f"volcengine/{project_id}/{unique_key}"


def instance_ref(instance_id: str, application_id: str | None, project_id: str | None) -> JobRef:
    ref = {"instance_id": instance_id}
    if application_id:
        ref["application_id"] = application_id
    if project_id:
        ref["project_id"] = project_id
    return ref


class VolcengineFlinkHook(FlinkCloudHook[VolcengineFlinkClient], platform=VOLCENGINE):
    """Talks to Volcengine Flink; the connection holds AK (login), SK (password), region and endpoint."""

    settings_class = AccessKeySettings
    client_class = VolcengineFlinkClient
    savepoint_timeout = 600.0

    # -- spec --------------------------------------------------------------------------------------

    def validate_spec(self, spec: Any) -> VolcengineFlinkStartSpec:
        data = dict(spec)
        app = data.get("app")
        if isinstance(app, BaseModel):
            app = app.model_dump(by_alias=True, exclude_none=True)
        if app is not None and not isinstance(app, dict):
            raise JobSpecError(
                f"invalid Volcengine Flink spec: App: must be a dict or model, got {type(app).__name__}"
            )
        given_project = (app or {}).get("ProjectId") or (app or {}).get("project_id")
        project_id = given_project or self.client.project_id
        if app is not None and project_id and not given_project:
            app = {**app, "ProjectId": project_id}
        restore = data.get("restore_strategy")
        if isinstance(restore, str):
            restore = {"Type": restore}
        application_id = data.get("application_id")
        if application_id is not None and application_id != "":
            try:
                application_id = volcengine_id(application_id, "application_id")
            except ValueError as exc:
                raise JobSpecError(f"invalid Volcengine Flink spec: {exc}") from None
        payload = {
            "ApplicationId": application_id,
            "App": app,
            "RestoreStrategy": restore,
            "ProjectId": project_id or "",
        }
        validated: VolcengineFlinkStartSpec = validate_model(
            VolcengineFlinkStartSpec, payload, "Volcengine Flink spec"
        )
        return validated

    def default_wait_for(self, spec: VolcengineFlinkStartSpec) -> str:
        return "SUCCESS" if spec.app is not None and spec.app.is_batch else "RUNNING"

    # -- finding and starting ----------------------------------------------------------------------

    def list_instances(self, project_id: str, application_id: str, state: str) -> Iterator[InstanceRecord]:
        """Instances of one application in one state, newest first, across pages."""
        page = 1
        while True:
            result = self.call(self.client.list_instances_call(project_id, application_id, state, page))
            yield from result.records
            if not result.records or page * LIST_PAGE_SIZE >= result.total:
                return
            page += 1

    def find_applications(self, project_id: str, job_name: str) -> list[str]:
        """Ids of the applications named exactly ``job_name`` (the API filter may match substrings)."""
        ids: list[str] = []
        page = 1
        while True:
            result = self.call(self.client.list_applications_call(project_id, job_name, page))
            ids.extend(r.id for r in result.records if r.job_name == job_name)
            if not result.records or page * 100 >= result.total:
                return ids
            page += 1

    def active_instances(self, project_id: str, application_id: str) -> list[InstanceRecord]:
        """The starting and running instances of one application, each once."""
        seen: dict[str, InstanceRecord] = {}
        for state in ACTIVE_INSTANCE_STATES:
            for record in self.list_instances(project_id, application_id, state):
                seen[record.id] = record
        return list(seen.values())

    def active_instance(self, project_id: str, application_id: str) -> JobRef | None:
        records = sorted(self.active_instances(project_id, application_id), key=started_order)
        return instance_ref(records[0].id, application_id, project_id) if records else None

    def application_of(self, unit: VolcengineFlinkStartSpec) -> str | None:
        """The AppId of the application ``unit`` names: its ``Id``, or the one its ``UniqueKey`` got.

        Volcengine identifies an application by ``UniqueKey`` (unique in the project) or ``Id``, never by
        ``JobName``, and no read call shows the key; the AppId a start returned is remembered for the key.
        """
        if unit.application_id:
            return unit.application_id
        assert unit.app is not None and unit.app.unique_key  # the spec model requires one of them
        return recall_id(app_memory_key(unit.project_id, unit.app.unique_key))

    def find_active(self, unit: VolcengineFlinkStartSpec) -> JobRef | None:
        application_id = self.application_of(unit)
        return self.active_instance(unit.project_id, application_id) if application_id else None

    def find_started(self, unit: VolcengineFlinkStartSpec, since: float) -> JobRef | None:
        found = self.find_active(unit)
        if found is not None or unit.app is None:
            return found
        # A first start of this UniqueKey: its AppId is not known yet, so look for an instance of an
        # application of this JobName that started since the request was sent.
        for application_id in self.find_applications(unit.project_id, unit.app.job_name):
            for record in self.active_instances(unit.project_id, application_id):
                started_ms = start_ms(record)
                if started_ms is None or started_ms >= (since - CLOCK_SKEW_SECONDS) * 1000:
                    return instance_ref(record.id, application_id, unit.project_id)
        return None

    def older_active(self, unit: VolcengineFlinkStartSpec, ref: JobRef) -> JobRef | None:
        # StartApplicationInstance starts another instance even while one runs, so two tasks that start
        # the same application at once make two: the older stays.
        application_id, project_id = ref.get("application_id"), ref.get("project_id") or unit.project_id
        if not application_id:
            return None
        records = sorted(self.active_instances(project_id, application_id), key=started_order)
        ours = next((r for r in records if r.id == ref["instance_id"]), None)
        older = [r for r in records if r.id != ref["instance_id"]]
        if ours is not None:
            older = [r for r in older if started_order(r) < started_order(ours)]
        return instance_ref(older[0].id, application_id, project_id) if older else None

    def start(self, unit: VolcengineFlinkStartSpec, *, restore_from: Savepoint | None = None) -> JobRef:
        restore = unit.restore_strategy
        application_id = unit.application_id
        if restore_from:
            restore = RestoreStrategy(type="FROM_SAVEPOINT", savepoint_id=restore_from["savepoint_id"])
            application_id = restore_from.get("application_id") or application_id
        request = StartApplicationInstanceRequest(id=application_id, app=unit.app, restore_strategy=restore)
        result = self.call(self.client.start_call(request))
        if unit.app is not None and unit.app.unique_key:
            remember_id(app_memory_key(unit.project_id, unit.app.unique_key), result.id)
        return instance_ref(result.instance_id, result.id, unit.project_id)

    # -- watching and stopping ---------------------------------------------------------------------

    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        return self.client.get_instance_call(ref["instance_id"]).then(self.status_of, ref)

    def status_of(self, ref: JobRef, record: InstanceRecord) -> JobStatus:
        full = instance_ref(
            record.id or ref["instance_id"],
            record.job_id or ref.get("application_id"),
            record.project_id or ref.get("project_id"),
        )
        return JobStatus(
            platform=self.platform_name,
            ref=full,
            state=INSTANCE_STATES(record.state),
            native_state=record.state or "",
            console_url=volcengine_console_url(self.link_params([full])),
            details={"rest_url": record.complete_rest_url or record.rest_url or ""},
        )

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        return self.client.cancel_instance_call(ref["instance_id"])

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        taken = self.take_savepoint(ref) if savepoint else None
        self.cancel(ref)
        return taken

    def list_savepoints(self, application_id: str) -> list[SavepointInfo]:
        return self.call(self.client.list_savepoints_call(application_id)).savepoint_infos

    def take_savepoint(self, ref: JobRef) -> Savepoint:
        application_id = ref.get("application_id")
        if not application_id:
            application_id = self.call(self.client.get_instance_call(ref["instance_id"])).job_id or ""
        # A unique description finds our savepoint again, whatever CreateGWSSavepoint returns as ids.
        description = f"airflow-flinkcloud stop of instance {ref['instance_id']} at {int(time.time() * 1000)}"
        try:
            self.call(self.client.create_savepoint_call(application_id, description))
        except TransientError:
            if not any(s.description == description for s in self.list_savepoints(application_id)):
                raise
        deadline = time.time() + self.savepoint_timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        while True:
            mine = [s for s in self.list_savepoints(application_id) if s.description == description]
            status = (mine[0].status or "").upper() if mine else ""
            if mine and status in SAVEPOINT_DONE and mine[0].savepoint_id:
                log.info("Savepoint %s taken: %s", mine[0].savepoint_id, mine[0].savepoint_path)
                return {
                    "application_id": application_id,
                    "savepoint_id": mine[0].savepoint_id,
                    "savepoint_path": mine[0].savepoint_path or "",
                }
            if status in SAVEPOINT_FAILED or time.time() >= deadline:
                raise self._savepoint_error(application_id, status)
            time.sleep(1.0)

    def _savepoint_error(self, application_id: str, status: str) -> FlinkCloudApiError:
        if status in SAVEPOINT_FAILED:
            message = f"savepoint of application {application_id} ended {status}; job not stopped"
        else:
            message = (
                f"savepoint of application {application_id} did not complete in "
                f"{self.savepoint_timeout:.0f}s; the job was not stopped"
            )
        return FlinkCloudApiError(
            platform=PLATFORM,
            operation="CreateGWSSavepoint",
            code=status if status in SAVEPOINT_FAILED else "Timeout",
            message=message,
        )

    def failure_text(self, status: JobStatus) -> str:
        # GetApplicationInstance carries no error field; the instance's Flink REST endpoint has the cause.
        rest_url = str(status.details.get("rest_url") or "")
        text = flink_root_exception(rest_url) if rest_url else None
        return (
            text
            or status.error
            or f"Volcengine reports no error text for this instance (state {status.native_state})"
        )

    def describe(self, ref: JobRef) -> str:
        app = f" of application {ref['application_id']}" if ref.get("application_id") else ""
        return f"{PLATFORM} instance {ref['instance_id']}{app}"

    def link_params(self, refs: Sequence[JobRef]) -> dict[str, str]:
        return {"region": self.client.region, **refs[0]}
