"""Shared fixtures: the Airflow database, the emulator on a free loopback port, connections to it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import (
    VOLCENGINE_ACCESS_KEY,
    VOLCENGINE_SECRET_KEY,
    Emulator,
    EmulatorControl,
)

PROJECT_ID = "flinkcloud-test"
FAST_TIMINGS = {
    "starting_seconds": 0.3,
    "batch_seconds": 1.0,
    "cancelling_seconds": 0.3,
    "savepoint_seconds": 0.2,
}


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    server = Emulator(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: Emulator) -> EmulatorControl:
    control = EmulatorControl(emulator_server.url)
    control.reset()
    control.set_timings(**FAST_TIMINGS)
    return control


def volcengine_connection(url: str, **overrides: Any) -> str:
    conn: dict[str, Any] = {
        "conn_type": "volcengine_flink",
        "login": VOLCENGINE_ACCESS_KEY,
        "password": VOLCENGINE_SECRET_KEY,
        "extra": {
            "region": "cn-beijing",
            "endpoint": url,
            "project_id": PROJECT_ID,
            "retry_base_delay": 0.05,
            "retry_max_delay": 0.5,
        },
    }
    extra_overrides = overrides.pop("extra", {})
    conn.update(overrides)
    conn["extra"].update(extra_overrides)
    return json.dumps(conn)


@pytest.fixture
def volcengine_conn(
    emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Points ``volcengine_flink_default`` at the emulator; call it to add another connection."""
    monkeypatch.setenv("AIRFLOW_CONN_VOLCENGINE_FLINK_DEFAULT", volcengine_connection(emulator_server.url))

    def add(conn_id: str, **overrides: Any) -> str:
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}", volcengine_connection(emulator_server.url, **overrides)
        )
        return conn_id

    return add


@pytest.fixture
def make_dag(airflow_db: None) -> Callable[[str], Any]:
    from airflow.providers.common.compat.sdk import DAG

    def make(name: str) -> Any:
        return DAG(
            dag_id=f"{name}_{uuid.uuid4().hex[:8]}",
            schedule=None,
            start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
            catchup=False,
        )

    return make


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (pytest swaps it per test and closes the old one)."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        import sys

        return sys.stdout.write(text)

    def flush(self) -> None:
        import sys

        sys.stdout.flush()

    def isatty(self) -> bool:
        return False


_CURRENT_STDOUT = _CurrentStdout()


def _point_logging_at_current_stdout() -> None:
    """Airflow binds its log handlers to the sys.stdout of the moment it configured logging."""
    import logging

    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and handler.stream is not _CURRENT_STDOUT:
                handler.setStream(_CURRENT_STDOUT)  # type: ignore[arg-type]
    try:
        import structlog
    except ImportError:
        return
    factory = structlog.get_config().get("logger_factory")
    if hasattr(factory, "io"):
        factory.io = _CURRENT_STDOUT


@pytest.fixture(autouse=True)
def _logs_follow_pytest_capture() -> Iterator[None]:
    _point_logging_at_current_stdout()
    yield
    _point_logging_at_current_stdout()


@pytest.fixture
def task_logs(capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything Airflow and the tasks logged during the test (stdout and stderr)."""
    seen: list[str] = []

    def read() -> str:
        out, err = capfd.readouterr()
        seen.append(out + err)
        return "".join(seen)

    return read
