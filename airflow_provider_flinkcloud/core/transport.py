"""Signed HTTP calls over requests (worker) and httpx (triggerer), with one retry policy.

A platform describes each API operation once as an :class:`ApiCall` (request + response parser);
the same call then runs on either transport. Requests are signed per attempt because signatures
carry a timestamp.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import requests

from airflow_provider_flinkcloud.core.errors import (
    ConnectionFailedError,
    FlinkCloudApiError,
    VendorErrorCodes,
)

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.settings import ConnectionSettings

log = logging.getLogger(__name__)
# httpx logs every request at INFO ("HTTP Request: POST ..."), one line per poll in the triggerer's and
# tasks' logs. Unless the deployment configured the httpx logger itself, only its warnings are kept.
_httpx_log = logging.getLogger("httpx")
if _httpx_log.level == logging.NOTSET:
    _httpx_log.setLevel(logging.WARNING)

T = TypeVar("T")


@dataclass(frozen=True)
class ApiRequest:
    operation: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    # A call that creates or starts something is never repeated blindly: the caller checks whether
    # the first attempt took effect before trying again.
    idempotent: bool = True


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class ApiCall(Generic[T]):
    request: ApiRequest
    parse: Callable[[ApiResponse], T]


@dataclass(frozen=True)
class VendorError:
    """An error as a platform's reply states it; the transport types it with the platform's code table."""

    code: str | None
    message: str
    request_id: str | None = None


class PlatformClient(Protocol):
    """What a platform supplies to the transports: where to send, how to sign, how to read errors."""

    platform: str
    base_url: str
    codes: VendorErrorCodes
    retry: RetryPolicy
    # (connect, read) seconds.
    timeouts: tuple[float, float]

    @property
    def settings(self) -> ConnectionSettings: ...

    def sign(self, request: ApiRequest, host: str, now: datetime) -> dict[str, str]: ...

    def read_error(self, request: ApiRequest, response: ApiResponse) -> VendorError | None:
        """The platform's error in ``response``, or None when the call succeeded."""
        ...

    def probe_call(self) -> ApiCall[Any]:
        """A cheap read-only call that proves the credentials work."""
        ...


