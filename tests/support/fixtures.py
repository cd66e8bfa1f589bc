"""Shared fixtures: the Airflow database, the emulator on a free loopback port, connections to it.

Connections come from each platform's test kit (``support.platforms``), one per registry platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl
from airflow_provider_flinkcloud.registry import PLATFORMS
from support.platforms import PlatformKit, kit_for
from support.platforms.volcengine import PROJECT_ID as PROJECT_ID  # re-exported for the tests

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


def emulator_connection(platform_name: str, url: str, **overrides: Any) -> str:
    """The JSON of a connection to the emulator, like the platform's default one but with ``overrides``."""
    return kit_for(platform_name).connection(url, **overrides)


def _connections_to(kit: PlatformKit, url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Points the kit's default connection at the emulator; the returned function adds another one."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{kit.spec.default_conn_id.upper()}", kit.connection(url))

    def add(conn_id: str, **overrides: Any) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", kit.connection(url, **overrides))
        return conn_id

    return add


@pytest.fixture(params=list(PLATFORMS))
def kit(request: pytest.FixtureRequest) -> PlatformKit:
    """Each registry platform's test kit in turn; a platform without a kit errors here, never skips."""
    return kit_for(request.param)


@pytest.fixture
def platform_conn(
    kit: PlatformKit, emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Points ``kit``'s default connection at the emulator; call it to add another connection."""
    return _connections_to(kit, emulator_server.url, monkeypatch)


@pytest.fixture
def volcengine_conn(
    emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Points ``volcengine_flink_default`` at the emulator; call it to add another connection."""
    return _connections_to(kit_for("volcengine"), emulator_server.url, monkeypatch)


@pytest.fixture
def dli_conn(
    emulator: EmulatorControl, emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Points ``huaweicloud_dli_default`` at the emulator; call it to add another connection."""
    return _connections_to(kit_for("huawei_dli"), emulator_server.url, monkeypatch)


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
                if getattr(handler.stream, "closed", False):
                    # A stream pytest has closed (capfd's, bound by Airflow 2's dag.test() to a failed
                    # task's logger); setStream would flush it and raise.
                    handler.stream = _CURRENT_STDOUT  # type: ignore[assignment]
                else:
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
