"""What every emulated API gateway does alike: credentials, clock skew, signed headers, failure queues.

Each platform package (``emulator/<name>/``) verifies its own signature dialect and answers in its own
envelope, but looks up secrets in a :class:`CredentialTable`, checks the signing time with
:func:`within_clock_skew`, gathers the signed header values with :func:`signed_header_values` and keeps
the failures injected through the control API in a :class:`FailureQueue`. It exposes itself to the
server, the command line and the control client as an :class:`EmulatorBackend` named ``BACKEND``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_flinkcloud import registry
from airflow_provider_flinkcloud.emulator.platform import (
    ApiRequest,
    ControlError,
    EmulatorContext,
    FailureSpec,
    JSONObject,
    Platform,
)

# The window both vendors' gateways allow between the signing time and their clock.
MAX_CLOCK_SKEW_SECONDS = 15 * 60


# -- credentials ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    """An access key the emulator accepts, with what it prints about it at start-up.

    ``scopes`` are the projects the key may use (empty: any); ``extras`` are printed after the secret,
    e.g. ``(("project id", "..."),)``; ``label`` qualifies the key in the banner (``STS``).
    """

    access_key: str
    secret_key: str
    session_token: str | None = None
    scopes: frozenset[str] = frozenset()
    label: str = ""
    session_label: str = "session token"
    extras: tuple[tuple[str, str], ...] = ()

    def banner(self, platform: str) -> str:
        """One start-up line: ``volcengine STS access key: ...  secret key: ...  session token: ...``."""
        prefix = f"{platform} {self.label}".rstrip()
        line = f"{prefix} access key: {self.access_key}  secret key: {self.secret_key}"
        if self.session_token is not None:
            line += f"  {self.session_label}: {self.session_token}"
        return line + "".join(f"  {name}: {value}" for name, value in self.extras)

    def token_matches(self, token: str | None) -> bool:
        """Whether ``token`` is this credential's session token (always, for a permanent key)."""
        if self.session_token is None:
            return True
        return token is not None and hmac.compare_digest(token.encode(), self.session_token.encode())


class CredentialTable:
    """Access key -> :class:`Credential`. Kept across resets: tests add keys once per server."""

    def __init__(self, credentials: Iterable[Credential] = ()) -> None:
        self._credentials: dict[str, Credential] = {}
        for credential in credentials:
            self.add(credential)

    def add(self, credential: Credential) -> None:
        self._credentials[credential.access_key] = credential

    def get(self, access_key: str) -> Credential | None:
        return self._credentials.get(access_key)

    def access_keys(self) -> list[str]:
        return sorted(self._credentials)

    def items(self) -> list[tuple[str, Credential]]:
        return sorted(self._credentials.items())

    def add_from_payload(self, payload: Mapping[str, Any]) -> Credential:
        """Accept the control API's ``{access_key, secret_key[, session_token]}``."""
        credential = self.from_payload(payload)
        self.add(credential)
        return credential

    @staticmethod
    def from_payload(payload: Mapping[str, Any]) -> Credential:
        """The credential the control API's payload names; :class:`ControlError` when it is incomplete."""
        access_key, secret_key = payload.get("access_key"), payload.get("secret_key")
        token = payload.get("session_token")
        if not isinstance(access_key, str) or not access_key:
            raise ControlError("'access_key' is required")
        if not isinstance(secret_key, str) or not secret_key:
            raise ControlError("'secret_key' is required")
        if token is not None and (not isinstance(token, str) or not token):
            raise ControlError("'session_token' must be a non-empty string when given")
        return Credential(access_key, secret_key, token)


# -- signing --------------------------------------------------------------------------------------


def signed_at(stamp: str, date_format: str) -> float | None:
    """The UTC time a ``X-Date``/``X-Sdk-Date`` value names, or None when it does not parse."""
    try:
        return datetime.strptime(stamp, date_format).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def within_clock_skew(
    stamp: str, date_format: str, now: float, max_skew_seconds: float = MAX_CLOCK_SKEW_SECONDS
) -> bool:
    """Whether a signing time parses and lies within ``max_skew_seconds`` of ``now`` (either side)."""
    at = signed_at(stamp, date_format)
    return at is not None and abs(now - at) <= max_skew_seconds


def format_time(now: float, date_format: str) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime(date_format)


def signed_header_values(request: ApiRequest, names: Iterable[str]) -> dict[str, str] | None:
    """The values of the headers a signature covers; None when one of them was not sent."""
    values: dict[str, str] = {}
    for name in names:
        value = request.header(name)
        if value is None:
            return None
        values[name] = value
    return values


def digests_match(expected: str, given: str | None) -> bool:
    """A constant-time comparison of a signature or body hash; a missing value never matches."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


# -- injected job failures ------------------------------------------------------------------------


class FailureQueue:
    """Failures waiting for the next instance (run) of a job, matched by any of the job's keys."""

    def __init__(self) -> None:
        self._pending: list[FailureSpec] = []

    def add(self, failure: FailureSpec) -> None:
        self._pending.append(failure)

    def take(self, keys: Iterable[str]) -> FailureSpec | None:
        """The oldest failure for a job known by any of ``keys`` (name, unique key, id); removed."""
        wanted = set(keys)
        for failure in self._pending:
            if failure.job in wanted:
                self._pending.remove(failure)
                return failure
        return None

    def clear(self) -> None:
        self._pending.clear()

    def as_list(self) -> list[JSONObject]:
        return [failure.as_dict() for failure in self._pending]


# -- backends -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmulatorBackend:
    """What the emulator needs of one platform package; ``name`` is the platform's registry name."""

    name: str
    platform: Callable[[EmulatorContext], Platform]
    # The first credential is the default one, used by :meth:`connection`.
    credentials: tuple[Credential, ...]
    region: str
    project_id: str

    def banner(self) -> list[str]:
        """The start-up lines naming every default credential set."""
        return [credential.banner(self.name) for credential in self.credentials]

    def connection(self, base_url: str) -> JSONObject:
        """The fields of an Airflow connection of this platform pointing at the emulator at ``base_url``."""
        default = self.credentials[0]
        return {
            "login": default.access_key,
            "password": default.secret_key,
            "extra": {"endpoint": base_url, "region": self.region, "project_id": self.project_id},
        }


def load_backend(name: str) -> EmulatorBackend:
    spec = registry.platform(name)
    backend = spec.load(spec.emulator_backend_path)
    if not isinstance(backend, EmulatorBackend) or backend.name != spec.name:
        raise TypeError(f"{spec.emulator_backend_path} is not the EmulatorBackend of {spec.name!r}")
    return backend


def load_backends() -> dict[str, EmulatorBackend]:
    """Every registered platform's backend, in registry order."""
    return {name: load_backend(name) for name in registry.PLATFORMS}
