"""Request bodies and query parameters: the documented field types, lengths, ranges and enums.

The fields are those of the SQL and Jar job APIs
(https://github.com/opentelekomcloud-docs/data-lake-insight/tree/main/api-ref/source/flink_job-related_apis).
A violation is DLI.0001, naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_flinkcloud.emulator.huawei_dli.responses import CHECKPOINT_MODES, invalid
from airflow_provider_flinkcloud.emulator.platform import ApiRequest, JSONObject

JOB_TYPES = ("flink_sql_job", "flink_opensource_sql_job", "flink_sql_edge_job", "flink_jar_job")
SQL_JOB_TYPES = ("flink_sql_job", "flink_opensource_sql_job")
RUN_MODES = ("shared_cluster", "exclusive_cluster", "edge_node")

# -- request body schema -----------------------------------------------------------------------------
# Kinds: str, int, bool, strs (list of strings), tags, object, mode (checkpoint_mode).
_COMMON_FIELDS: dict[str, str] = {
    "name": "str",
    "desc": "str",
    "queue_name": "str",
    "cu_number": "int",
    "manager_cu_number": "int",
    "parallel_number": "int",
    "checkpoint_enabled": "bool",
    "checkpoint_mode": "mode",
    "checkpoint_interval": "int",
    "log_enabled": "bool",
    "obs_bucket": "str",
    "smn_topic": "str",
    "restart_when_exception": "bool",
    "tm_cus": "int",
    "tm_slot_num": "int",
    "resume_checkpoint": "bool",
    "resume_max_num": "int",
    "runtime_config": "str",
    "flink_log_config": "str",
    "flink_version": "str",
    "execution_agency_urn": "str",
    "tags": "tags",
    "resource_config": "object",
    "resource_config_version": "str",
}
JAR_FIELDS: dict[str, str] = {
    **_COMMON_FIELDS,
    "main_class": "str",
    "entrypoint_args": "str",
    "entrypoint": "str",
    "dependency_jars": "strs",
    "dependency_files": "strs",
    "image": "str",
    "feature": "str",
    "checkpoint_path": "str",
}
SQL_FIELDS: dict[str, str] = {
    **_COMMON_FIELDS,
    "template_id": "int",
    "sql_body": "str",
    "run_mode": "str",
    "idle_state_retention": "int",
    "job_type": "str",
    "edge_group_ids": "strs",
    "dirty_data_strategy": "str",
    "udf_jar_url": "str",
    "operator_config": "str",
    "static_estimator_config": "str",
}
# (minimum, maximum) characters; None is unbounded.
_STRING_LENGTHS: dict[str, tuple[int, int | None]] = {
    "name": (1, 57),
    "desc": (0, 512),
    "queue_name": (0, 128),
    "sql_body": (0, 1024 * 1024),
}
_INT_RANGES: dict[str, tuple[int, int | None]] = {
    "cu_number": (2, 400),
    "parallel_number": (1, 2000),
    "manager_cu_number": (1, None),
    "checkpoint_interval": (1, 3600),
    "tm_cus": (1, None),
    # 0 is what a client that leaves it to the service sends; the service then applies its formula.
    "tm_slot_num": (0, None),
    "idle_state_retention": (0, None),
    "template_id": (1, None),
}
_ENUMS: dict[str, tuple[str, ...]] = {
    "run_mode": RUN_MODES,
    "job_type": SQL_JOB_TYPES,
    "resource_config_version": ("v1", "v2"),
    "feature": ("basic", "custom"),
}
_DIRTY_DATA_STRATEGY = re.compile(r"0|1|2:\S.*")
_RUNTIME_MODE_SQL = re.compile(
    r"\bset\s+['\"`]?execution\.runtime-mode['\"`]?\s*=\s*['\"`]?batch['\"`]?", re.IGNORECASE
)
_RUNTIME_MODE_PAIR = re.compile(r"execution\.runtime-mode\s*[=:]\s*['\"]?batch\b", re.IGNORECASE)


# -- field types ------------------------------------------------------------------------------------


def _wrong(name: str, expected: str, value: Any) -> Exception:
    return invalid(f"Invalid parameter '{name}': expected {expected}, got {json.dumps(value)}.")


def _checkpoint_mode(value: Any) -> int:
    # The type is Integer, yet the vendor's own SQL example sends "exactly_once": take both.
    if isinstance(value, str) and value in CHECKPOINT_MODES.values():
        return next(number for number, text in CHECKPOINT_MODES.items() if text == value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in CHECKPOINT_MODES:
        raise invalid(
            f"Invalid parameter 'checkpoint_mode': must be 1 (exactly_once) or 2 (at_least_once), "
            f"got {json.dumps(value)}."
        )
    return value


def _tags(name: str, value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise _wrong(name, "an array of {key, value} objects", value)
    tags: list[dict[str, str]] = []
    for index, tag in enumerate(value):
        if not isinstance(tag, dict):
            raise invalid(f"Invalid parameter 'tags[{index}]': expected an object with key and value.")
        key, tag_value = tag.get("key"), tag.get("value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise invalid(f"Invalid parameter 'tags[{index}].key': must be a string of 1 to 128 characters.")
        if not isinstance(tag_value, str) or not 1 <= len(tag_value) <= 255:
            raise invalid(
                f"Invalid parameter 'tags[{index}].value': must be a string of 1 to 255 characters."
            )
        tags.append({"key": key, "value": tag_value})
    return tags


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# Kind -> (what it must be, how to tell).
_SIMPLE_KINDS: dict[str, tuple[str, Any]] = {
    "str": ("a string", lambda value: isinstance(value, str)),
    "int": ("an integer", _is_int),
    "bool": ("a boolean", lambda value: isinstance(value, bool)),
    "strs": ("an array of strings", _is_strs),
    "object": ("an object", lambda value: isinstance(value, dict)),
}


def _check_type(name: str, kind: str, value: Any) -> Any:
    if kind == "mode":
        return _checkpoint_mode(value)
    if kind == "tags":
        return _tags(name, value)
    expected, accepts = _SIMPLE_KINDS[kind]
    if not accepts(value):
        raise _wrong(name, expected, value)
    return list(value) if kind == "strs" else value


# -- bodies ---------------------------------------------------------------------------------------


def _check_bounds(spec: JSONObject) -> None:
    for name, (low, high) in _STRING_LENGTHS.items():
        if name in spec and not (low <= len(spec[name]) and (high is None or len(spec[name]) <= high)):
            raise invalid(
                f"Invalid parameter '{name}': length must be between {low} and {high} characters, "
                f"got {len(spec[name])}."
            )
    for name, (low, high) in _INT_RANGES.items():
        if name in spec and not (low <= spec[name] and (high is None or spec[name] <= high)):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise invalid(f"Invalid parameter '{name}': must be {bound}, got {spec[name]}.")
    if "resume_max_num" in spec and spec["resume_max_num"] != -1 and spec["resume_max_num"] <= 0:
        raise invalid(
            f"Invalid parameter 'resume_max_num': must be -1 (unlimited) or greater than 0, "
            f"got {spec['resume_max_num']}."
        )


def _check_enums(spec: JSONObject) -> None:
    for name, allowed in _ENUMS.items():
        if name in spec and spec[name] not in allowed:
            raise invalid(f"Invalid parameter '{name}': {spec[name]!r} is not one of {', '.join(allowed)}.")
    strategy = spec.get("dirty_data_strategy")
    if strategy is not None and not _DIRTY_DATA_STRATEGY.fullmatch(strategy):
        raise invalid(
            f"Invalid parameter 'dirty_data_strategy': must be '0', '1' or '2:<obs path>', got {strategy!r}."
        )


def normalise_body(body: JSONObject, fields: Mapping[str, str], *, creating: bool) -> JSONObject:
    """The known fields of a create/update body, type- and range-checked (DLI.0001 names the field)."""
    if creating and body.get("name") is None:
        raise invalid("Invalid parameter 'name': the job name is required.")
    # Unknown fields are ignored, as a Jackson-bound service with lenient binding does.
    spec: JSONObject = {
        name: _check_type(name, kind, body[name])
        for name, kind in fields.items()
        if body.get(name) is not None
    }
    _check_bounds(spec)
    _check_enums(spec)
    return spec


def object_body(request: ApiRequest) -> JSONObject:
    """The JSON object a request carries (``{}`` for an empty body)."""
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def batch_body(request: ApiRequest, flag: str) -> tuple[list[int | str], bool]:
    """``job_ids`` and the boolean ``flag`` of a batch run or stop."""
    body = object_body(request)
    job_ids = body.get("job_ids")
    if not isinstance(job_ids, list) or not job_ids:
        raise invalid("Invalid parameter 'job_ids': a non-empty array of job ids is required.")
    ids: list[int | str] = []
    for raw in job_ids:
        if _is_int(raw):
            ids.append(raw)
        elif isinstance(raw, str) and raw.isdigit():
            # A JSON string of digits binds to a Long on the Java side.
            ids.append(int(raw))
        else:
            raise invalid(f"Invalid parameter 'job_ids': {json.dumps(raw)} is not a job id.")
    value = body.get(flag, False)
    if value is None:
        value = False
    if not isinstance(value, bool):
        raise invalid(f"Invalid parameter '{flag}': expected a boolean, got {json.dumps(value)}.")
    return ids, value


# -- batch jobs -----------------------------------------------------------------------------------


def _runtime_config_is_batch(runtime_config: str) -> bool:
    try:
        parsed = json.loads(runtime_config)
    except ValueError:
        parsed = None
    pairs: list[tuple[str, str]] = []
    if isinstance(parsed, list):
        # The form Huawei's Terraform provider sends: [{"key": "...", "value": "..."}].
        pairs = [
            (str(item.get("key", "")), str(item.get("value", "")))
            for item in parsed
            if isinstance(item, dict)
        ]
    elif isinstance(parsed, dict):
        pairs = [(str(key), str(value)) for key, value in parsed.items()]
    if pairs:
        return any(
            key.strip().lower() == "execution.runtime-mode" and value.strip().lower() == "batch"
            for key, value in pairs
        )
    return bool(_RUNTIME_MODE_PAIR.search(runtime_config))


def is_batch_job(spec: Mapping[str, Any]) -> bool:
    """Whether Flink would run the job bounded: ``execution.runtime-mode`` set to ``batch``."""
    runtime_config = spec.get("runtime_config")
    if isinstance(runtime_config, str) and _runtime_config_is_batch(runtime_config):
        return True
    sql_body = spec.get("sql_body")
    return isinstance(sql_body, str) and bool(_RUNTIME_MODE_SQL.search(sql_body))


# -- query parameters -----------------------------------------------------------------------------


def query_int(params: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"Invalid parameter '{name}': expected an integer, got {raw!r}.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(f"Invalid parameter '{name}': must be {bound}, got {value}.")
    return value


def query_bool(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name, "").lower()
    if raw in ("", "false"):
        return False
    if raw == "true":
        return True
    raise invalid(f"Invalid parameter '{name}': expected true or false, got {params[name]!r}.")


def tag_filter(raw: str) -> set[tuple[str, str]]:
    """The ``tags=k=v[,k2=v2]`` filter of the job list."""
    wanted: set[tuple[str, str]] = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise invalid(f"Invalid parameter 'tags': expected k=v[,k2=v2], got {raw!r}.")
        wanted.add((key, value))
    return wanted
