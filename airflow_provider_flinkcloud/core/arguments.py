"""Checks of task arguments that every platform shares, importable without Airflow.

A platform's own checks (its id formats and names) are in ``arguments/<platform>.py``, which builds on
these. A DAG file runs them when it constructs its tasks, so they need nothing but the standard library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")

# The largest ids the platforms' APIs type: int64 and Java Integer.
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")


def as_seconds(value: float | timedelta | None, name: str) -> float | None:
    """A duration argument in seconds: a positive number (or numeric text) or a ``timedelta``.

    Raised as ``ValueError`` naming the argument, so a bad value fails where the task is constructed.
    """
    if value is None:
        return None
    seconds: float | None = None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            seconds = None
    if seconds is None or not math.isfinite(seconds):
        raise ValueError(f"{name}: must be a number of seconds or a timedelta, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"{name}: must be positive, got {value!r}")
    return seconds


def is_template(value: Any) -> bool:
    """Whether Airflow renders ``value`` when the task runs (Jinja text, an XComArg, ...).

    Such a value can only be checked then; any other one is checked when the task is constructed.
    """
    if value is None or isinstance(value, bool | int | float):
        return False
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, list | tuple):
        return any(is_template(item) for item in value)
    return True


def check_input(check: Callable[[Any, str], T], value: Any, name: str) -> None:
    """Check a task argument at construction, unless it is a template (then it is checked at run time)."""
    if not is_template(value):
        check(value, name)


def positive_integer(value: Any, maximum: int) -> int | None:
    """``value`` as an integer in 1..``maximum`` if it is one (a number, or its digits as text), else None.

    Platform ids are such integers, typed int64 or Java Integer, that some APIs send as digit strings.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(text := value.strip()):
        # No more digits than the maximum has, so int() never converts a huge string.
        if len(text) > len(str(maximum)):
            return None
        number = int(text)
    else:
        return None
    return number if 0 < number <= maximum else None
