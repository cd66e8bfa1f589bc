"""How the Dinky hook judges a job instance: every status mapped, FAILED final only once it has held,
UNKNOWN failing by default (one function, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flinkcloud.clients.dinky import DinkyClient, DinkySettings, InstanceReply
from airflow_provider_flinkcloud.core.states import JobState
from airflow_provider_flinkcloud.hooks.dinky import DinkyHook
from airflow_provider_flinkcloud.models.dinky import DINKY_STATES, DinkyJobInstance

# Every value of org.dinky.data.enums.JobStatus.
ALL_STATUSES = [
    "INITIALIZING",
    "CREATED",
    "RUNNING",
    "FAILING",
    "FAILED",
    "CANCELLING",
    "CANCELED",
    "FINISHED",
    "RESTARTING",
    "SUSPENDED",
    "RECONCILING",
    "RECONNECTING",
    "UNKNOWN",
]


def hook(**settings: Any) -> DinkyHook:
    dinky = DinkyHook("dinky_default")
    client = DinkyClient(DinkySettings(conn_id="dinky", endpoint="http://dinky.local:8888", **settings))
    client.server_version = "1.2.0"
    dinky.__dict__["client"] = client
    return dinky


def judged(status: str, finish: str | None = None, now: str = "2024-10-28 16:21:00", **settings: Any) -> Any:
    instance = DinkyJobInstance(
        id=7, taskId=1, status=status, finishTime=finish, error="boom" if status == "FAILED" else None
    )
    return hook(**settings).instance_status(
        InstanceReply(instance, now), {"dinky_task_id": "1", "job_instance_id": "7"}
    )


def test_every_dinky_status_is_mapped() -> None:
    assert set(DINKY_STATES.mapping) == set(ALL_STATUSES)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("INITIALIZING", "PENDING"),
        ("RUNNING", "RUNNING"),
        ("RESTARTING", "PENDING"),
        ("FINISHED", "SUCCESS"),
        ("CANCELED", "CANCELED"),
        ("CANCELLING", "STOPPING"),
        ("SUSPENDED", "PAUSED"),
        ("RECONNECTING", "UNKNOWN"),
    ],
)
def test_states(status: str, state: str) -> None:
    assert judged(status).state.value == state


def test_failed_is_in_transition_until_it_has_held() -> None:
    fresh = judged("FAILED", finish="2024-10-28 16:20:30")  # 30 s < 60 s
    assert fresh.state is JobState.UNKNOWN and fresh.details["in_transition"] is True
    assert hook().is_active(fresh) and hook().is_stopped(fresh)
    held = judged("FAILED", finish="2024-10-28 16:19:59")
    assert held.state is JobState.FAILED and held.error == "boom"
    assert judged("FAILED", finish="2024-10-28 16:20:59", failed_hold_seconds=0).state is JobState.FAILED
    # No finish time: nothing to measure, so it is final.
    assert judged("FAILED").state is JobState.FAILED


def test_unknown_fails_unless_told_to_wait() -> None:
    lost = judged("UNKNOWN")
    assert lost.state is JobState.FAILED and "lost track of the Flink job" in (lost.error or "")
    assert judged("UNKNOWN", fail_on_unknown=False).state is JobState.UNKNOWN


def test_the_console_link_is_the_web_ui_job_page() -> None:
    assert judged("RUNNING").console_url == "http://dinky.local:8888/#/devops/job-detail?id=7"
