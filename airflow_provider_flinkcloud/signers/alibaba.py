"""Alibaba Cloud ROA request signing (``HMAC-SHA1``, signature version 1.0) as ``aliyun-python-sdk-core``
2.16.1 does it (``auth/composer/roa_signature_composer.py``, ``auth/algorithm/sha_hmac1.py``).

Documented at https://help.aliyun.com/document_detail/314367.html. Pure functions: no I/O, the clock is
an argument. The emulator verifies requests with the same string-to-sign, so a change here is caught by
the vendor vectors in ``tests/vectors/alibaba_roa.json``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime

SIGNATURE_METHOD = "HMAC-SHA1"
SIGNATURE_VERSION = "1.0"
ACCEPT = "application/json"
# Every header whose lower-cased name contains this prefix is signed (``build_canonical_headers``).
SIGNED_HEADER_PREFIX = "x-acs-"
SECURITY_TOKEN_HEADER = "x-acs-security-token"  # noqa: S105 (a header name)
AUTHORIZATION_SCHEME = "acs"


@dataclass(frozen=True)
class AlibabaCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None

    def __repr__(self) -> str:
        return f"AlibabaCredentials(access_key_id={self.access_key_id!r}, access_key_secret='***')"


def rfc2616_date(now: datetime) -> str:
    """``Mon, 28 Oct 2024 08:20:03 GMT``, as ``parameter_helper.get_rfc_2616_date`` formats it."""
    return format_datetime(now.astimezone(timezone.utc), usegmt=True)


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode("ascii")  # noqa: S324 (the protocol's choice)


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def canonical_headers(headers: Mapping[str, str]) -> str:
    signed = {key.lower(): value for key, value in headers.items() if SIGNED_HEADER_PREFIX in key.lower()}
    return "".join(f"{name}:{signed[name]}\n" for name in sorted(signed))


def canonical_resource(path: str, query: Iterable[tuple[str, str | None]]) -> str:
    """The path with raw (decoded) parameter values, then the query sorted by key with raw values.

    A later duplicate key overwrites an earlier one (the SDK keeps the query in a dict); a key without a
    value is emitted alone.
    """
    pairs = sorted(dict(query).items())
    if not pairs:
        return path
    return path + "?" + "&".join(key if value is None else f"{key}={value}" for key, value in pairs)


def string_to_sign(
    method: str, headers: Mapping[str, str], path: str, query: Iterable[tuple[str, str | None]]
) -> str:
    """``headers`` as sent (any case); ``path`` and ``query`` decoded, as the signature covers them."""
    lines = [method.upper()] + [
        _header(headers, n) for n in ("Accept", "Content-MD5", "Content-Type", "Date")
    ]
    return "\n".join(lines) + "\n" + canonical_headers(headers) + canonical_resource(path, query)


def signature(access_key_secret: str, text: str) -> str:
    digest = hmac.new(access_key_secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str | None]],
    headers: Mapping[str, str],
    body: bytes,
    credentials: AlibabaCredentials,
    now: datetime,
) -> dict[str, str]:
    """Return ``headers`` plus ``Accept``, ``Date``, ``Content-MD5`` (with a body), the signature-method
    headers, the STS token and ``Authorization``.

    ``headers`` must already hold the ``x-acs-action``, ``x-acs-version`` and ``x-acs-region-id`` of the
    call and, with a body, its ``Content-Type``; ``path`` and ``query`` are the decoded values.
    """
    signed = dict(headers)
    signed.setdefault("Accept", ACCEPT)
    signed["Date"] = rfc2616_date(now)
    if body:
        signed["Content-MD5"] = content_md5(body)
    signed["x-acs-signature-method"] = SIGNATURE_METHOD
    signed["x-acs-signature-version"] = SIGNATURE_VERSION
    if credentials.security_token:
        # StsTokenSigner adds the token for ROA calls; as an x-acs- header it is signed too.
        signed[SECURITY_TOKEN_HEADER] = credentials.security_token
    text = string_to_sign(method, signed, path, query)
    signed["Authorization"] = (
        f"{AUTHORIZATION_SCHEME} {credentials.access_key_id}:{signature(credentials.access_key_secret, text)}"
    )
    return signed


def parse_authorization(value: str) -> tuple[str, str] | None:
    """``acs <AccessKeyId>:<Signature>`` -> (access key id, signature); None when malformed."""
    scheme, _, rest = value.strip().partition(" ")
    access_key_id, sep, sig = rest.strip().partition(":")
    if scheme != AUTHORIZATION_SCHEME or not sep or not access_key_id or not sig:
        return None
    return access_key_id, sig
