"""What every emulated platform shares: the request/response values, the clock, timings and the lock.

A platform package (``emulator/<name>/``, one per registry entry) subclasses :class:`Platform` and
exposes it as ``BACKEND`` (an :class:`~airflow_provider_flinkcloud.emulator.gateway.EmulatorBackend`);
the server owns routing, fault injection and the control API, so a platform only has to recognise
its own requests and answer them in its own dialect.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import parse_qsl

JSONObject = dict[str, Any]

# Twitter-style snowflake epoch: with it, ids minted today are 19 digits long, like the real
# Volcengine ids (e.g. 1840646077740994561), and they still fit the SDK's int64 ``JobId``.
_SNOWFLAKE_EPOCH_MS = 1288834974657


class ControlError(Exception):
    """A control-API request the emulator refuses (answered with HTTP 400 and the message)."""


@dataclass
class Timings:
    starting_seconds: float = 1.0
    batch_seconds: float = 2.0
    cancelling_seconds: float = 1.0
    savepoint_seconds: float = 0.5

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def updated(self, changes: Mapping[str, Any]) -> Timings:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ControlError(f"unknown timing(s) {unknown}; known: {sorted(known)}")
        values = self.as_dict()
        for name, value in changes.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ControlError(f"{name} must be a non-negative number of seconds, got {value!r}")
            values[name] = float(value)
        return Timings(**values)


@dataclass(frozen=True)
class FailureSpec:
    """A failure that the next instance of ``job`` will suffer."""

    job: str
    error: str
    phase: str = "startup"
    after_seconds: float = 0.0

    PHASES: ClassVar[tuple[str, ...]] = ("startup", "running")

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> FailureSpec:
        job, error = payload.get("job"), payload.get("error")
        phase = payload.get("phase") or "startup"
        after = payload.get("after_seconds") or 0.0
        # Some platforms (Huawei DLI) number their jobs: an id may come as a JSON number.
        if isinstance(job, int) and not isinstance(job, bool):
            job = str(job)
        if not isinstance(job, str) or not job:
            raise ControlError("'job' (a job name, unique key or id) is required")
        if not isinstance(error, str) or not error:
            raise ControlError("'error' (the error text the job will fail with) is required")
        if phase not in cls.PHASES:
            raise ControlError(f"'phase' must be one of {list(cls.PHASES)}, got {phase!r}")
        if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
            raise ControlError(f"'after_seconds' must be a non-negative number, got {after!r}")
        return cls(job=job, error=error, phase=phase, after_seconds=float(after))

    def as_dict(self) -> JSONObject:
        return {
            "job": self.job,
            "error": self.error,
            "phase": self.phase,
            "after_seconds": self.after_seconds,
        }


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query_string: str
    # Lower-cased names; for a repeated header the first value wins.
    headers: Mapping[str, str]
    body: bytes
    client_host: str

    @cached_property
    def query(self) -> list[tuple[str, str]]:
        # Decoded as a server would: '+' is a space, as urlencode() on the SDK side produces it.
        return parse_qsl(self.query_string, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Close the socket without answering (an injected "drop" fault).
    drop: bool = False


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
    all_headers = {"Content-Type": "application/json; charset=utf-8"}
    all_headers.update(headers or {})
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return ApiResponse(status=status, body=body, headers=all_headers)


# A job's planned states: (time, state) in time order. States are read lazily from it, so no
# background thread runs; the state at t is the last entry whose time is <= t.
Timeline = list[tuple[float, str]]


def state_at(timeline: Timeline, now: float) -> str:
    current = timeline[0][1]
    for at, state in timeline:
        if at <= now:
            current = state
    return current


def entered_at(timeline: Timeline, now: float) -> float:
    """When the state current at ``now`` began."""
    entered = timeline[0][0]
    for at, _state in timeline:
        if at <= now:
            entered = at
    return entered


def replan(timeline: Timeline, now: float, *entries: tuple[float, str]) -> Timeline:
    """Drop what was still to come after ``now`` and follow ``entries`` instead (a stop, a cancel)."""
    return [entry for entry in timeline if entry[0] <= now] + list(entries)


@dataclass(frozen=True)
class RunStates:
    """A platform's own names for the states every emulated run passes through."""

    starting: str
    running: str
    start_failed: str
    failed: str
    finished: str


