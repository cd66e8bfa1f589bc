"""The modelled DLI Flink job operations
(https://github.com/opentelekomcloud-docs/data-lake-insight/tree/main/api-ref/source/flink_job-related_apis).

Each operation takes the route's path parameters (``project_id``, ``job_id``) and answers in full.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from airflow_provider_flinkcloud.emulator.huawei_dli.responses import invalid, ms, render, respond
from airflow_provider_flinkcloud.emulator.huawei_dli.state import (
    ACTIVE_STATUSES,
    JOB_STATUSES,
    STOPPABLE_STATUSES,
    DliState,
    Job,
)
from airflow_provider_flinkcloud.emulator.huawei_dli.validation import (
    JAR_FIELDS,
    JOB_TYPES,
    SQL_FIELDS,
    batch_body,
    normalise_body,
    object_body,
    query_bool,
    query_int,
    tag_filter,
)
from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ApiResponse, JSONObject

Operation = Callable[[DliState, ApiRequest, Mapping[str, str]], ApiResponse]

RUN_DELIVERED_MESSAGE = "The request for submitting DLI jobs is delivered successfully."
STOP_DELIVERED_MESSAGE = "The request for stopping DLI jobs is successfully delivered."
# The documented example response of DeleteFlinkJob (same sources as delete_job).
DELETED_MESSAGE = "The job is deleted successfully."


# -- create / update ------------------------------------------------------------------------------


def _create(state: DliState, request: ApiRequest, project_id: str, *, sql: bool) -> Job:
    spec = normalise_body(object_body(request), SQL_FIELDS if sql else JAR_FIELDS, creating=True)
    job_type = spec.pop("job_type", "flink_opensource_sql_job") if sql else "flink_jar_job"
    return state.create(project_id, job_type, spec)


def _created(job: Job) -> JSONObject:
    return {"job_id": job.id, "status_name": "job_init", "status_desc": ""}


def create_sql_job(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    job = _create(state, request, params["project_id"], sql=True)
    # The Open Telekom Cloud example for SQL sends is_success as a string, the Jar one as a boolean
    # (https://github.com/opentelekomcloud-docs/data-lake-insight/blob/main/api-ref/source/flink_job-related_apis/creating_a_sql_job.rst,
    # .../creating_a_flink_jar_job.rst).
    return respond(
        {"is_success": "true", "message": "A DLI job is created successfully.", "job": _created(job)}
    )


def create_jar_job(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    job = _create(state, request, params["project_id"], sql=False)
    return respond(
        {"is_success": True, "message": "A Flink job is created successfully.", "job": _created(job)}
    )


def _update(state: DliState, request: ApiRequest, params: Mapping[str, str], *, sql: bool) -> ApiResponse:
    job = state.job(params["project_id"], params["job_id"])
    body = object_body(request)
    if not sql:
        # The Jar update body's job_type names the kind of job, not a property to change.
        body = {name: value for name, value in body.items() if name != "job_type"}
    spec = normalise_body(body, SQL_FIELDS if sql else JAR_FIELDS, creating=False)
    # A SQL job's type is fixed at creation; the update body has no job_type either.
    spec.pop("job_type", None)
    if sql != job.is_sql:
        kind, path = ("SQL", "sql-jobs") if job.is_sql else ("Jar", "flink-jobs")
        raise invalid(
            f"The job {job.id} is a Flink {kind} job ({job.job_type}); update it through {path}/{job.id}."
        )
    now = state.ctx.clock()
    status = job.status(now)
    if status in ACTIVE_STATUSES:
        raise invalid(f"The job {job.id} is in the {status} state and cannot be modified; stop it first.")
    job.spec.update(spec)
    job.updated_at = now
    return respond(
        {
            "is_success": True,
            "message": "The Flink job is updated successfully.",
            "job": {"update_time": ms(now)},
        }
    )


def update_sql_job(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    return _update(state, request, params, sql=True)


def update_jar_job(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    return _update(state, request, params, sql=False)


# -- show / list / delete -------------------------------------------------------------------------


def show_job(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    job = state.job(params["project_id"], params["job_id"])
    detail = render(job, state.ctx.clock(), short=True, detail=True)
    return respond({"is_success": "true", "message": "Job detail query succeeds.", "job_detail": detail})


def _list_filter(query: Mapping[str, str]) -> Callable[[Job, float], bool]:
    """Check the list's filter parameters; the returned predicate selects the jobs they match."""
    job_type, status = query.get("job_type", ""), query.get("status", "")
    if job_type and job_type not in JOB_TYPES:
        raise invalid(f"Invalid parameter 'job_type': {job_type!r} is not one of {', '.join(JOB_TYPES)}.")
    if status and status not in JOB_STATUSES:
        raise invalid(f"Invalid parameter 'status': {status!r} is not a job status.")
    name, queue, user = query.get("name", ""), query.get("queue_name", ""), query.get("user_name", "")
    if len(name) > 57:
        raise invalid("Invalid parameter 'name': length must be between 0 and 57 characters.")
    wanted_tags = tag_filter(query.get("tags", ""))

    def wanted(job: Job, now: float) -> bool:
        tags = {(tag["key"], tag["value"]) for tag in job.spec.get("tags", [])}
        # A substring match on the name, as the console's search box does; callers must compare exactly.
        return (
            (not name or name in job.name)
            and (not job_type or job.job_type == job_type)
            and (not status or job.status(now) == status)
            and (not queue or job.spec.get("queue_name") == queue)
            and (not user or job.user_name == user)
            and wanted_tags <= tags
        )

    return wanted


