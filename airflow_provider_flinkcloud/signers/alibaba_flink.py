"""ACS3-HMAC-SHA256 request signatures, exactly as ``alibabacloud-tea-openapi`` 0.4.6 computes them.

Alibaba Cloud's V3 signature (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature):
the canonical request is the method, the path as sent (already percent-encoded), the sorted query,
every signed header (lower-cased, sorted, ``name:value``), the signed header names and the
``x-acs-content-sha256`` value; the signature is the hex HMAC-SHA256 of
``"ACS3-HMAC-SHA256\\n" + hex(sha256(canonical request))`` under the secret. Pure functions, no I/O: the
vectors in ``tests/vectors/alibaba_acs3_ververica.json`` (made by the vendor SDK's own signer) pin them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

ALGORITHM = "ACS3-HMAC-SHA256"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

_AUTHORIZATION = re.compile(
    r"ACS3-HMAC-SHA256 Credential=(?P<access_key>[^,]+),SignedHeaders=(?P<signed>[^,]*),"
    r"Signature=(?P<signature>[0-9a-f]+)"
)


@dataclass(frozen=True)
class AlibabaCredentials:
    access_key: str
    secret_key: str
    # An STS token (temporary credentials), sent and signed as ``x-acs-security-token``.
    security_token: str | None = None

    def __repr__(self) -> str:
        return f"AlibabaCredentials(access_key={self.access_key!r})"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_query(query: Iterable[tuple[str, str]]) -> str:
    """``get_canonical_query_string``: names sorted, values ``quote(value, safe='~')``, names as given."""
    return "&".join(f"{name}={quote(value, safe='~')}" for name, value in sorted(query))


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """(canonical header lines, signed header names) over every header given, as tea-openapi does."""
    merged: dict[str, list[str]] = {}
    for name, value in headers.items():
        merged.setdefault(name.lower().strip(), []).append(str(value).strip())
    names = sorted(merged)
    lines = "".join(f"{name}:{','.join(sorted(merged[name]))}\n" for name in names)
    return lines, ";".join(names)


def canonical_request(
    method: str, path: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str], content_sha256: str
) -> str:
    lines, signed = canonical_headers(headers)
    return "\n".join([method.upper(), path or "/", canonical_query(query), lines, signed, content_sha256])


def string_to_sign(canonical: str) -> str:
    return f"{ALGORITHM}\n{sha256_hex(canonical.encode('utf-8'))}"


def signature(secret_key: str, canonical: str) -> str:
    return hmac.new(
        secret_key.encode("utf-8"), string_to_sign(canonical).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def authorization(access_key: str, signed_names: str, signature_hex: str) -> str:
    return f"{ALGORITHM} Credential={access_key},SignedHeaders={signed_names},Signature={signature_hex}"


@dataclass(frozen=True)
class ParsedAuthorization:
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization | None:
    match = _AUTHORIZATION.fullmatch(value.strip())
    if match is None:
        return None
    names = tuple(name for name in match["signed"].split(";") if name)
    return ParsedAuthorization(match["access_key"], names, match["signature"])


def sign(
    *,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    credentials: AlibabaCredentials,
    now: datetime,
    nonce: str,
) -> dict[str, str]:
    """The headers to send: ``headers`` plus the date, nonce, body hash, token and ``Authorization``.

    Every header in the result is signed (``host`` must be among ``headers``); ``nonce`` is fresh per
    attempt, since the gateway refuses a nonce it has seen (``SignatureNonceUsed``).
    """
    signed: dict[str, str] = {name.lower(): value for name, value in headers.items()}
    signed["x-acs-date"] = now.astimezone(timezone.utc).strftime(DATE_FORMAT)
    signed["x-acs-signature-nonce"] = nonce
    signed["x-acs-content-sha256"] = sha256_hex(body)
    if credentials.security_token:
        signed["x-acs-accesskey-id"] = credentials.access_key
        signed["x-acs-security-token"] = credentials.security_token
    canonical = canonical_request(method, path, query, signed, signed["x-acs-content-sha256"])
    _lines, names = canonical_headers(signed)
    return {
        **signed,
        "Authorization": authorization(
            credentials.access_key, names, signature(credentials.secret_key, canonical)
        ),
    }
