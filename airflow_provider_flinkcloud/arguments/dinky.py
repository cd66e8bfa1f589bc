"""The checks of Dinky task arguments, run when a DAG file constructs its tasks."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud.core.arguments import INT32_MAX, positive_integer

# Savepoint types of POST /openapi/savepoint (SavePointType: trigger, dispose, stop, cancel).
SAVEPOINT_TYPES = ("trigger", "stop", "cancel")


def dinky_id(value: Any, field: str) -> int:
    """A Dinky task or job-instance id: a positive Java Integer, given as a number or as its digits."""
    number = positive_integer(value, INT32_MAX)
    if number is None:
        raise ValueError(f"{field}: Dinky ids are positive integers (at most {INT32_MAX}), got {value!r}")
    return number


def dinky_savepoint_type(value: Any, field: str) -> str:
    if value not in SAVEPOINT_TYPES:
        raise ValueError(f"{field}: must be one of {', '.join(SAVEPOINT_TYPES)}, got {value!r}")
    return str(value)
