"""Create, run and stop Huawei Cloud DLI Flink jobs (also Open Telekom Cloud DLI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_flinkcloud.arguments.huawei_dli import dli_job_ids
from airflow_provider_flinkcloud.base.compat import AirflowFailException
from airflow_provider_flinkcloud.base.operators import FlinkJobStartOperator, FlinkJobStopOperator
from airflow_provider_flinkcloud.core.arguments import check_input
from airflow_provider_flinkcloud.registry import HUAWEI_DLI

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context
    from airflow_provider_flinkcloud.core.jobs import JobRef
    from airflow_provider_flinkcloud.hooks.huawei_dli import DliFlinkHook  # noqa: F401 (named in the generic base)
    from airflow_provider_flinkcloud.models.huawei_dli import DliJarJobSpec, DliSqlJobSpec, JobKind


class _DliStartOperator(FlinkJobStartOperator["DliFlinkHook"]):
    platform = HUAWEI_DLI


class _DliCreateJobOperator(_DliStartOperator):
    """Create a DLI Flink job, or update the job of the same name, then (``run=True``) run and watch it."""

    kind: ClassVar[JobKind]
    template_fields = ("job",)
    template_fields_renderers = {"job": "json"}

    def __init__(
        self,
        *,
        job: dict[str, Any] | DliJarJobSpec | DliSqlJobSpec,
        run: bool = True,
        resume_savepoint: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.run = run
        self.resume_savepoint = resume_savepoint

    def job_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "job": self.job, "resume_savepoint": self.resume_savepoint}

    def execute(self, context: Context) -> dict[str, Any]:
        if self.run:
            return super().execute(context)
        return self.define_only(context)

    def define_only(self, context: Context) -> dict[str, Any]:
        """``run=False``: make the definition current. The result says what was done to the definition
        (``definition``: created / updated / unchanged) and, apart from it, how the job's last run ended
        (``last_run``): an earlier run's state is not this task's outcome."""
        unit = self.validated_spec().units[0]
        hook = self.hook
        active = hook.find_active(unit)
        if active is None:
            ref, created = hook.upsert(unit)
        elif self.if_running == "fail":
            self.persist(context, [active])
            raise AirflowFailException(f"{hook.describe(active)} is running and if_running='fail'")
        else:
            # DLI refuses to change a running job's definition.
            self.log.warning(
                "%s is running, so its definition was left as it is; it applies from the next run "
                "only if this task runs again while the job is stopped",
                hook.describe(active),
            )
            ref, created = active, False
        self.persist(context, [ref])
        status = self.poll(ref)
        updated = active is None and not created
        definition = "created" if created else ("updated" if updated else "unchanged (the job is running)")
        self.log.info(
            "The definition of %s is current (%s); the job's last run is %s (native state %s)",
            hook.describe(ref),
            definition,
            status.state.value,
            status.native_state,
        )
        return {
            "platform": status.platform,
            **status.ref,
            "definition": definition,
            "created": created,
            "updated": updated,
            "last_run": {"state": status.state.value, "native_state": status.native_state},
            "console_url": status.console_url,
        }


class DliFlinkCreateJarJobOperator(_DliCreateJobOperator):
    """Create (or update, by name) a DLI Flink Jar job and, with ``run=True``, run it and wait.

    :param job: the body of ``POST /v1.0/{project_id}/streaming/flink-jobs`` as a dict (DLI's own
        snake_case keys: ``name``, ``queue_name``, ``entrypoint``, ``main_class``, ``cu_number``, ...) or
        a :class:`DliJarJobSpec`. Checked against DLI's documented limits before any request. A job with
        the same name is updated and reused, never duplicated.
    :param run: run the job after creating or updating it (default True); with False only the
        definition is made current.
    :param resume_savepoint: start from the job's latest savepoint.
    :param wait_for: ``"RUNNING"``, ``"SUCCESS"`` or ``None``; default SUCCESS when the job sets
        ``execution.runtime-mode`` to ``batch`` in ``runtime_config``, RUNNING otherwise.
    :param if_running: ``"reattach"`` (default), ``"fail"`` or ``"restart"`` (stop with a savepoint,
        update, run again from the savepoint) when the job is already running.

    Also ``conn_id``, ``deferrable``, ``poll_interval``, ``timeout`` and ``cancel_on_kill``. Returns
    ``{"platform", "job_id", "job_name", "state", "native_state", "console_url"}``.
    """

    kind = "jar"


class DliFlinkCreateSqlJobOperator(_DliCreateJobOperator):
    """Create (or update, by name) a DLI Flink SQL job and, with ``run=True``, run it and wait.

    :param job: the body of ``POST /v1.0/{project_id}/streaming/sql-jobs`` as a dict (``name``,
        ``sql_body``, ``queue_name``, ``run_mode``, ``job_type``, ``cu_number``, ...) or a
        :class:`DliSqlJobSpec`. The default ``wait_for`` is SUCCESS when the SQL or ``runtime_config``
        sets ``execution.runtime-mode`` to ``batch``, RUNNING otherwise.

    Otherwise as :class:`DliFlinkCreateJarJobOperator`.
    """

    kind = "sql"


class DliFlinkRunJobsOperator(_DliStartOperator):
    """Run existing DLI Flink jobs in one batch call (``/streaming/jobs/run``) and wait for all of them.

    :param job_ids: the ids of the jobs to run. A job that is already running is reattached to (or,
        with ``if_running``, refused or restarted), never run twice.
    :param resume_savepoint: start each job from its latest savepoint.
    :param wait_for: ``"RUNNING"`` (default), ``"SUCCESS"`` or ``None``. The task waits until every
        job has reached it or ended; if any job failed it fails, naming each failed job with its
        ``status_desc``.

    Returns ``{"platform": "huawei_dli", "jobs": [{"job_id", "state", "native_state", "console_url", ...}]}``.
    """

    multi_job = True
    template_fields = ("job_ids",)

    def __init__(
        self,
        *,
        job_ids: int | str | Sequence[int | str],
        resume_savepoint: bool = False,
        **kwargs: Any,
    ) -> None:
        check_input(dli_job_ids, job_ids, "job_ids")
        super().__init__(**kwargs)
        self.job_ids = job_ids
        self.resume_savepoint = resume_savepoint

    def job_spec(self) -> dict[str, Any]:
        return {"kind": "jobs", "job_ids": self.job_ids, "resume_savepoint": self.resume_savepoint}


class DliFlinkStopJobsOperator(FlinkJobStopOperator["DliFlinkHook"]):
    """Stop DLI Flink jobs in one batch call (``/streaming/jobs/stop``) and wait until they have stopped.

    :param job_ids: the ids of the jobs to stop. Jobs that are not running are reported, not errors.
    :param savepoint: take a savepoint first (DLI's ``trigger_savepoint``); a later run with
        ``resume_savepoint=True`` starts from it.

    Also ``wait`` (default True), ``poll_interval`` and ``timeout``. Returns
    ``{"platform": "huawei_dli", "jobs": [{"job_id", "stopped", "state", "native_state", ...}]}``.
    """

    platform = HUAWEI_DLI
    multi_job = True
    template_fields = ("job_ids",)

    def __init__(self, *, job_ids: int | str | Sequence[int | str], **kwargs: Any) -> None:
        check_input(dli_job_ids, job_ids, "job_ids")
        super().__init__(**kwargs)
        self.job_ids = job_ids

    def job_refs(self) -> list[JobRef]:
        ids = self.checked(dli_job_ids, self.job_ids, "job_ids")
        return [{"job_id": str(job_id)} for job_id in ids]
