"""The emulator's HTTP server: routing to platforms, fault injection, counters and the control API."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_flinkcloud.emulator.control import EmulatorControl
from airflow_provider_flinkcloud.emulator.gateway import EmulatorBackend, load_backends
from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ApiResponse,
    ControlError,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
    is_loopback_host,
    json_response,
)

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"
FLINK_REST_PREFIX = "/_flink/"
# status: answer that HTTP status instead of the call; delay: wait, then carry the call out and answer;
# drop: close the connection instead of the call; lose_response: carry the call out, then close the
# connection without answering; late_response: carry the call out at once, answer only after the delay.
FAULT_KINDS = ("status", "delay", "drop", "lose_response", "late_response")
# The kinds that wait for ``delay_seconds``, which they therefore require.
DELAYED_KINDS = ("delay", "late_response")
# The body limit of the control API, the Flink REST stubs and paths no platform claims; each platform
# declares its gateway's own (Platform.max_body_bytes).
EMULATOR_MAX_BODY_BYTES = 1024 * 1024
# Chunked framing: the longest chunk-size or trailer line, and how much trailer is read at all.
MAX_CHUNK_LINE_BYTES = 4096
MAX_TRAILER_BYTES = 64 * 1024
# After refusing a body, how long the rest of it is read and discarded, so that closing the socket with
# unread data does not reset the connection before the client has read the reply.
LINGER_SECONDS = 2.0

_DIGITS = re.compile(rb"[0-9]+")
_HEX = re.compile(rb"[0-9A-Fa-f]+")


class BodyRefused(Exception):
    """A request body the server does not read: broken framing (``status`` 400) or over the limit (413)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, f"the body is larger than the limit of {limit} bytes")


def _declared_length(headers: Message) -> int:
    """The ``Content-Length`` (0 when absent); a value that is not one non-negative number is refused."""
    values = [part.strip() for value in headers.get_all("Content-Length") or () for part in value.split(",")]
    if not values:
        return 0
    for value in values:
        if value.startswith("-") and _DIGITS.fullmatch(value[1:].encode()):
            raise BodyRefused(400, f"Content-Length {value!r} is negative")
        if not _DIGITS.fullmatch(value.encode("utf-8", "replace")):
            raise BodyRefused(400, f"Content-Length {value!r} is not a number of bytes")
    if len({int(value) for value in values}) > 1:
        raise BodyRefused(400, f"the request declares different Content-Lengths {values}")
    return int(values[0])


def _read_exactly(rfile: io.BufferedIOBase, size: int, what: str) -> bytes:
    try:
        data = rfile.read(size)
    except TimeoutError:
        raise BodyRefused(400, f"{what} did not arrive in time: the client sent less than declared") from None
    if len(data) < size:
        raise BodyRefused(400, f"{what} ended after {len(data)} of {size} bytes")
    return data


def _read_line(rfile: io.BufferedIOBase, what: str) -> bytes:
    try:
        line = rfile.readline(MAX_CHUNK_LINE_BYTES + 1)
    except TimeoutError:
        raise BodyRefused(400, f"the chunked body did not arrive in time: {what} is missing") from None
    if not line:
        raise BodyRefused(400, f"the chunked body ended before {what}")
    if len(line) > MAX_CHUNK_LINE_BYTES or not line.endswith(b"\n"):
        raise BodyRefused(400, f"{what} is longer than {MAX_CHUNK_LINE_BYTES} bytes")
    return line


def _read_chunked(rfile: io.BufferedIOBase, limit: int) -> bytes:
    """A ``Transfer-Encoding: chunked`` body (RFC 9112 section 7.1), refused once it exceeds ``limit``."""
    chunks: list[bytes] = []
    total = 0
    while True:
        line = _read_line(rfile, "a chunk size")
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            shown = size_text.decode("latin-1")
            raise BodyRefused(400, f"the chunk size {shown!r} is not a hexadecimal number")
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise _too_large(limit)
        chunks.append(_read_exactly(rfile, size, "a chunk"))
        if _read_line(rfile, "the end of a chunk") not in (b"\r\n", b"\n"):
            raise BodyRefused(400, "a chunk is longer than its size says")
    trailer = 0
    while (line := _read_line(rfile, "the end of the chunked body")) not in (b"\r\n", b"\n"):
        trailer += len(line)
        if trailer > MAX_TRAILER_BYTES:
            raise BodyRefused(400, f"the chunked body's trailer is longer than {MAX_TRAILER_BYTES} bytes")
    return b"".join(chunks)


