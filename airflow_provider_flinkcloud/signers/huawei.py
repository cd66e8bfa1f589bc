"""Huawei Cloud APIG AK/SK signing (``SDK-HMAC-SHA256``) as ``huaweicloudsdkcore`` 3.1.219 ``Signer`` does.

Pure functions: no I/O, the clock is an argument. The emulator verifies requests with the same
canonicalisation, so a change here is caught by the vendor vectors in ``tests/unit/vectors``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_AUTHORIZATION = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<access>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),\s*"
    r"Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)


@dataclass(frozen=True)
class HuaweiCredentials:
    access_key: str
    secret_key: str
    project_id: str | None = None
    security_token: str | None = None

    def __repr__(self) -> str:
        return f"HuaweiCredentials(access_key={self.access_key!r}, project_id={self.project_id!r})"


@dataclass(frozen=True)
class ParsedAuthorization:
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def format_sdk_date(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime(DATE_FORMAT)


def canonical_uri(path: str) -> str:
    segments = [quote(segment, safe="~") for segment in unquote(path).split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: Iterable[tuple[str, str]]) -> str:
    """Sorted ``key=value`` pairs, RFC 3986 encoded; the SDK sends this same string as the query."""
    pairs = sorted((quote(str(key), safe="~"), quote(str(value), safe="~")) for key, value in query)
    return "&".join(f"{key}={value}" for key, value in pairs)


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    # The SDK signs every header whose name has no underscore.
    return sorted({name.lower() for name in headers if "_" not in name})


def payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    for name, value in headers.items():
        if name.lower() == "x-sdk-content-sha256":
            return value
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_names: Iterable[str],
    body_sha256: str,
) -> str:
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    names = list(signed_names)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers,
            ";".join(names),
            body_sha256,
        ]
    )


def string_to_sign(sdk_date: str, canonical: str) -> str:
    return f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    message = string_to_sign(sdk_date, canonical).encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> ParsedAuthorization | None:
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        return None
    return ParsedAuthorization(
        access_key=match["access"],
        signed_headers=tuple(match["signed"].split(";")),
        signature=match["signature"].lower(),
    )


def sign(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    credentials: HuaweiCredentials,
    now: datetime,
) -> dict[str, str]:
    """All headers to send: ``headers`` (which must hold ``Host``) plus the signing headers.

    ``X-Project-Id`` and ``X-Security-Token`` are added and signed as the SDK's credentials do;
    an ``X-Sdk-Date`` already in ``headers`` is kept.
    """
    signed = dict(headers)
    if credentials.project_id:
        signed["X-Project-Id"] = credentials.project_id
    if credentials.security_token:
        signed["X-Security-Token"] = credentials.security_token
    if not any(name.lower() == "x-sdk-date" for name in signed):
        signed["X-Sdk-Date"] = format_sdk_date(now)
    sdk_date = next(value for name, value in signed.items() if name.lower() == "x-sdk-date")
    names = signed_header_names(signed)
    query = list(query)
    canonical = canonical_request(method, path, query, signed, names, payload_hash(signed, body))
    signed["Authorization"] = (
        f"{ALGORITHM} Access={credentials.access_key}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature(credentials.secret_key, sdk_date, canonical)}"
    )
    return signed
