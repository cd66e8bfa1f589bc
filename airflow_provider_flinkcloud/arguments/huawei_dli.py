"""The checks of Huawei Cloud DLI task arguments, run when a DAG file constructs its tasks."""

from __future__ import annotations

import ast
import json
from typing import Any

from airflow_provider_flinkcloud.core.arguments import INT64_MAX, positive_integer


def dli_job_id(value: Any, field: str = "job_id") -> int:
    """A DLI job id: a positive integer (an int64), given as a number or as its digits."""
    number = positive_integer(value, INT64_MAX)
    if number is None:
        raise ValueError(f"{field}: DLI job ids are positive integers, got {value!r}")
    return number


def _list_text(text: str) -> Any:
    """A list rendered as text: JSON, or Python's own spelling (``"['101', '102']"``, what Jinja gives
    for a list of strings); literals only, nothing is evaluated."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def dli_job_ids(value: Any, field: str = "job_ids") -> list[int]:
    """Job ids given as one id, a list of ids, or the text of either (``"101"``, ``"[101, 102]"``).

    Templated fields render to text unless the DAG sets ``render_template_as_native_obj``, so a list
    pulled from XCom arrives as ``"[101, 102]"`` (or ``"['101', '102']"``).
    """
    given = value
    if isinstance(value, str) and value.strip().startswith("["):
        value = _list_text(value.strip())
        if value is None:
            raise ValueError(f"{field}: must be a job id or a list of job ids, got {given!r}")
    if isinstance(value, int | str) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(f"{field}: must be a job id or a list of job ids, got {given!r}")
    if not value:
        raise ValueError(f"{field}: must name at least 1 job, got {given!r}")
    ids = [dli_job_id(item, f"{field}[{i}]") for i, item in enumerate(value)]
    for i, job_id in enumerate(ids):
        if job_id in ids[:i]:
            raise ValueError(f"{field}: job id {job_id} is given twice, got {given!r}")
    return ids
