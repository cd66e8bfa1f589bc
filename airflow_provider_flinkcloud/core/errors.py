"""Typed errors shared by every platform.

They do not derive from ``AirflowException`` so that the transport, models and emulator stay
importable without Airflow; any exception fails an Airflow task the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FlinkCloudError(Exception):
    """Base of every error this provider raises."""


class JobSpecError(FlinkCloudError, ValueError):
    """The user's job spec is invalid; raised before any request is made."""


class FlinkCloudApiError(FlinkCloudError):
    """A platform API call failed.

    ``code`` is the vendor's own error code, ``message`` its own text. ``retry_after`` is the
    delay in seconds the platform asked for (``Retry-After``), if any.
    """

    def __init__(
        self,
        *,
        platform: str,
        operation: str,
        message: str,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.platform = platform
        self.operation = operation
        self.http_status = http_status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"{self.platform} {self.operation} failed"]
        details = []
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.code:
            details.append(self.code)
        if details:
            parts.append(f"({', '.join(details)})")
        text = " ".join(parts) + f": {self.message}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_api_error, (type(self), self.__dict__.copy()))


def _rebuild_api_error(cls: type[FlinkCloudApiError], state: dict[str, Any]) -> FlinkCloudApiError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error


class AuthError(FlinkCloudApiError):
    """Credentials or signature rejected (wrong key, secret, token, clock)."""


class PermissionDeniedError(AuthError):
    """Authenticated, but not allowed to do this."""


class NotFoundError(FlinkCloudApiError):
    """The job, instance or resource does not exist."""


class InvalidRequestError(FlinkCloudApiError):
    """The platform rejected the request as invalid."""


class ThrottledError(FlinkCloudApiError):
    """Rate limited (HTTP 429 or a vendor throttling code)."""


class TransientError(FlinkCloudApiError):
    """Server-side or network failure that may succeed when repeated (5xx, timeout, dropped connection)."""


class ConnectionFailedError(TransientError):
    """No response was received: the request may or may not have taken effect."""


def error_class_for_status(http_status: int | None) -> type[FlinkCloudApiError]:
    if http_status is None:
        return FlinkCloudApiError
    if http_status == 401:
        return AuthError
    if http_status == 403:
        return PermissionDeniedError
    if http_status == 404:
        return NotFoundError
    if http_status == 429:
        return ThrottledError
    if http_status >= 500:
        return TransientError
    if 400 <= http_status < 500:
        return InvalidRequestError
    return FlinkCloudApiError


@dataclass(frozen=True)
class VendorErrorCodes:
    """A platform's own error codes by kind: the one table that types its errors and decides retries."""

    auth: frozenset[str] = frozenset()
    permission: frozenset[str] = frozenset()
    not_found: frozenset[str] = frozenset()
    throttling: frozenset[str] = frozenset()
    transient: frozenset[str] = frozenset()
    invalid: frozenset[str] = frozenset()

    def error_class(self, http_status: int, code: str | None) -> type[FlinkCloudApiError]:
        by_code: tuple[tuple[frozenset[str], type[FlinkCloudApiError]], ...] = (
            (self.auth, AuthError),
            (self.permission, PermissionDeniedError),
            (self.throttling, ThrottledError),
            (self.transient, TransientError),
            (self.not_found, NotFoundError),
            (self.invalid, InvalidRequestError),
        )
        for codes, cls in by_code:
            if code in codes:
                return cls
        if 200 <= http_status < 300:
            # An error inside a success reply: the platform refused the request.
            return InvalidRequestError
        return error_class_for_status(http_status)

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        """Whether an idempotent call that failed this way may be repeated."""
        if error.code in self.transient or error.code in self.throttling:
            return True
        return isinstance(error, TransientError | ThrottledError)


def took_no_effect(error: FlinkCloudApiError) -> bool:
    """Whether the platform answered that it did not carry the call out.

    A refusal (4xx, 429) or 503 Service Unavailable says so; no answer, a timeout, or a 500 / 502 / 504
    (the gateway may have passed the call on before it failed) leaves it open.
    """
    if isinstance(error, ConnectionFailedError) or error.http_status is None:
        return False
    return error.http_status < 500 or error.http_status == 503


class StartUnconfirmedError(FlinkCloudError):
    """A start got no clear answer and the job could not be found: the try fails, a retry looks again."""


class JobFailedError(FlinkCloudError):
    """The remote job ended in a state the task did not accept; carries the platform's error text."""

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        self.result = result or {}
        super().__init__(message)


class JobTimeoutError(FlinkCloudError):
    """The deadline passed before the job reached the awaited state; the job itself is left alone."""
