"""A small client for the emulator's control API (``/_emulator/``), for tests and users' DAG tests."""

from __future__ import annotations

import copy
from typing import Any, TypedDict

import requests

from airflow_provider_flinkcloud import registry


class Timings(TypedDict):
    starting_seconds: float
    batch_seconds: float
    cancelling_seconds: float
    savepoint_seconds: float


class PlatformCounters(TypedDict, total=False):
    """One platform's counters; ``calls`` and ``faults_fired`` are always there, the rest per platform."""

    calls: dict[str, int]
    faults_fired: int
    # Volcengine
    starts_by_app: dict[str, int]
    starts_by_name: dict[str, int]
    # Huawei DLI
    creates_by_name: dict[str, int]
    runs_by_name: dict[str, int]
    stops_by_name: dict[str, int]
    deletes_by_name: dict[str, int]
    # Dinky (by task name)
    submits_by_name: dict[str, int]
    cancels_by_name: dict[str, int]
    savepoints_by_name: dict[str, int]
    restarts_by_name: dict[str, int]
    logins_by_name: dict[str, int]


class EmulatorControlError(Exception):
    """The control API refused a request; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"flinkcloud-emulator control API answered HTTP {status}: {message}")
        self.status = status
        self.message = message


class EmulatorControl:
    """Drive a running emulator: ``EmulatorControl("http://127.0.0.1:8765").reset()``."""

    def __init__(
        self, base_url: str, *, timeout: float = 10.0, session: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()

    def _call(self, method: str, route: str, payload: dict[str, Any] | None = None) -> Any:
        response = self._session.request(
            method, f"{self.base_url}/_emulator/{route}", json=payload, timeout=self.timeout
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            message = body.get("error") if isinstance(body, dict) else response.text
            raise EmulatorControlError(response.status_code, str(message))
        return body

    def health(self) -> bool:
        try:
            return bool(self._call("GET", "health").get("status") == "ok")
        except (requests.RequestException, EmulatorControlError):
            return False

    def reset(self) -> None:
        """Forget jobs, faults, pending failures and counters, and restore the default timings."""
        self._call("POST", "reset")

    def timings(self) -> Timings:
        result: Timings = self._call("GET", "timings")
        return result

    def set_timings(
        self,
        *,
        starting_seconds: float | None = None,
        batch_seconds: float | None = None,
        cancelling_seconds: float | None = None,
        savepoint_seconds: float | None = None,
    ) -> Timings:
        """Change the given timings only; returns all of them. Applies to instances started afterwards."""
        changes = {
            "starting_seconds": starting_seconds,
            "batch_seconds": batch_seconds,
            "cancelling_seconds": cancelling_seconds,
            "savepoint_seconds": savepoint_seconds,
        }
        result: Timings = self._call("POST", "timings", {k: v for k, v in changes.items() if v is not None})
        return result

    def fail_job(
        self,
        job: str | int,
        error: str,
        *,
        platform: str = "volcengine",
        phase: str = "startup",
        after_seconds: float = 0.0,
    ) -> dict[str, Any]:
        """Make the next instance of ``job`` (a job name, unique key or id) fail with ``error``.

        ``phase="startup"``: it fails instead of reaching RUNNING; ``"running"``: it fails
        ``after_seconds`` after reaching RUNNING. On ``platform="huawei_dli"`` the next run of the
        job ends ``job_submit_fail`` or ``job_running_exception``, with ``error`` as ``status_desc``.
        """
        payload = {
            "platform": platform,
            "job": str(job),
            "error": error,
            "phase": phase,
            "after_seconds": after_seconds,
        }
        result: dict[str, Any] = self._call("POST", "failures", payload)
        return result

    def inject_fault(
        self,
        kind: str,
        *,
        platform: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        delay_seconds: float | None = None,
        count: int = 1,
    ) -> dict[str, Any]:
        """Disturb the next ``count`` matching API calls.

        ``kind``: ``"status"`` answers that HTTP status, ``"drop"`` closes the connection (both
        instead of executing the call), ``"delay"`` sleeps ``delay_seconds`` then executes it,
        ``"lose_response"`` executes it and then closes the connection without replying,
        ``"late_response"`` executes it at once and replies only after ``delay_seconds``.
        ``platform``/``operation`` ``None`` match any.
        """
        payload = {
            "platform": platform,
            "operation": operation,
            "kind": kind,
            "status": status,
            "retry_after": retry_after,
            "delay_seconds": delay_seconds,
            "count": count,
        }
        result: dict[str, Any] = self._call("POST", "faults", payload)
        return result

    def counters(self) -> dict[str, PlatformCounters]:
        """Counters per platform; a platform not used since the last reset may be absent."""
        result: dict[str, PlatformCounters] = self._call("GET", "counters")
        return result

    def connections_accepted(self) -> int:
        """TCP connections accepted since the emulator started (a client that keeps its alive adds one)."""
        result: dict[str, int] = self._call("GET", "connections")
        return result["accepted"]

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "state")
        return result

    def add_credentials(
        self,
        access_key: str,
        secret_key: str,
        *,
        platform: str = "volcengine",
        session_token: str | None = None,
        project_id: str | None = None,
    ) -> None:
        """Accept another credential set; ``project_id`` (Huawei DLI only) is the project it may use."""
        payload: dict[str, Any] = {"platform": platform, "access_key": access_key, "secret_key": secret_key}
        if session_token is not None:
            payload["session_token"] = session_token
        if project_id is not None:
            payload["project_id"] = project_id
        self._call("POST", "credentials", payload)

    def configure(self, platform: str, **settings: Any) -> dict[str, Any]:
        """Change a platform's emulator settings until the next reset (what they are is the platform's:
        e.g. ``configure("dinky", version="0.7.5")``); returns the settings now in force."""
        result: dict[str, Any] = self._call("POST", "settings", {"platform": platform, **settings})
        return result

    def connection(self, platform: str, **overrides: Any) -> dict[str, Any]:
        """The fields of an Airflow connection of ``platform`` to this emulator, with its default credentials.

        ``{"conn_type", "login", "password", "extra": {"endpoint", "region", "project_id"}}``; ``overrides``
        replace fields, except ``extra=``, which is merged into the extra.
        """
        # Imported here: the backends load the platform packages, which this module need not import.
        from airflow_provider_flinkcloud.emulator.gateway import load_backend

        spec = registry.platform(platform)
        conn: dict[str, Any] = {
            "conn_type": spec.conn_type,
            **copy.deepcopy(load_backend(spec.name).connection(self.base_url)),
        }
        extra = overrides.pop("extra", None) or {}
        conn.update(overrides)
        conn["extra"] = {**conn["extra"], **extra}
        return conn
