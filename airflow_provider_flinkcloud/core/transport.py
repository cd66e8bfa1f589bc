"""Signed HTTP calls over requests (worker) and aiohttp (triggerer), with one retry policy.

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
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import quote, urlsplit

from airflow_provider_flinkcloud.core.errors import (
    ConnectionFailedError,
    FlinkCloudApiError,
    VendorErrorCodes,
)

if TYPE_CHECKING:
    import aiohttp
    import requests

    from airflow_provider_flinkcloud.core.settings import ConnectionSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")
C = TypeVar("C")


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
        """The body as JSON, decoded once: the error check and the parser both read it."""
        # Kept in the instance's __dict__ by hand: functools.cached_property takes a lock on every read
        # before Python 3.12 (https://github.com/python/cpython/issues/87634), a cost in every poll.
        try:
            return self.__dict__["_json"]
        except KeyError:
            decoded = self.__dict__["_json"] = json.loads(self.body or b"null")
            return decoded

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class ApiCall(Generic[T]):
    request: ApiRequest
    parse: Callable[[ApiResponse], T]

    def then(self, convert: Callable[[C, T], U], context: C) -> ApiCall[U]:
        """The same request, its reply read by ``parse`` and then turned by ``convert(context, value)``.

        No closure per call: a triggerer holds one status call per watched job for months, and every
        object it holds is one more the garbage collector walks on each full collection (issue 12).
        """
        return ApiCall(self.request, _Then(self.parse, convert, context))


@dataclass(frozen=True, slots=True)
class _Then(Generic[C, T, U]):
    parse: Callable[[ApiResponse], T]
    convert: Callable[[C, T], U]
    context: C

    def __call__(self, response: ApiResponse) -> U:
        return self.convert(self.context, self.parse(response))


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


def _requests() -> Any:
    """``requests``, imported on first use: only a worker running a task sends synchronous calls, and the
    requests / urllib3 / charset_normalizer stack is half of what a DAG file that uses us would import."""
    import requests

    return requests


def _aiohttp() -> Any:
    import aiohttp

    return aiohttp


@dataclass
class SyncTransport:
    client: PlatformClient
    # The connection's policy (``client.retry``) unless given.
    retry: RetryPolicy | None = None
    deadline: float | None = None
    session: requests.Session = field(default_factory=lambda: _requests().Session())

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
            except (_requests().ConnectionError, _requests().Timeout) as exc:
                outcome = attempts.no_response(exc)
            if isinstance(outcome, _Parsed):
                return outcome.value
            time.sleep(attempts.backoff(outcome))


# One connection pool per event loop: every trigger in a triggerer process shares it. aiohttp, not httpx:
# measured side by side on the emulator (bench/README.md), a shared aiohttp session costs about a third of
# the CPU per request of a shared httpx.AsyncClient, and httpx's pool rescans its whole queue on every
# request and release, so a triggerer watching thousands of jobs collapses (issue 12).
_loop_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = weakref.WeakKeyDictionary()
# Connections kept open at once by one triggerer process; each poll holds one for a few milliseconds.
ASYNC_POOL_SIZE = 100


@dataclass(eq=False, slots=True)
class _ReplyDeadline:
    task: asyncio.Task[Any]
    # loop.time() by which the reply must have come.
    due: float
    # The task's pending cancellations when the request began (Python >= 3.11; else 0).
    cancelling: int
    expired: bool = False


class _ReplyDeadlines:
    """The read timeouts of one event loop's requests, kept by one timer for all of them.

    aiohttp's own read timeout (``sock_read``) arms a timer for every read and cancels it when data comes.
    A cancelled timer stays in the loop's heap, with a copy of its task's context, until its time would
    have come: at 667 polls/s and a 60 s timeout that is tens of thousands of dead handles, each living
    through young collections into the oldest generation, whose growth brings on the long full collections
    of a triggerer (issue 12: without them, 27 % fewer young collections at 1,000 polls/s). Here a request
    in flight is an entry in a set (at most the pool's size), and one timer looks over the set while it is
    not empty; an overdue request's task is cancelled and the cancellation turned into a timeout, the way
    ``asyncio.timeout`` does it (https://docs.python.org/3/library/asyncio-task.html#asyncio.Timeout).
    """

    # Seconds between looks: a reply is given up at most this long after its timeout.
    TICK = 0.25

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: set[_ReplyDeadline] = set()
        self.timer: asyncio.TimerHandle | None = None

    def start(self, seconds: float) -> _ReplyDeadline:
        task = asyncio.current_task(self.loop)
        assert task is not None, "a request is sent from a task"
        cancelling = getattr(task, "cancelling", None)
        deadline = _ReplyDeadline(task, self.loop.time() + seconds, cancelling() if cancelling else 0)
        self.pending.add(deadline)
        if self.timer is None:
            self.timer = self.loop.call_later(self.TICK, self._look)
        return deadline

    def end(self, deadline: _ReplyDeadline) -> None:
        self.pending.discard(deadline)

    def timed_out(self, deadline: _ReplyDeadline) -> bool:
        """Whether the ``CancelledError`` the request got is its own timeout's, and nobody else's."""
        if not deadline.expired:
            return False
        uncancel = getattr(deadline.task, "uncancel", None)
        return uncancel is None or uncancel() <= deadline.cancelling

    def _look(self) -> None:
        now = self.loop.time()
        for deadline in self.pending:
            if not deadline.expired and deadline.due <= now:
                # Cancelled while it waits inside send_once (it is in the set only there), so the
                # CancelledError reaches that await, and send_once turns it into a timeout.
                deadline.expired = True
                deadline.task.cancel()
        self.timer = self.loop.call_later(self.TICK, self._look) if self.pending else None


@dataclass(frozen=True)
class _LoopPool:
    """One event loop's session, what closes it with the loop, its free connections and reply deadlines."""

    session: aiohttp.ClientSession
    closer: AsyncGenerator[None, None]
    # A request waits for a free connection here, before it is signed or built: a burst of polls (after
    # a pause of the loop) then waits as a future each, where aiohttp's own queue would hold a whole
    # request (some 40 objects, each surviving into the collector's oldest generation, whose growth
    # brings on the next long full collection: issue 12). Signed when sent, the signature is also fresh.
    connections: asyncio.Semaphore
    deadlines: _ReplyDeadlines


async def _closed_with_the_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Parked at its ``yield`` for the loop's lifetime. ``asyncio.run`` finalises every live async generator
    before it closes the loop (``loop.shutdown_asyncgens``), which closes the session there, in its own
    loop: no "Unclosed client session" at exit, nor after each trigger that ``dag.test()`` runs."""
    try:
        yield
    finally:
        await session.close()


async def shared_async_session() -> aiohttp.ClientSession:
    """The event loop's one session, created on first use (aiohttp is imported by the triggerer only)."""
    return (await _loop_pool()).session


async def _loop_pool() -> _LoopPool:
    import aiohttp

    loop = asyncio.get_running_loop()
    pool = _loop_pools.get(loop)
    if pool is not None and not pool.session.closed:
        return pool
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=ASYNC_POOL_SIZE, ttl_dns_cache=300),
        # Headers go out as signed: aiohttp would add a Content-Type to a bytes body that the signer never
        # saw (some signatures cover Content-Type).
        skip_auto_headers=("Content-Type",),
        # No cookies are kept between calls (each call is signed on its own).
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    closer = _closed_with_the_loop(session)
    await closer.asend(None)
    pool = _LoopPool(session, closer, asyncio.Semaphore(ASYNC_POOL_SIZE), _ReplyDeadlines(loop))
    _loop_pools[loop] = pool
    return pool


@dataclass
class AsyncTransport:
    client: PlatformClient
    retry: RetryPolicy | None = None
    deadline: float | None = None

    async def send_once(self, request: ApiRequest) -> ApiResponse:
        connect, read = self.client.timeouts
        pool = await _loop_pool()
        async with pool.connections:
            deadline = pool.deadlines.start(read)
            try:
                return await self._exchange(pool.session, request, connect)
            except asyncio.CancelledError:
                if pool.deadlines.timed_out(deadline):
                    raise asyncio.TimeoutError(f"no reply within {read:g}s") from None
                raise
            finally:
                pool.deadlines.end(deadline)

    async def _exchange(
        self, session: aiohttp.ClientSession, request: ApiRequest, connect: float
    ) -> ApiResponse:
        import aiohttp
        from yarl import URL

        headers = self.client.sign(request, host_header(self.client.base_url), datetime.now(timezone.utc))
        async with session.request(
            request.method,
            # encoded=True: the URL is sent exactly as signed, not re-quoted by yarl.
            URL(build_url(self.client.base_url, request), encoded=True),
            headers=headers,
            data=request.body or None,
            allow_redirects=False,
            # The read timeout is the loop's reply deadlines' (above), not a timer per request.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect),
            # A connection that skips the certificate check (extra verify_ssl=false) says so per request.
            ssl=self.client.settings.verify_ssl,
        ) as raw:
            body = await raw.read()
            return ApiResponse(raw.status, {k.lower(): v for k, v in raw.headers.items()}, body)

    async def execute(self, call: ApiCall[T]) -> T:
        attempts = _Attempts(self.client, self.retry or self.client.retry, call.request, self.deadline)
        while True:
            try:
                outcome = attempts.read(call, await self.send_once(call.request))
            except (_aiohttp().ClientError, asyncio.TimeoutError) as exc:
                outcome = attempts.no_response(exc)
            if isinstance(outcome, _Parsed):
                return outcome.value
            await asyncio.sleep(attempts.backoff(outcome))
