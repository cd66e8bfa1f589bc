"""Dinky hook: submit a Dinky task, watch its job instance, savepoint and cancel it.

The connection holds host / port / schema and either an API token (password with no login, or extra
``token``) or a login (login + password). OpenAPI: https://www.dinky.org.cn/docs/next/openapi/openapi_overview.

Per hook, once: ``GET /openapi/version`` tells 1.x from 0.7 (which has no such endpoint) and so the
token name; a configured token is checked against ``/api/tokenInfo`` (``/openapi`` itself runs a bad
token silently as the admin user); a configured login logs in, and logs in again only when the server
says the token is no longer valid. Nothing logs in unasked: a login replaces that user's browser session.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from airflow_provider_flinkcloud.base.compat import mask_secret
from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
from airflow_provider_flinkcloud.clients.dinky import (
    LEGACY_VERSION,
    PLATFORM,
    DinkyClient,
    DinkySettings,
    InstanceReply,
)
from airflow_provider_flinkcloud.core.errors import (
    AuthError,
    FlinkCloudApiError,
    InvalidRequestError,
    JobSpecError,
    NotFoundError,
)
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiResponse, T
from airflow_provider_flinkcloud.core.validation import validate_model
from airflow_provider_flinkcloud.links.dinky import dinky_console_url
from airflow_provider_flinkcloud.models.dinky import (
    ACTIVE_STATUSES,
    DINKY_STATES,
    DONE_STATUSES,
    DinkyJobInstance,
    DinkySubmitSpec,
    parse_dinky_time,
)
from airflow_provider_flinkcloud.registry import DINKY

# How far below its own id a new instance looks for one of the same task started at the same moment
# (instance ids are one sequence over all tasks, so a busy server interleaves other tasks' ids).
RACE_SCAN_IDS = 64
UNKNOWN_TEXT = (
    "Dinky reports UNKNOWN: it lost track of the Flink job (the cluster was unreachable, the job was "
    "force-cancelled, or its cluster record is gone) and will not refresh it again; check the job in "
    "Flink before submitting the task again (extra fail_on_unknown=false waits instead)"
)
SessionSteps = Generator[ApiCall[Any], Any, None]


def _next_step(steps: SessionSteps, result: Any, error: FlinkCloudApiError | None) -> ApiCall[Any] | None:
    """Resume the session's steps with the last call's result (or its error); the next call, or None."""
    try:
        return steps.throw(error) if error is not None else steps.send(result)
    except StopIteration:
        return None


def seconds_between(earlier: str | None, later: str | None) -> float | None:
    """Seconds from one Dinky time to another (both the server's clock and zone), None when unknown."""
    start, end = parse_dinky_time(earlier), parse_dinky_time(later)
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


class DinkyHook(FlinkCloudHook[DinkyClient], platform=DINKY):
    """Talks to a Dinky server; the connection holds host / port / schema and a token or a login."""

    settings_class = DinkySettings
    client_class = DinkyClient

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self._token_checked = False
        # Per task: the newest instance id seen before this hook submitted (a later one is its own).
        self._newest_before: dict[int, int] = {}
        # Per instance this hook submitted: whether Dinky says the task is a batch task.
        self._batch: dict[str, bool | None] = {}

    # -- the session: version, token, login ------------------------------------------------------------

    def _session_steps(self) -> SessionSteps:
        """The calls that open the session, written once for the worker and the triggerer: each
        ``yield`` sends one call and resumes with its result (or its error, thrown in)."""
        client = self.client
        if client.server_version is None:
            try:
                version = yield client.version_call()
            except NotFoundError:
                # Spring's 404: no /openapi/version, so a 0.x (dlink) server.
                version = LEGACY_VERSION
            client.server_version = str(version or "1")
            self.log.info(
                "Dinky at %s is version %s; the token goes in %r",
                client.base_url,
                client.server_version,
                client.token_name,
            )
        if client.settings.login and client.session_token is None:
            token = yield client.login_call()
            mask_secret(token)
            client.session_token = token
            self.log.info("Logged in to Dinky as %s", client.settings.login)
        elif client.settings.api_token and not self._token_checked and not client.legacy:
            yield client.token_info_call()
            self._token_checked = True

    def _drive(self, steps: SessionSteps) -> None:
        api_call = _next_step(steps, None, None)
        while api_call is not None:
            try:
                result, error = super().call(api_call), None
            except FlinkCloudApiError as exc:
                result, error = None, exc
            api_call = _next_step(steps, result, error)

    async def _adrive(self, steps: SessionSteps) -> None:
        api_call = _next_step(steps, None, None)
        while api_call is not None:
            try:
                result, error = await super().acall(api_call), None
            except FlinkCloudApiError as exc:
                result, error = None, exc
            api_call = _next_step(steps, result, error)

    def open_session(self) -> None:
        self._drive(self._session_steps())

    def _may_log_in_again(self, error: AuthError) -> bool:
        """A login token that the server no longer takes (expired, replaced) is dropped for a new login."""
        if not (self.client.settings.login and self.client.session_token):
            return False
        self.log.warning("Dinky refused the login token (%s); logging in again", error)
        self.client.session_token = None
        return True

    def call(self, api_call: ApiCall[T]) -> T:
        self.open_session()
        try:
            return super().call(api_call)
        except AuthError as exc:
            if not self._may_log_in_again(exc):
                raise
        self.open_session()
        return super().call(api_call)

    async def acall(self, api_call: ApiCall[T]) -> T:
        await self.async_client()
        await self._adrive(self._session_steps())
        try:
            return await super().acall(api_call)
        except AuthError as exc:
            if not self._may_log_in_again(exc):
                raise
        await self._adrive(self._session_steps())
        return await super().acall(api_call)

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.open_session()
        except (FlinkCloudApiError, JobSpecError) as exc:
            return False, str(exc).replace(f"connection {self.conn_id!r}: ", "")
        client = self.client
        if client.settings.login:
            how = f"logged in as {client.settings.login}"
        elif client.settings.api_token:
            how = "API token accepted" if not client.legacy else "API token sent (0.7 cannot check it)"
        else:
            how = "no token: Dinky runs OpenAPI calls as its admin user"
        return True, f"Connection to Dinky {client.server_version} at {client.base_url} succeeded ({how})"

    # -- spec ------------------------------------------------------------------------------------------

    def validate_spec(self, spec: Any) -> DinkySubmitSpec:
        validated: DinkySubmitSpec = validate_model(DinkySubmitSpec, spec, "Dinky submit")
        return validated

    def default_wait_for(self, spec: DinkySubmitSpec) -> str:
        # Dinky tells the task's type only in the submit's reply (jobConfig.batchModel), see
        # ``wait_for_started``; before it, RUNNING.
        return "RUNNING"

    def wait_for_started(self, ref: JobRef) -> str:
        """SUCCESS when Dinky said, submitting it, that the task is a batch task; else RUNNING."""
        return "SUCCESS" if self._batch.get(ref["job_instance_id"]) else "RUNNING"

    # -- finding and submitting ----------------------------------------------------------------------

    def _ref(self, instance: DinkyJobInstance, task_id: int | str | None = None) -> JobRef:
        ref = {
            "dinky_task_id": str(instance.task_id if instance.task_id is not None else task_id),
            "job_instance_id": str(instance.id),
            "jid": instance.jid or "",
        }
        if self.client.legacy and instance.job_manager_address:
            # 0.7 cancels and savepoints by Flink job id and JobManager address.
            ref["job_manager_address"] = instance.job_manager_address
        return ref

    def newest(self, dinky_task_id: int) -> InstanceReply | None:
        return self.call(self.client.newest_instance_call(dinky_task_id))

    def newest_ref(self, dinky_task_id: int) -> JobRef | None:
        """The ids of the task's newest job instance, if it ever ran."""
        reply = self.newest(dinky_task_id)
        return self._ref(reply.instance, dinky_task_id) if reply is not None else None

    def find_active(self, unit: DinkySubmitSpec) -> JobRef | None:
        # submitTask has no "already running" check: the newest instance decides.
        reply = self.newest(unit.dinky_task_id)
        self._newest_before[unit.dinky_task_id] = reply.instance.id if reply is not None else 0
        if reply is None:
            return None
        status = self.instance_status(reply, self._ref(reply.instance, unit.dinky_task_id))
        return status.ref if self.is_active(status) else None

    def start(self, unit: DinkySubmitSpec, *, restore_from: Savepoint | None = None) -> JobRef:
        self.open_session()  # the call's shape depends on the server version
        savepoint_path = (restore_from or {}).get("savepoint_path")
        result = self.call(self.client.submit_task_call(unit, savepoint_path))
        if result.job_instance_id is None:
            raise FlinkCloudApiError(
                platform=PLATFORM,
                operation="submitTask",
                code="no jobInstanceId",
                message=f"Dinky accepted the submit but named no job instance (status {result.status})",
            )
        ref = {
            "dinky_task_id": str(unit.dinky_task_id),
            "job_instance_id": str(result.job_instance_id),
            "jid": result.job_id or "",
        }
        if self.client.legacy and result.job_manager_address:
            ref["job_manager_address"] = result.job_manager_address
        self._batch[ref["job_instance_id"]] = result.batch_model
        return ref

    def find_started(self, unit: DinkySubmitSpec, since: float) -> JobRef | None:
        """After a submit whose reply was lost: an instance newer than the newest seen before it."""
        reply = self.newest(unit.dinky_task_id)
        if reply is None:
            return None
        before = self._newest_before.get(unit.dinky_task_id)
        if before is None:
            status = self.instance_status(reply, self._ref(reply.instance, unit.dinky_task_id))
            return status.ref if self.is_active(status) else None
        return self._ref(reply.instance, unit.dinky_task_id) if reply.instance.id > before else None

    def older_active(self, unit: DinkySubmitSpec, ref: JobRef) -> JobRef | None:
        """Another task's submit of the same Dinky task at the same moment made an instance just below
        ours: the older stays. Dinky lists only a task's newest instance, so look at the ids between
        the newest seen before the submit and ours."""
        own = int(ref["job_instance_id"])
        low = max(self._newest_before.get(unit.dinky_task_id, 0), own - RACE_SCAN_IDS)
        for instance_id in range(low + 1, own):
            try:
                reply = self.call(self.client.job_instance_call(instance_id))
            except FlinkCloudApiError:
                continue  # another task's instance in another tenant, or gone
            if reply.instance.task_id != unit.dinky_task_id:
                continue
            status = self.instance_status(reply, self._ref(reply.instance, unit.dinky_task_id))
            if self.is_active(status):
                return status.ref
        return None

    # -- watching ----------------------------------------------------------------------------------

    def instance_status(self, reply: InstanceReply, ref: JobRef) -> JobStatus:
        """The normalised status of a job instance.

        FAILED is final only once it has held ``failed_hold_seconds`` (default 60): Dinky keeps it "in
        transition" for a minute after ``finishTime`` because a streaming job with a restart strategy
        goes FAILED -> RUNNING (JobRefreshHandler). The hold is measured on the server's own clock
        (``Result.time`` minus ``finishTime``), so it needs no state and reads the same in the worker
        and the triggerer. UNKNOWN fails the task unless ``fail_on_unknown`` is false: Dinky never
        refreshes such an instance again, so waiting would only run into the timeout.
        """
        instance = reply.instance
        native = instance.status or ""
        state = DINKY_STATES(native)
        error = (instance.error or "").strip() or None
        details: dict[str, Any] = {}
        settings = self.client.settings
        if native == "FAILED":
            held = seconds_between(instance.finish_time, reply.server_time)
            if held is not None and held < settings.failed_hold_seconds:
                state = JobState.UNKNOWN
                details = {"in_transition": True, "failed_for_seconds": held}
        elif native == "UNKNOWN" and settings.fail_on_unknown:
            state, error = JobState.FAILED, error or UNKNOWN_TEXT
        return JobStatus(
            platform=self.platform_name,
            ref=dict(ref),
            state=state,
            native_state=native,
            console_url=dinky_console_url(self.link_params([ref])),
            error=error,
            details=details,
        )

    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        return self.client.job_instance_call(ref["job_instance_id"]).then(self.status_of, ref)

    def status_of(self, ref: JobRef, reply: InstanceReply) -> JobStatus:
        return self.instance_status(reply, {**ref, **self._ref(reply.instance, ref.get("dinky_task_id"))})

    def is_active(self, status: JobStatus) -> bool:
        return status.native_state in ACTIVE_STATUSES or bool(status.details.get("in_transition"))

    def is_stopped(self, status: JobStatus) -> bool:
        return status.native_state in DONE_STATUSES

    # -- stopping ----------------------------------------------------------------------------------

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        if self.client.server_version is None:
            self.open_session()
        inner = self.client.cancel_call(
            ref["dinky_task_id"], jid=ref.get("jid"), address=ref.get("job_manager_address")
        )

        def parse(response: ApiResponse) -> bool:
            if not inner.parse(response):
                raise InvalidRequestError(
                    platform=PLATFORM,
                    operation="cancel",
                    http_status=response.status,
                    code="data=false",
                    message=f"Dinky could not cancel {self.describe(ref)} (Flink's REST cancel failed)",
                )
            return True

        return ApiCall(inner.request, parse)

    def cancel(self, ref: JobRef) -> None:
        """Dinky 1.x cancels the task's job instance, not a given one: refuse when it is another."""
        if not self.client.legacy:
            newest = self.newest_ref(int(ref["dinky_task_id"]))
            if newest is not None and newest["job_instance_id"] != ref["job_instance_id"]:
                raise InvalidRequestError(
                    platform=PLATFORM,
                    operation="cancel",
                    code="not the newest instance",
                    message=(
                        f"Dinky cancels only a task's newest job instance; {self.describe(ref)} is not it "
                        f"(instance {newest['job_instance_id']} is), so it was left alone"
                    ),
                )
        super().cancel(ref)

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        if not savepoint:
            self.cancel(ref)
            return None
        # One call stops the job with a savepoint and names its path, which the next submit
        # resumes from (cancel?withSavePoint=true answers only true, and falls back to a plain cancel).
        path = self.savepoint(ref, "cancel")
        return {"savepoint_path": path} if path else None

    def savepoint(self, ref: JobRef, savepoint_type: str = "trigger") -> str | None:
        """Take a savepoint of the job (``trigger``; ``stop`` / ``cancel`` also end it); its path."""
        self.open_session()
        result = self.call(
            self.client.savepoint_call(
                ref["dinky_task_id"],
                savepoint_type,
                jid=ref.get("jid"),
                address=ref.get("job_manager_address"),
            )
        )
        if result.success is False:
            raise InvalidRequestError(
                platform=PLATFORM,
                operation="savepoint",
                code="success=false",
                message=f"the savepoint of {self.describe(ref)} failed: "
                f"{result.exception_msg or result.error or 'no reason given'}",
            )
        return result.path

    def failure_text(self, status: JobStatus) -> str:
        return status.error or f"Dinky gave no error text (status {status.native_state})"

    def describe(self, ref: JobRef) -> str:
        return f"Dinky task {ref.get('dinky_task_id', '?')} job instance {ref.get('job_instance_id', '?')}"

    def link_params(self, refs: Sequence[JobRef]) -> dict[str, str]:
        params = {"base_url": self.client.base_url}
        if self.client.legacy:
            params["ui"] = "0.7"
        if len(refs) == 1 and refs[0].get("job_instance_id"):
            params["job_instance_id"] = refs[0]["job_instance_id"]
        return params
