"""Volcengine OpenAPI request signing (``HMAC-SHA256``) as ``volcenginesdkcore`` 5.0.54 ``signv4.py`` does.

Pure functions: no I/O, the clock is an argument. The emulator verifies requests with the same
canonicalisation, so a change here is caught by the vendor vectors in ``tests/unit/vectors``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

ALGORITHM = "HMAC-SHA256"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class VolcengineCredentials:
    access_key: str
    secret_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return f"VolcengineCredentials(access_key={self.access_key!r}, secret_key='***')"


def format_x_date(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def is_signed_header(name: str) -> bool:
    # The SDK's test is case-sensitive on the header name as stored.
    return name in ("Content-Type", "Content-Md5", "Host") or name.startswith("X-")


def canonical_host(value: str) -> str:
    for default_port in (":80", ":443"):
        if value.endswith(default_port):
            return value[: -len(default_port)]
    return value


def canonical_query(query: Iterable[tuple[str, str]]) -> str:
    # dict(): a later duplicate key overwrites an earlier one, as in the SDK.
    pairs = sorted(
        (quote(str(key), safe="-_.~"), quote(str(value), safe="-_.~")) for key, value in dict(query).items()
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    signed_headers: Mapping[str, str],
    body_sha256: str,
) -> str:
    """``signed_headers`` maps lower-case header names to the values that were (or will be) sent."""
    names = sorted(signed_headers)
    header_block = "".join(
        f"{name}:{canonical_host(signed_headers[name]) if name == 'host' else signed_headers[name]}\n"
        for name in names
    )
    return "\n".join(
        [method.upper(), path or "/", canonical_query(query), header_block, ";".join(names), body_sha256]
    )


def credential_scope(short_date: str, region: str, service: str) -> str:
    return f"{short_date}/{region}/{service}/request"


# The key changes once a day per region and service: a triggerer signing hundreds of polls a second
# derives it once, not four HMACs per request (the SDK's derivation, the same result).
@functools.lru_cache(maxsize=64)
def signing_key(secret_key: str, short_date: str, region: str, service: str) -> bytes:
    key = secret_key.encode("utf-8")
    for part in (short_date, region, service, "request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def string_to_sign(x_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, x_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])


def signature(secret_key: str, x_date: str, region: str, service: str, canonical: str) -> str:
    short_date = x_date[:8]
    scope = credential_scope(short_date, region, service)
    key = signing_key(secret_key, short_date, region, service)
    return hmac.new(key, string_to_sign(x_date, scope, canonical).encode("utf-8"), hashlib.sha256).hexdigest()


def sign(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    credentials: VolcengineCredentials,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """Return ``headers`` plus ``X-Date``, ``X-Content-Sha256``, the STS token and ``Authorization``.

    ``headers`` must hold ``Host`` exactly as it will be sent.
    """
    signed = dict(headers)
    if method.upper() != "GET" and "Content-Type" not in signed:
        signed["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    x_date = format_x_date(now)
    body_sha256 = hashlib.sha256(body).hexdigest()
    signed["X-Date"] = x_date
    signed["X-Content-Sha256"] = body_sha256
    if credentials.session_token:
        signed["X-Security-Token"] = credentials.session_token
    to_sign = {name.lower(): value for name, value in signed.items() if is_signed_header(name)}
    canonical = canonical_request(method, path, query, to_sign, body_sha256)
    sig = signature(credentials.secret_key, x_date, region, service, canonical)
    scope = credential_scope(x_date[:8], region, service)
    signed["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(sorted(to_sign))}, Signature={sig}"
    )
    return signed


@dataclass(frozen=True)
class ParsedAuthorization:
    access_key: str
    short_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization | None:
    """Parse an ``Authorization`` header; ``None`` when it is not a well-formed HMAC-SHA256 header."""
    if not value.startswith(ALGORITHM + " "):
        return None
    fields: dict[str, str] = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            return None
        fields[key] = val
    try:
        access_key, short_date, region, service, terminator = fields["Credential"].split("/")
        signed_headers = tuple(fields["SignedHeaders"].split(";"))
        sig = fields["Signature"]
    except (KeyError, ValueError):
        return None
    if terminator != "request":
        return None
    return ParsedAuthorization(access_key, short_date, region, service, signed_headers, sig)
