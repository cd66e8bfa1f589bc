"""The checks of Volcengine Flink task arguments, run when a DAG file constructs its tasks."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud.core.arguments import INT64_MAX, positive_integer


def volcengine_id(value: Any, field: str) -> str:
    """An application or instance id: the API types them int64 and sends them as digit strings."""
    if positive_integer(value, INT64_MAX) is None:
        raise ValueError(f"{field}: must be a Volcengine id (a positive int64, as digits), got {value!r}")
    return str(value).strip()


def optional_volcengine_id(value: Any, field: str) -> str | None:
    return None if value is None or value == "" else volcengine_id(value, field)