def list_jobs(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    now = state.ctx.clock()
    query = dict(request.query)
    limit = query_int(query, "limit", 10, 1, 100)
    offset = query_int(query, "offset", 0, 0, None)
    show_detail = query_bool(query, "show_detail")
    order = query.get("order", "").lower() or "desc"
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid parameter 'order': must be asc or desc, got {query['order']!r}.")
    wanted = _list_filter(query)
    jobs = [job for job in state.jobs.values() if job.project_id == params["project_id"] and wanted(job, now)]
    jobs.sort(key=lambda job: (job.created_at, job.id), reverse=order == "desc")
    records = [
        render(job, now, short=not show_detail, detail=show_detail) for job in jobs[offset : offset + limit]
    ]
    return respond(
        {
            "is_success": "true",
            "message": "Querying of the job list succeeds.",
            "job_list": {"total_count": len(jobs), "jobs": records},
        }
    )


def delete_job(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    job = state.job(params["project_id"], params["job_id"])
    # "This API is used to delete a Flink job in any state"
    # (https://github.com/opentelekomcloud-docs/data-lake-insight/blob/main/api-ref/source/flink_job-related_apis/deleting_a_job.rst,
    # https://support.huaweicloud.com/intl/en-us/api-dli/dli_02_0242.html): a running job is not refused
    # but stopped with it. An unknown id is DLI.16001, as for the other job routes.
    state.delete(job)
    return respond({"is_success": "true", "message": DELETED_MESSAGE})


# -- batch run / stop -----------------------------------------------------------------------------


def _refused(message: str) -> JSONObject:
    return {"is_success": "false", "message": message}


def batch_run(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    ids, resume_savepoint = batch_body(request, "resume_savepoint")
    now = state.ctx.clock()
    results: list[JSONObject] = []
    for raw_id in ids:
        job = state.batch_target(params["project_id"], raw_id)
        if job is None:
            results.append(_refused(f"The job {raw_id} does not exist."))
            continue
        status = job.status(now)
        if status in ACTIVE_STATUSES:
            # Nothing happens to the job: a second run is refused, element by element.
            results.append(
                _refused(
                    f"The job {job.id} is already running (status {status}) and cannot be submitted again."
                )
            )
            continue
        state.launch(job, resume_savepoint, now)
        results.append({"is_success": "true", "message": RUN_DELIVERED_MESSAGE})
    return respond(results)


def batch_stop(state: DliState, request: ApiRequest, params: Mapping[str, str]) -> ApiResponse:
    ids, trigger_savepoint = batch_body(request, "trigger_savepoint")
    now = state.ctx.clock()
    results: list[JSONObject] = []
    for raw_id in ids:
        job = state.batch_target(params["project_id"], raw_id)
        if job is None:
            results.append(_refused(f"The job {raw_id} does not exist."))
            continue
        status = job.status(now)
        if status not in STOPPABLE_STATUSES:
            results.append(
                _refused(
                    f"The job {job.id} is not running (status {status}); "
                    "only a submitting or running job can be stopped."
                )
            )
            continue
        state.stop(job, trigger_savepoint, now)
        results.append({"is_success": "true", "message": STOP_DELIVERED_MESSAGE})
    return respond(results)


OPERATIONS: dict[str, Operation] = {
    "CreateFlinkSqlJob": create_sql_job,
    "CreateFlinkJarJob": create_jar_job,
    "UpdateFlinkSqlJob": update_sql_job,
    "UpdateFlinkJarJob": update_jar_job,
    "ListFlinkJobs": list_jobs,
    "ShowFlinkJob": show_job,
    "BatchRunFlinkJobs": batch_run,
    "BatchStopFlinkJobs": batch_stop,
    "DeleteFlinkJob": delete_job,
}
