"""Alibaba Cloud Realtime Compute for Apache Flink hook: deployments and their jobs (ververica 2022-07-18).

The connection holds the AccessKey ID (login), AccessKey secret (password) and, in extra, ``region``,
``workspace`` (required), ``namespace`` (the default), ``endpoint`` and ``security_token``.
API: https://www.alibabacloud.com/help/en/flink/developer-reference/api-ververica-2022-07-18-overview.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from airflow_provider_flinkcloud.arguments.alibaba_flink import STOP_STRATEGIES, namespace_name, ververica_id
from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
from airflow_provider_flinkcloud.clients.alibaba_flink import (
    LIST_PAGE_SIZE,
    PLATFORM,
    AlibabaFlinkClient,
    AlibabaFlinkSettings,
)
from airflow_provider_flinkcloud.core.errors import (
    FlinkCloudApiError,
    JobFailedError,
    JobSpecError,
    NotFoundError,
    StartUnconfirmedError,
    took_no_effect,
)
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.transport import ApiCall
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.links.alibaba_flink import alibaba_flink_console_url
from airflow_provider_flinkcloud.models.alibaba_flink import (
    ACTIVE_JOB_STATES,
    JOB_STATES,
    AlibabaFlinkDeployment,
    DeploymentRecord,
    JobRecord,
    RestoreStrategy,
    SavepointRecord,
)
from airflow_provider_flinkcloud.registry import ALIBABA_FLINK

log = logging.getLogger(__name__)

SAVEPOINT_DONE = "COMPLETED"
SAVEPOINT_FAILED = "FAILED"


@dataclass(frozen=True)
class DeploymentUnit:
    """The deployment a task starts: a definition to create or update, or an existing one by id or name."""

    namespace: str
    definition: AlibabaFlinkDeployment | None = None
    deployment_id: str | None = None
    deployment_name: str | None = None
    restore: RestoreStrategy = field(default_factory=RestoreStrategy)

    @property
    def name(self) -> str | None:
        return self.definition.name if self.definition is not None else self.deployment_name


def job_ref(namespace: str, job: JobRecord, deployment_name: str | None = None) -> JobRef:
    ref = {"job_id": job.job_id, "namespace": namespace}
    if job.deployment_id:
        ref["deployment_id"] = job.deployment_id
    name = job.deployment_name or deployment_name
    if name:
        ref["deployment_name"] = name
    return ref


def started_order(job: JobRecord) -> tuple[float, str]:
    """Jobs oldest first: their start time (epoch seconds), then the id."""
    return (float("inf") if job.start_time is None else float(job.start_time), job.job_id)


def created_order(deployment: DeploymentRecord) -> tuple[float, str]:
    created = str(deployment.created_at or "")
    return (float(created) if created.isdigit() else float("inf"), deployment.deployment_id)


class AlibabaFlinkHook(FlinkCloudHook[AlibabaFlinkClient], platform=ALIBABA_FLINK):
    """Talks to fully managed Flink; the connection holds AK, secret, region, workspace and namespace.

    ``stop_strategy`` is what :meth:`stop` asks StopJob for when a savepoint is wanted
    (``STOP_WITH_SAVEPOINT`` by default, or ``STOP_WITH_DRAIN``).
    """

    #: After creating a deployment, how long to wait before the second look for one of the same name
    #: created in the same second (``createdAt`` is in whole seconds).
    create_settle_seconds: ClassVar[float] = 1.5

    settings_class = AlibabaFlinkSettings
    client_class = AlibabaFlinkClient
    savepoint_timeout = 600.0

    def __init__(self, conn_id: str | None = None, stop_strategy: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.stop_strategy = stop_strategy
        # Execution mode per deployment id, for the console link (stream or batch page).
        self._modes: dict[str, str] = {}

    # -- spec ----------------------------------------------------------------------------------------

    def namespace_of(self, given: Any) -> str:
        """The task's namespace, else the connection's; checked before any request."""
        value = given if given not in (None, "") else self.client.namespace
        if value in (None, ""):
            raise JobSpecError(
                "namespace: give it on the task or as the connection's extra namespace (default-namespace)"
            )
        try:
            return namespace_name(value)
        except ValueError as exc:
            raise JobSpecError(str(exc)) from None

    def validate_spec(self, spec: Any) -> DeploymentUnit:
        data = dict(spec)
        what = "Alibaba Flink deployment"
        namespace = self.namespace_of(data.get("namespace"))
        restore = data.get("restore_strategy")
        if isinstance(restore, str):
            restore = {"kind": restore.strip().upper()}
        restore_model: RestoreStrategy = validate_model(RestoreStrategy, restore or {}, "restore_strategy")
        definition = data.get("deployment")
        if definition is not None:
            if not isinstance(definition, dict | BaseModel):
                raise JobSpecError(
                    f"invalid {what}: deployment: must be a dict or model, got {type(definition).__name__}"
                )
            model: AlibabaFlinkDeployment = validate_model(AlibabaFlinkDeployment, definition, what)
            return DeploymentUnit(namespace, definition=model, restore=restore_model)
        deployment_id, name = data.get("deployment_id"), data.get("deployment_name")
        if bool(deployment_id) == bool(name):
            raise JobSpecError("deployment_id / deployment_name: give exactly one of them")
        try:
            checked_id = ververica_id(deployment_id, "deployment_id") if deployment_id else None
        except ValueError as exc:
            raise JobSpecError(str(exc)) from None
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise JobSpecError(f"deployment_name: must be a deployment's name, got {name!r}")
        return DeploymentUnit(
            namespace,
            deployment_id=checked_id,
            deployment_name=name.strip() if name else None,
            restore=restore_model,
        )

    def default_wait_for(self, spec: DeploymentUnit) -> str:
        if spec.definition is not None:
            return "SUCCESS" if spec.definition.is_batch else "RUNNING"
        # Only the deployment knows whether it is bounded: one read-only call, after validation.
        deployment = self.deployment_of(spec)
        return "SUCCESS" if deployment is not None and deployment.execution_mode == "BATCH" else "RUNNING"

    # -- deployments ---------------------------------------------------------------------------------

    def deployments_named(self, namespace: str, name: str) -> list[DeploymentRecord]:
        """Deployments named exactly ``name``: ListDeployments' ``name`` filter is not documented as exact."""
        found: list[DeploymentRecord] = []
        page = 1
        while True:
            result = self.call(self.client.list_deployments_call(namespace, name=name, page=page))
            found.extend(d for d in result.data if d.name == name)
            if not result.data or page * LIST_PAGE_SIZE >= result.total_size:
                return sorted(found, key=created_order)
            page += 1

    def _only_one(self, namespace: str, name: str) -> DeploymentRecord | None:
        found = self.deployments_named(namespace, name)
        if len(found) > 1:
            ids = ", ".join(d.deployment_id for d in found)
            raise JobSpecError(
                f"namespace {namespace} has {len(found)} deployments named {name!r} ({ids}); this operator "
                "keeps one deployment per name, so delete or rename the others"
            )
        return found[0] if found else None

    def deployment_of(self, unit: DeploymentUnit) -> DeploymentRecord | None:
        deployment: DeploymentRecord | None
        if unit.deployment_id is not None:
            deployment = self.call(self.client.get_deployment_call(unit.namespace, unit.deployment_id))
        elif unit.name is not None:
            deployment = self._only_one(unit.namespace, unit.name)
            if deployment is None and unit.definition is None:
                raise JobSpecError(
                    f"deployment_name: namespace {unit.namespace} has no deployment named {unit.name!r}"
                )
        else:
            return None
        if deployment is not None:
            self.remember_mode(deployment)
        return deployment

    def remember_mode(self, deployment: DeploymentRecord) -> None:
        """Keep the execution mode for the console link (a deployment's stream or batch page)."""
        if deployment.execution_mode:
            self._modes[deployment.deployment_id] = deployment.execution_mode

    def upsert(self, unit: DeploymentUnit) -> tuple[DeploymentRecord, bool]:
        """Create the deployment, or update the one of the same name; returns (it, created)."""
        assert unit.definition is not None
        body = unit.definition.body()
        existing = self._only_one(unit.namespace, unit.definition.name)
        if existing is None:
            created = self.one_named(unit.namespace, unit.definition.name, self.create(unit.namespace, body))
            log.info("Created deployment %s (%s)", created.name, created.deployment_id)
            self.remember_mode(created)
            return created, True
        updated = self.call(self.client.update_deployment_call(unit.namespace, existing.deployment_id, body))
        self.remember_mode(updated)
        log.info(
            "Updated deployment %s (%s) with the given definition", existing.name, existing.deployment_id
        )
        return updated, False

    def create(self, namespace: str, body: dict[str, Any]) -> DeploymentRecord:
        """Create once. A create with no clear answer (or refused, perhaps because another task made the
        name at the same moment) is looked for by name, never sent again on a guess."""
        name = str(body["name"])
        try:
            return self.call(self.client.create_deployment_call(namespace, body))
        except FlinkCloudApiError as exc:
            if took_no_effect(exc):
                found = self.deployments_named(namespace, name)
                if found:
                    log.warning("The create was refused (%s), but deployment %s exists: using it", exc, name)
                    return found[0]
                raise
            give_up = time.time() + self.client.settings.wait.start_confirm_seconds
            while True:
                found = self.deployments_named(namespace, name)
                if found:
                    log.warning("The create request got no clear answer (%s), but the deployment exists", exc)
                    return found[0]
                if time.time() >= give_up:
                    raise StartUnconfirmedError(
                        f"could not confirm whether deployment {name!r} was created ({exc}); a retry looks "
                        "again before creating"
                    ) from exc
                time.sleep(1.0)

    def one_named(self, namespace: str, name: str, ours: DeploymentRecord) -> DeploymentRecord:
        """Right after creating: another task may have created the same name at the same moment. The oldest
        stays and ours is deleted, so that the name keeps naming one deployment."""
        found = self.deployments_named(namespace, name) or [ours]
        if found[0].deployment_id == ours.deployment_id:
            # ``createdAt`` has one-second resolution: a create of the same name in the same second ties,
            # and the tie goes to the smaller id, which this first look may not show yet. Once that second
            # has passed every such create is visible, so both tasks then see both and agree on the winner.
            time.sleep(self.create_settle_seconds)
            found = self.deployments_named(namespace, name) or [ours]
        oldest = found[0]
        if oldest.deployment_id != ours.deployment_id:
            log.warning(
                "Another task created deployment %s (%s) at the same moment: deleting %s, made by this task",
                name,
                oldest.deployment_id,
                ours.deployment_id,
            )
            with contextlib.suppress(NotFoundError):  # the other task's check removed it already
                self.call(self.client.delete_deployment_call(namespace, ours.deployment_id))
        return oldest

    # -- jobs ----------------------------------------------------------------------------------------

    def jobs_of(self, namespace: str, deployment_id: str) -> Iterator[JobRecord]:
        page = 1
        while True:
            result = self.call(self.client.list_jobs_call(namespace, deployment_id, page))
            yield from result.data
            if not result.data or page * LIST_PAGE_SIZE >= result.total_size:
                return
            page += 1

    def active_jobs(self, namespace: str, deployment_id: str) -> list[JobRecord]:
        active = [
            job for job in self.jobs_of(namespace, deployment_id) if job.current_status in ACTIVE_JOB_STATES
        ]
        return sorted(active, key=started_order)

    def find_active(self, unit: DeploymentUnit) -> JobRef | None:
        deployment = self.deployment_of(unit)
        if deployment is None:
            return None
        active = self.active_jobs(unit.namespace, deployment.deployment_id)
        return job_ref(unit.namespace, active[0], deployment.name) if active else None

    def older_active(self, unit: DeploymentUnit, ref: JobRef) -> JobRef | None:
        # Should the platform accept a second start while a job runs, the older job stays.
        active = self.active_jobs(unit.namespace, ref["deployment_id"])
        ours = next((job for job in active if job.job_id == ref["job_id"]), None)
        older = [
            j
            for j in active
            if j.job_id != ref["job_id"] and (ours is None or started_order(j) < started_order(ours))
        ]
        return job_ref(unit.namespace, older[0], ref.get("deployment_name")) if older else None

    def start(self, unit: DeploymentUnit, *, restore_from: Savepoint | None = None) -> JobRef:
        if unit.definition is not None:
            deployment, _created = self.upsert(unit)
        else:
            deployment = self.deployment_of(unit)  # type: ignore[assignment]
            assert deployment is not None
        self.remember_mode(deployment)
        restore = unit.restore.body()
        if restore_from:
            restore = {
                "kind": "FROM_SAVEPOINT",
                "savepointId": self.savepoint_of_stop(restore_from).savepoint_id,
            }
        body = {"deploymentId": deployment.deployment_id, "localVariables": [], "restoreStrategy": restore}
        job = self.call(self.client.start_job_call(unit.namespace, body))
        return job_ref(unit.namespace, job, deployment.name)

    def savepoint_of_stop(self, stopped: Savepoint) -> SavepointRecord:
        """The completed savepoint a stop with a savepoint took (a restart restores from it)."""
        namespace, deployment_id, job_id = stopped["namespace"], stopped["deployment_id"], stopped["job_id"]
        deadline = time.time() + self.savepoint_timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        while True:
            savepoints = self.call(self.client.list_savepoints_call(namespace, deployment_id, job_id)).data
            states = [s.status.state for s in savepoints]
            done = [s for s in savepoints if s.status.state == SAVEPOINT_DONE]
            if done:
                log.info(
                    "Savepoint %s of job %s: %s", done[0].savepoint_id, job_id, done[0].savepoint_location
                )
                return done[0]
            if (savepoints and all(state == SAVEPOINT_FAILED for state in states)) or time.time() >= deadline:
                raise JobFailedError(
                    f"the stop of job {job_id} left no completed savepoint (savepoint states: "
                    f"{', '.join(str(s) for s in states) or 'none'}); not restarting without its state"
                )
            time.sleep(1.0)

    # -- watching and stopping -----------------------------------------------------------------------

    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        # The namespace is resolved once, here, not again on every poll's reply.
        if not ref.get("namespace"):
            ref = {**ref, "namespace": self.namespace_of(None)}
        return self.client.get_job_call(ref["namespace"], ref["job_id"]).then(self.status_of, ref)

    def status_of(self, ref: JobRef, job: JobRecord) -> JobStatus:
        full = job_ref(ref["namespace"], job, ref.get("deployment_name"))
        if job.execution_mode and job.deployment_id:
            self._modes[job.deployment_id] = job.execution_mode
        return JobStatus(
            platform=self.platform_name,
            ref=full,
            state=JOB_STATES(job.current_status),
            native_state=job.current_status or "",
            console_url=alibaba_flink_console_url(self.link_params([full])),
            error=job.failure_message() if job.current_status == "FAILED" else None,
        )

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        return self.client.stop_job_call(
            ref.get("namespace") or self.namespace_of(None), ref["job_id"], "NONE"
        )

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        strategy = (self.stop_strategy or "STOP_WITH_SAVEPOINT") if savepoint else "NONE"
        if strategy not in STOP_STRATEGIES:
            raise JobSpecError(
                f"stop_strategy: must be one of {', '.join(STOP_STRATEGIES)}, got {strategy!r}"
            )
        namespace = ref.get("namespace") or self.namespace_of(None)
        try:
            self.call(self.client.stop_job_call(namespace, ref["job_id"], strategy))
        except FlinkCloudApiError as exc:
            self.confirm_stopping([ref], exc)
        if strategy == "NONE":
            return None
        return {
            "namespace": namespace,
            "deployment_id": ref.get("deployment_id", ""),
            "job_id": ref["job_id"],
            "stop_strategy": strategy,
        }

    def failure_text(self, status: JobStatus) -> str:
        return status.error or f"{PLATFORM} gave no status.failure.message (status {status.native_state})"

    def describe(self, ref: JobRef) -> str:
        deployment = ref.get("deployment_name") or ref.get("deployment_id")
        of = f" of deployment {deployment}" if deployment else ""
        return f"Alibaba Flink job {ref['job_id']}{of}"

    def link_params(self, refs: Sequence[JobRef]) -> dict[str, str]:
        ref = refs[0]
        params = {
            "region": self.client.region,
            "workspace": self.client.workspace or "",
            "namespace": ref.get("namespace") or self.client.namespace or "",
            **{key: ref[key] for key in ("deployment_id", "job_id") if ref.get(key)},
        }
        mode = self._modes.get(ref.get("deployment_id", ""))
        if mode:
            params["execution_mode"] = mode
        return params