def read_body(rfile: io.BufferedIOBase, headers: Message, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes; :class:`BodyRefused` when it cannot or must not be read.

    A declared ``Content-Length`` over ``limit`` is refused before anything is read; a chunked body as soon
    as its chunk sizes add up to more. A body shorter than declared is refused once the client closes its
    side or the socket's timeout (the handler's) passes.
    """
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        return _read_chunked(rfile, limit)
    length = _declared_length(headers)
    if length > limit:
        raise _too_large(limit)
    return _read_exactly(rfile, length, "the body") if length > 0 else b""


@dataclass
class Fault:
    id: int
    platform: str | None
    operation: str | None
    kind: str
    status: int | None
    retry_after: float | None
    delay_seconds: float
    remaining: int

    def matches(self, platform: str, operation: str) -> bool:
        return (self.platform in (None, platform)) and (self.operation in (None, operation))

    def as_dict(self) -> JSONObject:
        return {
            "id": self.id,
            "platform": self.platform,
            "operation": self.operation,
            "kind": self.kind,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay_seconds": self.delay_seconds,
            "count": self.remaining,
        }


def _number(payload: Mapping[str, Any], name: str, default: float | None) -> float | None:
    value = payload.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ControlError(f"'{name}' must be a non-negative number, got {value!r}")
    return float(value)


def _retry_after_header(seconds: float) -> str:
    # Retry-After is delay-seconds, an integer; a whole number is sent without a fraction.
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class EmulatorCore:
    """Everything behind the socket; independent of the HTTP server so it can be reasoned about alone."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        backends: Mapping[str, EmulatorBackend] | None = None,
    ) -> None:
        self.ctx = EmulatorContext(clock)
        # One platform per registry entry, built by the backend its emulator package exposes.
        self.backends = dict(load_backends() if backends is None else backends)
        self.platforms: dict[str, Platform] = {
            name: backend.platform(self.ctx) for name, backend in self.backends.items()
        }
        for name, platform in self.platforms.items():
            if platform.name != name:
                raise TypeError(f"the backend {name!r} builds a platform named {platform.name!r}")
            limit = getattr(platform, "max_body_bytes", None)
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise TypeError(f"the platform {name!r} declares no max_body_bytes (got {limit!r})")
        self._faults: list[Fault] = []
        self._next_fault_id = 1
        self._calls: dict[str, Counter[str]] = {}
        self._faults_fired: Counter[str] = Counter()
        # TCP connections the server accepted since it started (not reset): a client that reuses its
        # connections keeps this flat; the benchmark reports it per minute.
        self.connections_accepted = 0
        self.reset()

    # -- API traffic -----------------------------------------------------------------------------

    @staticmethod
    def _is_control(request: ApiRequest) -> bool:
        return request.path.startswith(CONTROL_PREFIX) or request.path == CONTROL_PREFIX.rstrip("/")

    def _claimant(self, request: ApiRequest) -> Platform | None:
        """The platform that answers ``request``; None for the control API, Flink REST and unclaimed paths."""
        if self._is_control(request) or request.path.startswith(FLINK_REST_PREFIX):
            return None
        return next((p for p in self.platforms.values() if p.claims(request)), None)

    def max_body_bytes(self, request: ApiRequest) -> int:
        """The largest body accepted for ``request`` (read from its method, path and query only)."""
        platform = self._claimant(request)
        return platform.max_body_bytes if platform is not None else EMULATOR_MAX_BODY_BYTES

    def refuse_body(self, request: ApiRequest, refused: BodyRefused) -> ApiResponse:
        """The answer to a request whose body was not read, in the envelope of whoever serves its path.

        Such a request never reaches the platform's handler: it is neither counted nor matched by faults,
        as a gateway refuses it before the service sees it.
        """
        platform = self._claimant(request)
        if platform is not None:
            with self.ctx.lock:
                if refused.status == 413:
                    return platform.too_large_response(request)
                return platform.malformed_response(request, refused.detail)
        if request.path.startswith(FLINK_REST_PREFIX):
            return json_response(refused.status, {"errors": [refused.detail]})
        return json_response(refused.status, {"error": refused.detail})

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        if self._is_control(request):
            return self._control(request)
        if request.path.startswith(FLINK_REST_PREFIX):
            return self._flink_rest(request)
        platform = self._claimant(request)
        if platform is None:
            return json_response(
                404, {"error": f"no emulated platform serves {request.method} {request.path}"}
            )
        operation = platform.operation(request)
        with self.ctx.lock:
            self._calls[platform.name][operation] += 1
            fault = self._take_fault(platform.name, operation)
        if fault is not None:
            return self._faulted(platform, request, fault)
        with self.ctx.lock:
            return platform.handle(request)

    def _faulted(self, platform: Platform, request: ApiRequest, fault: Fault) -> ApiResponse:
        """Answer ``request`` as ``fault`` says; no lock is held while sleeping, so others are served."""
        if fault.kind == "drop":
            return ApiResponse(status=0, drop=True)
        if fault.kind == "status":
            assert fault.status is not None
            code, message = platform.fault_code(fault.status)
            headers = (
                {} if fault.retry_after is None else {"Retry-After": _retry_after_header(fault.retry_after)}
            )
            with self.ctx.lock:
                return platform.error_response(request, fault.status, code, message, headers)
        if fault.kind == "delay":
            time.sleep(fault.delay_seconds)
        with self.ctx.lock:
            response = platform.handle(request)
        if fault.kind == "lose_response":
            # The call took effect but its reply never arrives: what a client sees when a connection
            # breaks after the server acted. Only a client that looks before repeating a start avoids
            # a duplicate.
            return ApiResponse(status=0, drop=True)
        if fault.kind == "late_response":
            # The call took effect at once; the reply comes late, perhaps after the client gave up.
            time.sleep(fault.delay_seconds)
        return response

    def _take_fault(self, platform: str, operation: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(platform, operation):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                self._faults_fired[platform] += 1
                return fault
        return None

    def _flink_rest(self, request: ApiRequest) -> ApiResponse:
        name, _, subpath = request.path[len(FLINK_REST_PREFIX) :].partition("/")
        platform = self.platforms.get(name)
        if platform is None or request.method not in ("GET", "HEAD"):
            return json_response(404, {"errors": [f"Not found: {request.path}"]})
        with self.ctx.lock:
            return platform.flink_rest(request, subpath)

    # -- control API -----------------------------------------------------------------------------

    def reset(self) -> None:
        with self.ctx.lock:
            self.ctx.timings = type(self.ctx.timings)()
            self._faults.clear()
            self._calls = {name: Counter() for name in self.platforms}
            self._faults_fired = Counter()
            for platform in self.platforms.values():
                platform.reset()

    def counters(self) -> JSONObject:
        with self.ctx.lock:
            return {
                name: {
                    "calls": dict(self._calls[name]),
                    **platform.counters(),
                    "faults_fired": self._faults_fired[name],
                }
                for name, platform in self.platforms.items()
            }

    def state(self) -> JSONObject:
        with self.ctx.lock:
            # Keyed by platform name at the top level, like the counters.
            return {
                "timings": self.ctx.timings.as_dict(),
                "faults": [fault.as_dict() for fault in self._faults],
                **{name: platform.snapshot() for name, platform in self.platforms.items()},
            }

    def add_fault(self, payload: Mapping[str, Any]) -> Fault:
        platform = payload.get("platform")
        if platform is not None and platform not in self.platforms:
            raise ControlError(f"unknown platform {platform!r}; known: {sorted(self.platforms)}")
        operation = payload.get("operation")
        if operation is not None and (not isinstance(operation, str) or not operation):
            raise ControlError("'operation' must be an operation name or null for any")
        kind = payload.get("kind")
        if kind not in FAULT_KINDS:
            raise ControlError(f"'kind' must be one of {list(FAULT_KINDS)}, got {kind!r}")
        status = payload.get("status")
        if kind == "status" and (
            isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
        ):
            raise ControlError(
                f"'status' must be an HTTP error status (400-599) for kind 'status', got {status!r}"
            )
        count = payload.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ControlError(f"'count' must be a positive integer, got {count!r}")
        delay = _number(payload, "delay_seconds", None)
        if kind in DELAYED_KINDS and delay is None:
            raise ControlError(f"'delay_seconds' is required for kind {kind!r}")
        with self.ctx.lock:
            fault = Fault(
                id=self._next_fault_id,
                platform=platform,
                operation=operation,
                kind=kind,
                status=status if kind == "status" else None,
                retry_after=_number(payload, "retry_after", None),
                delay_seconds=delay or 0.0,
                remaining=count,
            )
            self._next_fault_id += 1
            self._faults.append(fault)
        return fault

    def _platform_named(self, payload: Mapping[str, Any]) -> Platform:
        name = payload.get("platform")
        platform = self.platforms.get(name) if isinstance(name, str) else None
        if platform is None:
            raise ControlError(f"'platform' must be one of {sorted(self.platforms)}, got {name!r}")
        return platform

    def _control(self, request: ApiRequest) -> ApiResponse:
        # The control API is unauthenticated, so it is only answered to this machine.
        if not is_loopback_host(request.client_host):
            return json_response(403, {"error": "the control API only answers loopback clients"})
        route = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            payload = self._control_payload(request)
            result = self._control_route(request.method, route, payload)
        except ControlError as exc:
            return json_response(400, {"error": str(exc)})
        if result is None:
            return json_response(404, {"error": f"no control endpoint {request.method} {request.path}"})
        return json_response(200, result)

    @staticmethod
    def _control_payload(request: ApiRequest) -> JSONObject:
        if not request.body.strip():
            return {}
        try:
            payload = json.loads(request.body)
        except ValueError as exc:
            raise ControlError(f"the body is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise ControlError("the body must be a JSON object")
        return payload

    def _control_route(self, method: str, route: str, payload: JSONObject) -> JSONObject | None:
        if method == "GET":
            if route == "health":
                return {"status": "ok"}
            if route == "counters":
                return self.counters()
            if route == "connections":
                with self.ctx.lock:
                    return {"accepted": self.connections_accepted}
            if route == "state":
                return self.state()
            if route == "timings":
                with self.ctx.lock:
                    return self.ctx.timings.as_dict()
            return None
        if method != "POST":
            return None
        if route == "reset":
            self.reset()
            return {"status": "ok"}
        if route == "timings":
            with self.ctx.lock:
                self.ctx.timings = self.ctx.timings.updated(payload)
                return self.ctx.timings.as_dict()
        if route == "failures":
            platform = self._platform_named(payload)
            failure = FailureSpec.from_json(payload)
            with self.ctx.lock:
                platform.add_failure(failure)
            return {"platform": platform.name, **failure.as_dict()}
        if route == "faults":
            return self.add_fault(payload).as_dict()
        if route == "settings":
            platform = self._platform_named(payload)
            with self.ctx.lock:
                settings = platform.configure({k: v for k, v in payload.items() if k != "platform"})
            return {"platform": platform.name, **settings}
        if route == "credentials":
            platform = self._platform_named(payload)
            with self.ctx.lock:
                platform.add_credentials(payload)
            return {"platform": platform.name, "access_key": payload["access_key"]}
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.1 keeps client connections alive, as the real gateways do.
    protocol_version = "HTTP/1.1"
    server_version = "flinkcloud-emulator"
    sys_version = ""
    # Idle keep-alive connections are closed after this, so stopped servers do not linger.
    timeout = 30
    # A buffered wfile: status line, headers and body leave in one send when the handler returns
    # (handle_one_request flushes), instead of the headers alone first and the body after.
    wbufsize = 64 * 1024

    def setup(self) -> None:
        super().setup()
        with self.server.core.ctx.lock:
            self.server.core.connections_accepted += 1
        # Replies go out in one send (see wbufsize); without TCP_NODELAY a second small write would still wait
        # for the client's delayed ACK (Nagle's algorithm), about 40 ms per reply on Linux.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        request = ApiRequest(
            method=self.command,
            path=url.path or "/",
            query_string=url.query,
            headers=headers,
            body=b"",
            client_host=str(self.client_address[0]),
        )
        core = self.server.core
        try:
            try:
                body = read_body(self.rfile, self.headers, core.max_body_bytes(request))
            except BodyRefused as refused:
                log.info("flinkcloud-emulator refused %s %s: %s", self.command, self.path, refused.detail)
                # Where the next request would start is unknown: answer, then close the connection.
                self._reply(core.refuse_body(request, refused), close=True)
                self._linger()
                return
            response = core.dispatch(replace(request, body=body))
        except Exception:
            # A bug in one handler must not take the server down for every other test.
            log.exception("flinkcloud-emulator failed on %s %s", self.command, self.path)
            response = json_response(500, {"error": "flinkcloud-emulator internal error; see its log"})
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._reply(response, close=self.server.stopping)

    def _reply(self, response: ApiResponse, *, close: bool) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _linger(self) -> None:
        """Half-close after a refusal, then discard what the client still sends (``LINGER_SECONDS`` at most).

        Closing a socket with unread data makes the kernel reset the connection, which can destroy the reply
        before the client reads it. Nothing read here is kept.
        """
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_SECONDS
            while (remaining := deadline - time.monotonic()) > 0:
                self.connection.settimeout(remaining)
                if not self.connection.recv(64 * 1024):
                    return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], core: EmulatorCore, *, verbose: bool) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.core = core
        self.verbose = verbose
        self.stopping = False
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that closes or resets its connection (a test's timeout, a pool closed at exit) is not an
        # emulator failure: socketserver would print a traceback to stderr for each.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Emulator:
    """The emulator in this process, served from a daemon thread.

    ``Emulator(port=0).start()`` picks a free port; ``url`` then holds the base URL to put into a
    connection's ``endpoint``. Usable as a context manager.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], float] = time.time,
        verbose: bool = False,
    ) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"the emulator only listens on loopback addresses, not {host!r}")
        self._host = host
        self._port = port
        self._verbose = verbose
        self.core = EmulatorCore(clock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started; call start() first")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started; call start() first")
        return int(self._server.server_address[1])

    @property
    def control(self) -> EmulatorControl:
        return EmulatorControl(self.url)

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self._server = _Server((self._host, self._port), self.core, verbose=self._verbose)
        self.core.ctx.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            name=f"flinkcloud-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.stopping = True
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
