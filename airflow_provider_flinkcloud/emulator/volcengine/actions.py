"""The modelled actions of the Flink OpenAPI 2025-01-01 (https://www.volcengine.com/docs/6581/1359413).

Each action takes the merged request parameters and returns the ``Result`` object; errors are raised
as :class:`VolcengineError` and rendered by the platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_flinkcloud.emulator.platform import ApiRequest, JSONObject
from airflow_provider_flinkcloud.emulator.volcengine import responses
from airflow_provider_flinkcloud.emulator.volcengine.responses import app_not_found, invalid
from airflow_provider_flinkcloud.emulator.volcengine.state import (
    ACTIVE_STATES,
    INSTANCE_STATES,
    App,
    Instance,
    VolcengineState,
)
from airflow_provider_flinkcloud.emulator.volcengine.validation import (
    ENGINE_VERSIONS,
    JOB_TYPES,
    RESTORE_TYPES,
    check_runnable,
    enum,
    normalise_app,
    optional_enum,
    page_number,
    string,
)

Action = Callable[[VolcengineState, ApiRequest, JSONObject], JSONObject]


def _base_url(state: VolcengineState, request: ApiRequest) -> str:
    # The Flink REST URL an instance reports is on the host the client reached the emulator by.
    host = request.header("Host")
    return f"http://{host}" if host else state.ctx.base_url


def _restore_strategy(params: JSONObject) -> tuple[str | None, JSONObject | None]:
    restore = params.get("RestoreStrategy")
    if restore is None:
        return None, None
    if not isinstance(restore, dict):
        raise invalid("RestoreStrategy", "expected an object")
    kind = enum(restore.get("Type"), "RestoreStrategy.Type", RESTORE_TYPES)
    return kind, {"Type": kind, "SavepointId": restore.get("SavepointId")}


def _known_app(state: VolcengineState, params: JSONObject, spec: JSONObject | None) -> App | None:
    """The job a start names: by ``Id``, else by ``App.UniqueKey`` in its project (None: a new one)."""
    app_id = params.get("Id")
    if app_id not in (None, ""):
        return state.app(app_id)
    if spec is None or not spec.get("UniqueKey"):
        raise app_not_found()
    return state.app_by_unique_key(spec.get("ProjectId", ""), spec["UniqueKey"])


def start_application_instance(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    now = state.ctx.clock()
    raw_app = params.get("App")
    spec = normalise_app(raw_app) if raw_app is not None else None
    kind, strategy = _restore_strategy(params)
    app = _known_app(state, params, spec)
    restored_from: str | None = None
    if app is None:
        assert spec is not None
        check_runnable(spec)
        if kind == "FROM_SAVEPOINT":
            raise invalid("RestoreStrategy.SavepointId", "a job that was never started has no savepoints")
        app = state.create_app(spec, now)
    else:
        if kind is not None:
            assert strategy is not None
            restored_from = state.restore_source(
                app, kind, strategy["SavepointId"], now, "RestoreStrategy.SavepointId"
            )
        if spec is not None:
            check_runnable({**app.spec, **spec})
            app.update_spec(spec, now)
        else:
            check_runnable(app.spec)
    # A second start while an instance is active is allowed here, as on the real service:
    # the provider has to avoid it, and the start counters let tests check that it does.
    instance = state.launch(app, _base_url(state, request), strategy, restored_from)
    return {"Id": app.id, "InstanceId": instance.id, "Success": True}


def get_application_instance(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    return responses.instance_detail(state.instance(params.get("InstanceId")), state.ctx.clock())


def _matches(wanted: Any, actual: str) -> bool:
    return wanted in (None, "") or str(wanted) == actual


def _instance_sort_key(sort_field: str) -> Callable[[tuple[Instance, JSONObject]], tuple[Any, ...]]:
    def key(item: tuple[Instance, JSONObject]) -> tuple[Any, ...]:
        value = item[1].get(sort_field, "")
        if sort_field in ("StartTime", "EndTime", "Id", "JobId"):
            return (int(value or 0), item[0].seq)
        return (str(value), item[0].seq)

    return key


def _instance_wanted(record: JSONObject, params: JSONObject) -> bool:
    job_name = params.get("JobName")
    checks = (
        (params.get("ProjectId"), record["ProjectId"]),
        (params.get("JobId"), record["JobId"]),
        (params.get("State"), record["State"]),
        (params.get("ResourcePool"), record["DeployRequest"]["ResourcePool"]),
    )
    # A substring match on the name, as the console's search box does; callers must compare exactly.
    name_ok = job_name in (None, "") or str(job_name) in record["JobName"]
    return name_ok and all(_matches(wanted, actual) for wanted, actual in checks)


def list_application_instance(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    now = state.ctx.clock()
    page_num = page_number(params.get("PageNum"), "PageNum", 1)
    page_size = page_number(params.get("PageSize"), "PageSize", 10)
    optional_enum(params.get("State"), "State", INSTANCE_STATES)
    sort_order = str(params.get("SortOrder") or "desc").lower()
    if sort_order not in ("asc", "desc"):
        raise invalid("SortOrder", f"{sort_order!r} is not one of asc, desc")
    records = [(instance, responses.instance_record(instance, now)) for instance in state.instances.values()]
    records = [item for item in records if _instance_wanted(item[1], params)]
    sort_field = str(params.get("SortField") or "StartTime")
    if records and sort_field not in records[0][1]:
        raise invalid("SortField", f"{sort_field!r} is not a field of the records")
    records.sort(key=_instance_sort_key(sort_field), reverse=sort_order == "desc")
    return responses.page([record for _instance, record in records], page_num, page_size)


def cancel_application_instance(
    state: VolcengineState, request: ApiRequest, params: JSONObject
) -> JSONObject:
    instance = state.instance(params.get("InstanceId"))
    state.cancel(instance, state.ctx.clock())
    return {"InstanceId": instance.id, "Success": True, "Id": instance.app_id}


def create_gws_savepoint(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    now = state.ctx.clock()
    app = state.app(params.get("Id"))
    description = params.get("Description")
    description = "" if description is None else string(description, "Description")
    running = state.create_savepoint(app, description, now)
    return {"Id": app.id, "Success": True, "InstanceId": running.id}


def list_gws_savepoint(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    now = state.ctx.clock()
    app = state.app(params.get("Id"))
    return {"SavepointInfos": [responses.savepoint_record(sp, now) for sp in reversed(app.savepoints)]}


def get_gws_start_method(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    now = state.ctx.clock()
    app = state.app(params.get("Id"))
    available = [responses.savepoint_record(sp, now) for sp in reversed(app.done_savepoints(now))]
    return {
        "EnableStartMethods": list(RESTORE_TYPES),
        "AvailableSavepoints": available,
        # The values are undocumented; the emulator says whether a savepoint can be used.
        "SavepointInfoStatus": "AVAILABLE" if available else "UNAVAILABLE",
    }


def restart_gws_application(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    now = state.ctx.clock()
    app = state.app(params.get("Id"))
    kind = enum(params.get("Type"), "Type", RESTORE_TYPES)
    restored_from = state.restore_source(app, kind, params.get("SavepointId"), now, "SavepointId")
    check_runnable(app.spec)
    active = state.instance_in(app, now, ACTIVE_STATES)
    if active is not None:
        active.cancel(now, state.ctx.timings.cancelling_seconds)
    strategy = {"Type": kind, "SavepointId": params.get("SavepointId")}
    state.launch(app, _base_url(state, request), strategy, restored_from)
    return {"Id": app.id, "Success": True}


def _app_wanted(state: VolcengineState, app: App, params: JSONObject, now: float) -> bool:
    spec = app.spec
    deploy = spec.get("DeployRequest") or {}
    checks = (
        (params.get("ProjectId"), app.project_id),
        (params.get("JobType"), spec.get("JobType", "")),
        (params.get("EngineVersion"), spec.get("EngineVersion", "")),
        (params.get("State"), state.app_state(app, now)),
        (params.get("ResourcePool"), deploy.get("ResourcePool", "")),
    )
    if not all(_matches(wanted, actual) for wanted, actual in checks):
        return False
    job_name = params.get("JobName")
    return job_name in (None, "") or str(job_name) in spec.get("JobName", "")


def list_gws_application(state: VolcengineState, request: ApiRequest, params: JSONObject) -> JSONObject:
    now = state.ctx.clock()
    page_num = page_number(params.get("PageNum"), "PageNum", 1)
    page_size = page_number(params.get("PageSize"), "PageSize", 10)
    optional_enum(params.get("JobType"), "JobType", JOB_TYPES)
    optional_enum(params.get("EngineVersion"), "EngineVersion", ENGINE_VERSIONS)
    optional_enum(params.get("State"), "State", ("CREATED", *INSTANCE_STATES))
    records = [
        responses.app_record(state, app, now)
        for app in sorted(state.apps.values(), key=lambda a: a.id, reverse=True)
        if _app_wanted(state, app, params, now)
    ]
    return responses.page(records, page_num, page_size)


ACTIONS: dict[str, Action] = {
    "StartApplicationInstance": start_application_instance,
    "GetApplicationInstance": get_application_instance,
    "ListApplicationInstance": list_application_instance,
    "CancelApplicationInstance": cancel_application_instance,
    "CreateGWSSavepoint": create_gws_savepoint,
    "ListGWSSavepoint": list_gws_savepoint,
    "GetGWSStartMethod": get_gws_start_method,
    "RestartGWSApplication": restart_gws_application,
    "ListGWSApplication": list_gws_application,
}
