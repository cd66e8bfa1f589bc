"""Connection settings, read from an Airflow connection without importing Airflow.

:class:`ConnectionSettings` holds what every platform has (endpoint, retry policy);
:class:`AccessKeySettings` is a cloud signed with an access key and secret; :class:`HostSettings` is a
server addressed by host and port with an optional login or API token.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from typing_extensions import Self

from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.core.transport import RetryPolicy


class ConnectionLike(Protocol):
    """The attributes of ``airflow.models.Connection`` that settings read."""

    conn_id: str
    host: str | None
    port: int | None
    schema: str | None
    login: str | None
    password: str | None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _shown(value: Any, secret: bool) -> str:
    # A secret is described by its type only, never shown.
    return f"a value of type {type(value).__name__}" if secret else repr(value)


def parse_extra(conn_id: str, raw: Any) -> dict[str, Any]:
    """The connection's extra as a dict, from the raw ``Connection.extra`` text.

    Airflow's ``extra_dejson`` answers ``{}`` for an extra that is not JSON (and logs it), after which
    a hook would sign requests for the default public endpoint nobody configured; this fails instead,
    naming the connection and the JSON error's position, never the text (it may hold a secret).
    """
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return dict(raw)
    if not isinstance(raw, str):
        raise JobSpecError(f"connection {conn_id!r}: extra: must be a JSON object, got {_shown(raw, True)}")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "unreadable"
        raise JobSpecError(
            f"connection {conn_id!r}: extra is not valid JSON ({reason}{where}); give the extra as a "
            'JSON object, e.g. {"region": "...", "endpoint": "https://..."}'
        ) from None
    if not isinstance(value, dict):
        raise JobSpecError(
            f"connection {conn_id!r}: extra: must be a JSON object, got a JSON {type(value).__name__}"
        )
    return value


def extra_text(conn_id: str, extra: dict[str, Any], name: str, *, secret: bool = False) -> str | None:
    """An extra field that must be text (a JSON string); blank is absent."""
    value = extra.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise JobSpecError(
            f"connection {conn_id!r}: extra {name}: must be text (a JSON string), got {_shown(value, secret)}"
        )
    return value.strip() or None


def _extra_number(
    conn_id: str, extra: dict[str, Any], name: str, default: float, *, whole: bool, minimum: float
) -> float:
    value = extra.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    rule = (
        f"must be a whole number >= {minimum:g}" if whole else f"must be a number of seconds >= {minimum:g}"
    )
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < minimum or (whole and not number.is_integer()):
        raise JobSpecError(f"connection {conn_id!r}: extra {name}: {rule}, got {value!r}")
    return number


def _retry_policy(conn_id: str, extra: dict[str, Any]) -> RetryPolicy:
    defaults = RetryPolicy()
    return RetryPolicy(
        max_attempts=int(
            _extra_number(conn_id, extra, "retry_max_attempts", defaults.max_attempts, whole=True, minimum=1)
        ),
        base_delay=_extra_number(
            conn_id, extra, "retry_base_delay", defaults.base_delay, whole=False, minimum=0
        ),
        max_delay=_extra_number(
            conn_id, extra, "retry_max_delay", defaults.max_delay, whole=False, minimum=0
        ),
    )


def _endpoint(conn_id: str, extra: dict[str, Any]) -> str | None:
    endpoint = extra_text(conn_id, extra, "endpoint")
    if endpoint and not (endpoint.startswith(("http://", "https://")) and urlsplit(endpoint).netloc):
        raise JobSpecError(f"connection {conn_id!r}: extra endpoint must be a full URL, got {endpoint!r}")
    return endpoint.rstrip("/") if endpoint else None


@dataclass(frozen=True)
class WaitPolicy:
    """How long the lifecycle waits on a platform, from the connection's extra.

    ``read_timeout``: seconds a request may wait for its reply (a start that answers later is
    ambiguous and is looked for, never resent). ``start_confirm_seconds``: how long to look for a job
    after an ambiguous start before failing the try. ``poll_error_window``: how long polls may keep
    failing (each after the transport's retries) before a wait gives up.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    start_confirm_seconds: float = 60.0
    poll_error_window: float = 180.0


def _wait_policy(conn_id: str, extra: dict[str, Any]) -> WaitPolicy:
    defaults = WaitPolicy()
    values: dict[str, float] = {}
    for name in ("connect_timeout", "read_timeout", "start_confirm_seconds", "poll_error_window"):
        raw = extra.get(name, getattr(defaults, name))
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if isinstance(raw, bool) or not value > 0:
            raise JobSpecError(
                f"connection {conn_id!r}: extra {name} must be a positive number of seconds, got {raw!r}"
            )
        values[name] = value
    return WaitPolicy(**values)


@dataclass(frozen=True)
class ConnectionSettings:
    """What every platform's connection carries."""

    conn_id: str
    endpoint: str | None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    wait: WaitPolicy = field(default_factory=WaitPolicy)
    # Whether the transports check the server's TLS certificate (extra ``verify_ssl``, default true):
    # a self-hosted server may use a private CA or a self-signed certificate.
    verify_ssl: bool = True

    @classmethod
    def common(cls, conn: ConnectionLike, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "conn_id": conn.conn_id,
            "endpoint": _endpoint(conn.conn_id, extra),
            "retry": _retry_policy(conn.conn_id, extra),
            "wait": _wait_policy(conn.conn_id, extra),
            "verify_ssl": extra_flag(conn.conn_id, extra, "verify_ssl", True),
        }

    @classmethod
    def from_connection(cls, conn: ConnectionLike, extra: dict[str, Any]) -> Self:
        return cls(**cls.common(conn, extra))

    def secrets(self) -> list[str]:
        """Values to mask in every log line."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(conn_id={self.conn_id!r}, endpoint={self.endpoint!r})"


@dataclass(frozen=True, repr=False)
class AccessKeySettings(ConnectionSettings):
    """A cloud connection: access key in ``login``, secret in ``password``, the rest in extra."""

    access_key: str = ""
    secret_key: str = ""
    region: str | None = None
    project_id: str | None = None
    security_token: str | None = None

    @classmethod
    def from_connection(cls, conn: ConnectionLike, extra: dict[str, Any]) -> Self:
        access_key = (conn.login or "").strip()
        secret_key = conn.password or ""
        if not access_key:
            raise JobSpecError(f"connection {conn.conn_id!r}: login (the access key) is empty")
        if not secret_key:
            raise JobSpecError(f"connection {conn.conn_id!r}: password (the secret key) is empty")
        return cls(
            **cls.common(conn, extra),
            access_key=access_key,
            secret_key=secret_key,
            region=extra_text(conn.conn_id, extra, "region"),
            project_id=extra_text(conn.conn_id, extra, "project_id"),
            security_token=extra_text(conn.conn_id, extra, "security_token", secret=True),
        )

    def secrets(self) -> list[str]:
        return [s for s in (self.secret_key, self.security_token) if s]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(conn_id={self.conn_id!r}, region={self.region!r}, "
            f"endpoint={self.endpoint!r})"
        )


def extra_flag(conn_id: str, extra: dict[str, Any], name: str, default: bool) -> bool:
    """An extra field that is a yes/no: a JSON boolean, or its text as a form stores it ("false")."""
    value = extra.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise JobSpecError(f"connection {conn_id!r}: extra {name}: must be true or false, got {value!r}")


def _host_endpoint(conn: ConnectionLike) -> str:
    """``schema://host[:port][/path]`` from the connection's standard fields.

    A host may carry its own scheme (``https://dinky.example.com``) and a path (a server behind a
    reverse proxy, ``dinky.example.com/dinky``); the port goes after the host name, before the path.
    """
    host = _text(conn.host)
    if not host:
        raise JobSpecError(f"connection {conn.conn_id!r}: host is empty (or set extra endpoint)")
    schema = (_text(conn.schema) or "").lower() or None
    scheme_in_host = None
    if "://" in host:
        scheme_in_host, host = host.split("://", 1)
        scheme_in_host = scheme_in_host.lower()
        if schema and schema != scheme_in_host:
            raise JobSpecError(
                f"connection {conn.conn_id!r}: schema {schema!r} contradicts the host's scheme "
                f"{scheme_in_host!r}"
            )
    scheme = schema or scheme_in_host or "http"
    if scheme not in ("http", "https"):
        raise JobSpecError(f"connection {conn.conn_id!r}: schema must be http or https, got {scheme!r}")
    netloc, _, path = host.partition("/")
    if not netloc:
        raise JobSpecError(f"connection {conn.conn_id!r}: host has no host name, got {conn.host!r}")
    if conn.port:
        if urlsplit(f"//{netloc}").port is not None:
            raise JobSpecError(
                f"connection {conn.conn_id!r}: the port is given twice (in host {netloc!r} and as port "
                f"{conn.port})"
            )
        netloc = f"{netloc}:{conn.port}"
    path = path.strip("/")
    return f"{scheme}://{netloc}" + (f"/{path}" if path else "")


@dataclass(frozen=True, repr=False)
class HostSettings(ConnectionSettings):
    """A server addressed by ``schema://host:port`` (or extra ``endpoint``), with an optional login
    (``login`` / ``password``) or API token (extra ``token``). ``verify_ssl`` (extra, default true)
    checks the server's TLS certificate."""

    login: str | None = None
    password: str | None = None
    token: str | None = None

    @classmethod
    def host_fields(cls, conn: ConnectionLike, extra: dict[str, Any]) -> dict[str, Any]:
        """The fields of a host connection, for subclasses that add their own."""
        common = cls.common(conn, extra)
        if common["endpoint"] is None:
            common["endpoint"] = _host_endpoint(conn)
        return {
            **common,
            "login": _text(conn.login),
            "password": conn.password or None,
            "token": extra_text(conn.conn_id, extra, "token", secret=True),
        }

    @classmethod
    def from_connection(cls, conn: ConnectionLike, extra: dict[str, Any]) -> Self:
        return cls(**cls.host_fields(conn, extra))

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.token) if s]