def api_error(
    client: PlatformClient, request: ApiRequest, response: ApiResponse
) -> FlinkCloudApiError | None:
    """The typed error of a reply, from the platform's own code table alone."""
    error = client.read_error(request, response)
    if error is None:
        return None
    return client.codes.error_class(response.status, error.code)(
        platform=client.platform,
        operation=request.operation,
        http_status=response.status,
        code=error.code,
        message=error.message,
        request_id=error.request_id,
        retry_after=parse_retry_after(response.header("Retry-After")),
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter for idempotent calls; ``Retry-After`` wins when given."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, error: FlinkCloudApiError) -> float:
        """Delay before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after) + random.uniform(0, 0.1)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def next_delay(self, attempt: int, error: FlinkCloudApiError, retryable: bool) -> float | None:
        if not retryable or attempt >= self.max_attempts:
            return None
        return self.delay(attempt, error)


def build_url(base_url: str, request: ApiRequest) -> str:
    url = base_url.rstrip("/") + request.path
    if request.query:
        url += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in request.query)
    return url


def host_header(base_url: str) -> str:
    return urlsplit(base_url).netloc


@dataclass(frozen=True)
class _Parsed(Generic[T]):
    value: T


@dataclass
class _Attempts:
    """The retry decision shared by both transports."""

    client: PlatformClient
    retry: RetryPolicy
    request: ApiRequest
    # Epoch seconds after which no retry starts (the task's timeout).
    deadline: float | None = None
    count: int = 0

    def read(self, call: ApiCall[T], response: ApiResponse) -> _Parsed[T] | FlinkCloudApiError:
        error = api_error(self.client, self.request, response)
        if error is not None:
            return error
        try:
            return _Parsed(call.parse(response))
        except (ValueError, KeyError, TypeError) as exc:
            raise FlinkCloudApiError(
                platform=self.client.platform,
                operation=self.request.operation,
                http_status=response.status,
                code="UnexpectedResponse",
                message=f"could not read the response: {exc}",
            ) from exc

    def no_response(self, exc: Exception) -> ConnectionFailedError:
        return ConnectionFailedError(
            platform=self.client.platform,
            operation=self.request.operation,
            code=type(exc).__name__,
            message=f"no response from {host_header(self.client.base_url)}: {exc}",
        )

    def backoff(self, error: FlinkCloudApiError) -> float:
        """Seconds to wait before the next attempt; raises ``error`` when there is none."""
        self.count += 1
        retryable = self.request.idempotent and self.client.codes.is_retryable(error)
        delay = self.retry.next_delay(self.count, error, retryable)
        if delay is None:
            raise error
        if self.deadline is not None and time.time() + delay > self.deadline:
            # Waiting as asked (Retry-After or backoff) would pass the task's timeout.
            log.warning(
                "%s; no retry of %s: waiting %.1fs would pass the timeout",
                error,
                self.request.operation,
                delay,
            )
            raise error
        log.warning("%s; retrying %s in %.1fs", error, self.request.operation, delay)
        return delay


@dataclass
class SyncTransport:
    client: PlatformClient
    # The connection's policy (``client.retry``) unless given.
    retry: RetryPolicy | None = None
    deadline: float | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def send_once(self, request: ApiRequest) -> ApiResponse:
        headers = self.client.sign(request, host_header(self.client.base_url), datetime.now(timezone.utc))
        raw = self.session.request(
            request.method,
            build_url(self.client.base_url, request),
            headers=headers,
            data=request.body or None,
            timeout=self.client.timeouts,
            allow_redirects=False,
            verify=self.client.settings.verify_ssl,
        )
        return ApiResponse(raw.status_code, {k.lower(): v for k, v in raw.headers.items()}, raw.content)

    def execute(self, call: ApiCall[T]) -> T:
        attempts = _Attempts(self.client, self.retry or self.client.retry, call.request, self.deadline)
        while True:
            try:
                outcome = attempts.read(call, self.send_once(call.request))
            except (requests.ConnectionError, requests.Timeout) as exc:
                outcome = attempts.no_response(exc)
            if isinstance(outcome, _Parsed):
                return outcome.value
            time.sleep(attempts.backoff(outcome))


# One connection pool per event loop (and TLS verification setting): every trigger in a triggerer
# process shares it. httpx fixes ``verify`` per client, so connections that skip the certificate
# check get a pool of their own.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def shared_async_client(verify: bool = True) -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    clients = _async_clients.setdefault(loop, {})
    client = clients.get(verify)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=10.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            follow_redirects=False,
            verify=verify,
        )
        clients[verify] = client
    return client


@dataclass
class AsyncTransport:
    client: PlatformClient
    retry: RetryPolicy | None = None
    deadline: float | None = None

    async def send_once(self, request: ApiRequest) -> ApiResponse:
        headers = self.client.sign(request, host_header(self.client.base_url), datetime.now(timezone.utc))
        raw = await shared_async_client(self.client.settings.verify_ssl).request(
            request.method,
            build_url(self.client.base_url, request),
            headers=headers,
            content=request.body or None,
            timeout=httpx.Timeout(self.client.timeouts[1], connect=self.client.timeouts[0]),
        )
        return ApiResponse(raw.status_code, {k.lower(): v for k, v in raw.headers.items()}, raw.content)

    async def execute(self, call: ApiCall[T]) -> T:
        attempts = _Attempts(self.client, self.retry or self.client.retry, call.request, self.deadline)
        while True:
            try:
                outcome = attempts.read(call, await self.send_once(call.request))
            except httpx.TransportError as exc:
                outcome = attempts.no_response(exc)
            if isinstance(outcome, _Parsed):
                return outcome.value
            await asyncio.sleep(attempts.backoff(outcome))