def plan_run(
    now: float, timings: Timings, states: RunStates, *, bounded: bool, failure: FailureSpec | None
) -> Timeline:
    """The timeline of a run started at ``now``: it starts, then runs, finishes (if bounded) or fails."""
    running_at = now + timings.starting_seconds
    if failure is not None and failure.phase == "startup":
        return [(now, states.starting), (running_at, states.start_failed)]
    timeline = [(now, states.starting), (running_at, states.running)]
    endings: Timeline = []
    if bounded:
        endings.append((running_at + timings.batch_seconds, states.finished))
    if failure is not None:
        endings.append((running_at + failure.after_seconds, states.failed))
    if endings:
        # The earlier ending wins; on a tie the injected failure does.
        timeline.append(min(endings, key=lambda ending: (ending[0], ending[1] != states.failed)))
    return timeline


class EmulatorContext:
    """State shared by the server and every platform. Platforms are called with ``lock`` held."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.timings = Timings()
        self.base_url = ""
        self._last_id = 0

    def new_id(self) -> str:
        with self.lock:
            candidate = (int(self.clock() * 1000) - _SNOWFLAKE_EPOCH_MS) << 22
            # Never reused, even across resets, so a stale id from an earlier test cannot resolve.
            self._last_id = max(self._last_id + 1, candidate)
            return str(self._last_id)


class Platform(ABC):
    """One emulated job platform: subclasses set ``name`` and ``max_body_bytes``, answer in their envelope."""

    name: ClassVar[str]
    # The largest request body the platform's gateway takes. The server refuses a larger one with
    # too_large_response() from its declared length, before reading it (and stops reading a chunked one).
    max_body_bytes: ClassVar[int]

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def claims(self, request: ApiRequest) -> bool:
        """Whether this platform answers ``request`` (decided from method and path only)."""

    @abstractmethod
    def operation(self, request: ApiRequest) -> str:
        """The operation name used by fault matching and the call counters."""

    @abstractmethod
    def handle(self, request: ApiRequest) -> ApiResponse:
        """Authenticate and execute ``request``."""

    @abstractmethod
    def error_response(
        self,
        request: ApiRequest,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """An error in the platform's own envelope."""

    @abstractmethod
    def malformed_response(self, request: ApiRequest, detail: str) -> ApiResponse:
        """HTTP 400 in the platform's envelope for a request whose body framing is broken.

        A bad ``Content-Length`` or chunk size, or a body shorter than declared: the server read no body
        (``request.body`` is empty) and closes the connection after this reply. ``detail`` says what is wrong.
        """

    @abstractmethod
    def too_large_response(self, request: ApiRequest) -> ApiResponse:
        """HTTP 413 in the platform's envelope for a body over ``max_body_bytes`` (not read; body empty)."""

    @abstractmethod
    def fault_code(self, status: int) -> tuple[str, str]:
        """The (code, message) the platform would send with an injected HTTP ``status``."""

    def flink_rest(self, request: ApiRequest, subpath: str) -> ApiResponse:
        """The Flink JobManager REST stub under ``/_flink/<name>/``; none by default."""
        return json_response(404, {"errors": [f"Not found: {request.path}"]})

    @abstractmethod
    def reset(self) -> None:
        """Forget jobs, pending failures and platform counters (credentials are kept)."""

    @abstractmethod
    def counters(self) -> JSONObject:
        """Platform-specific counters, merged into ``GET /_emulator/counters``."""

    @abstractmethod
    def snapshot(self) -> JSONObject:
        """Everything the platform holds, for ``GET /_emulator/state``."""

    @abstractmethod
    def add_failure(self, failure: FailureSpec) -> None:
        """Make the next instance of ``failure.job`` fail."""

    @abstractmethod
    def add_credentials(self, payload: Mapping[str, Any]) -> None:
        """Accept another credential set; raises :class:`ControlError` when it is incomplete."""

    def configure(self, payload: Mapping[str, Any]) -> JSONObject:
        """Change platform settings (a server version, catalogue entries, ...) until the next reset;
        returns the settings now in force. A platform without settings refuses."""
        raise ControlError(f"the emulated platform {self.name!r} has no settings to change")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) can only be reached from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
