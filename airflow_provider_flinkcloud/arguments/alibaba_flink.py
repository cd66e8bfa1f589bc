"""The checks of Alibaba Cloud Realtime Compute for Apache Flink task arguments, run when a DAG file
constructs its tasks."""

from __future__ import annotations

import re
from typing import Any

# StopJob's stopStrategy (https://www.alibabacloud.com/help/en/flink/developer-reference/api-ververica-2022-07-18-stopjob).
STOP_STRATEGIES: tuple[str, ...] = ("NONE", "STOP_WITH_SAVEPOINT", "STOP_WITH_DRAIN")

# Deployment, job and savepoint ids are UUIDs in every example of the API reference.
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# A namespace is a Kubernetes-style name (``default-namespace``, ``<workspace>-default``).
_NAMESPACE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def ververica_id(value: Any, field: str) -> str:
    """A deployment, job or savepoint id (a UUID), checked before it goes into a URL path."""
    text = value.strip() if isinstance(value, str) else None
    if not text or not _ID.fullmatch(text):
        raise ValueError(
            f"{field}: must be a UUID such as 58718c99-3b29-4c5e-93bb-c9fc4ec6a1b2, got {value!r}"
        )
    return text


def namespace_name(value: Any, field: str = "namespace") -> str:
    text = value.strip() if isinstance(value, str) else None
    if not text or not _NAMESPACE.fullmatch(text):
        raise ValueError(
            f"{field}: must be a namespace name (lower-case letters, digits and '-', e.g. "
            f"default-namespace), got {value!r}"
        )
    return text


def optional_ververica_id(value: Any, field: str) -> str | None:
    return None if value in (None, "") else ververica_id(value, field)


def optional_namespace_name(value: Any, field: str) -> str | None:
    return None if value in (None, "") else namespace_name(value, field)


def stop_strategy_name(value: Any, field: str) -> str:
    text = str(value).strip().upper() if isinstance(value, str) else value
    if text not in STOP_STRATEGIES:
        raise ValueError(f"{field}: must be one of {', '.join(STOP_STRATEGIES)}, got {value!r}")
    return str(text)
