"""The checks of Blink task arguments, run when a DAG file constructs its tasks, and the ids they make."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from airflow_provider_flinkcloud.core.arguments import INT64_MAX, check_input, positive_integer

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.tasks import FlinkJobTask
    from airflow_provider_flinkcloud.core.jobs import JobRef
# A name goes into the URL path: no separators, no dot segments, no control characters. Blink documents
# no stricter rule that could be found, and the console allows non-ASCII job names.
_FORBIDDEN_IN_NAME = re.compile(r"[/\\\x00-\x1f\x7f?#]")
MAX_NAME_LENGTH = 256


def blink_instance_id(value: Any, field: str) -> str:
    """An instance id: int64 on the API (``Id``, StartJob's ``instanceId``). ``-1`` ("the current
    instance") is refused: it may name another instance at each poll."""
    if positive_integer(value, INT64_MAX) is None:
        raise ValueError(f"{field}: must be a Blink instance id (a positive int64, as digits), got {value!r}")
    return str(value).strip()


def blink_name(value: Any, field: str) -> str:
    """A project or job name as it goes into the URL path."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: must be a non-empty name, got {value!r}")
    name = value.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"{field}: must be at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    if _FORBIDDEN_IN_NAME.search(name) or name in (".", ".."):
        raise ValueError(
            f"{field}: must not contain '/', '\\', '?', '#' or control characters, got {value!r}"
        )
    return name


def optional_blink_instance_id(value: Any, field: str) -> str | None:
    return None if value is None or value == "" else blink_instance_id(value, field)


def check_job_names(project_name: Any, job_name: Any) -> None:
    """When a task is constructed: the project and job names, unless templated (checked at run time)."""
    check_input(blink_name, project_name, "project_name")
    check_input(blink_name, job_name, "job_name")


def checked_job_names(task: FlinkJobTask[Any], project_name: Any, job_name: Any) -> tuple[str, str]:
    """When the task runs (after templating), before its first request."""
    return task.checked(blink_name, project_name, "project_name"), task.checked(
        blink_name, job_name, "job_name"
    )


def instance_ref(project_name: str, job_name: str, instance_id: str) -> JobRef:
    return {"project_name": project_name, "job_name": job_name, "instance_id": instance_id}
