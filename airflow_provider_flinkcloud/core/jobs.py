"""The job model every platform maps onto: ids, one observation of a job, and how it is judged."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from airflow_provider_flinkcloud.core.states import JobState

# A job run's ids on its platform, e.g. {"instance_id": ..., "application_id": ...}.
JobRef = dict[str, str]
# What a stop with a savepoint hands to the next start (platform-specific ids or paths).
Savepoint = dict[str, str]

WAIT_FOR_CHOICES = ("RUNNING", "SUCCESS")
IF_RUNNING_CHOICES = ("reattach", "fail", "restart")


@dataclass(frozen=True)
class JobStatus:
    """One observation of a remote job; ``ref`` holds the platform's ids."""

    platform: str
    ref: JobRef
    state: JobState
    native_state: str
    console_url: str | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def result(self) -> dict[str, Any]:
        """What a task returns (XCom): the ids, both states and the console URL."""
        return {
            "platform": self.platform,
            **self.ref,
            "state": self.state.value,
            "native_state": self.native_state,
            "console_url": self.console_url,
        }

    def to_dict(self) -> dict[str, Any]:
        data = {**self.result(), "ref": dict(self.ref), "details": dict(self.details)}
        if self.error is not None:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobStatus:
        return cls(
            platform=data["platform"],
            ref=dict(data["ref"]),
            state=JobState(data["state"]),
            native_state=data["native_state"],
            console_url=data.get("console_url"),
            error=data.get("error"),
            details=dict(data.get("details") or {}),
        )


class Verdict(str, Enum):
    REACHED = "reached"
    FAILED = "failed"
    WAITING = "waiting"


def judge(status: JobStatus, targets: Iterable[JobState]) -> Verdict:
    if status.state in targets:
        return Verdict.REACHED
    if status.state.is_terminal:
        return Verdict.FAILED
    return Verdict.WAITING


@functools.cache
def verdict_for(targets: frozenset[JobState]) -> Callable[[JobStatus], Verdict]:
    """``judge`` against ``targets``: one function per set of targets, shared by every watch that waits
    for it (a triggerer would otherwise hold a closure and its cells per watched job)."""
    return functools.partial(judge, targets=targets)


def targets_for(wait_for: str | None) -> frozenset[JobState]:
    return with_implied({JobState(wait_for)} if wait_for == "RUNNING" else {JobState.SUCCESS})


def with_implied(targets: Iterable[JobState]) -> frozenset[JobState]:
    """The states that count as reaching ``targets``: a job that already finished successfully has
    passed through RUNNING, so waiting for RUNNING accepts SUCCESS too."""
    states = set(targets)
    if JobState.RUNNING in states:
        states.add(JobState.SUCCESS)
    return frozenset(states)


def describe_targets(targets: Iterable[JobState]) -> str:
    return "/".join(sorted(s.value for s in targets))


def job_key(ref: JobRef) -> str:
    """A stable name for one job, to remember per job what was last logged."""
    return json.dumps(ref, sort_keys=True)
