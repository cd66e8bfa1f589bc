"""Volcengine's HMAC-SHA256 (V4-style) request signatures and the emulator's default credentials.

Requests are verified with the provider's own signer canonicalisation
(:mod:`airflow_provider_flinkcloud.signers.volcengine`), which the vendor vectors pin to the SDK. The
error codes are the gateway's (https://www.volcengine.com/docs/6369/68677,
https://www.volcengine.com/docs/6491/1185994).
"""

from __future__ import annotations

import hashlib
import re

from airflow_provider_flinkcloud.emulator.gateway import (
    Credential,
    CredentialTable,
    digests_match,
    signed_header_values,
    within_clock_skew,
)
from airflow_provider_flinkcloud.emulator.platform import ApiRequest
from airflow_provider_flinkcloud.emulator.volcengine.responses import SERVICE, VolcengineError
from airflow_provider_flinkcloud.signers.volcengine import (
    ParsedAuthorization,
    canonical_request,
    parse_authorization,
    signature,
)

# Published on purpose: the emulator's default credentials, printed at start-up and documented.
VOLCENGINE_ACCESS_KEY = "AKLTflinkcloudemulator"
VOLCENGINE_SECRET_KEY = "flinkcloud-emulator-secret"  # noqa: S105
VOLCENGINE_STS_ACCESS_KEY = "AKTPflinkcloudemulator"
VOLCENGINE_STS_SECRET_KEY = "flinkcloud-emulator-sts-secret"  # noqa: S105
VOLCENGINE_STS_TOKEN = "flinkcloud-emulator-sts-token"  # noqa: S105

DEFAULT_CREDENTIALS = (
    Credential(VOLCENGINE_ACCESS_KEY, VOLCENGINE_SECRET_KEY),
    Credential(VOLCENGINE_STS_ACCESS_KEY, VOLCENGINE_STS_SECRET_KEY, VOLCENGINE_STS_TOKEN, label="STS"),
)

# The window is not documented; 15 minutes is what the other V4-style gateways allow.
MAX_CLOCK_SKEW_SECONDS = 15 * 60
X_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_SHORT_DATE = re.compile(r"\d{8}")
# Volcengine documents no request body limit for its OpenAPI gateway that could be found; 10 MB is a
# conservative stand-in (the Flink actions' bodies are a few KB). Over it: 413 RequestEntityTooLarge,
# the emulator's own code, as no documented one exists either.
MAX_BODY_BYTES = 10 * 1024 * 1024

SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your Secret Access Key and signing method. Consult the service documentation for details."
)


def _signature_mismatch() -> VolcengineError:
    return VolcengineError(401, "SignatureDoesNotMatch", SIGNATURE_MISMATCH_MESSAGE, 100010)


def _authorization(request: ApiRequest) -> ParsedAuthorization:
    authorization = request.header("Authorization")
    if not authorization:
        raise VolcengineError(
            401, "MissingAuthenticationToken", "Request is missing Authentication Token.", 100003
        )
    parsed = parse_authorization(authorization)
    if parsed is None or not parsed.access_key or not parsed.signature or not parsed.region:
        raise VolcengineError(
            400, "InvalidAuthorization", "Invalid 'Authorization' header, Pls check authorization header."
        )
    if parsed.service != SERVICE or not _SHORT_DATE.fullmatch(parsed.short_date):
        # The documented code for a well-formed header whose credential scope is wrong.
        raise VolcengineError(
            400,
            "InvalidCredential",
            "Invalid credential in 'Authorization', Pls check credential in authorization header.",
        )
    return parsed


def _check_token(request: ApiRequest, credential: Credential) -> None:
    if credential.session_token is None:
        return
    token = request.header("X-Security-Token")
    if token is None:
        raise VolcengineError(401, "InvalidSecretToken", "Invalid secret token, msg: token is missing.")
    if not credential.token_matches(token):
        raise VolcengineError(
            401, "InvalidSecretToken", "Invalid secret token, msg: token does not match the access key."
        )


def _check_signature(
    request: ApiRequest, parsed: ParsedAuthorization, credential: Credential, x_date: str
) -> None:
    body_sha256 = request.header("X-Content-Sha256")
    if not digests_match(hashlib.sha256(request.body).hexdigest(), body_sha256):
        raise _signature_mismatch()
    assert body_sha256 is not None
    names = parsed.signed_headers
    if "host" not in names or "x-date" not in names:
        raise _signature_mismatch()
    signed_values = signed_header_values(request, names)
    if signed_values is None:
        raise _signature_mismatch()
    canonical = canonical_request(request.method, request.path, request.query, signed_values, body_sha256)
    expected = signature(credential.secret_key, x_date, parsed.region, parsed.service, canonical)
    if parsed.short_date != x_date[:8] or not digests_match(expected, parsed.signature):
        raise _signature_mismatch()


def authenticate(request: ApiRequest, credentials: CredentialTable, now: float) -> None:
    """Refuse ``request`` with the gateway's error unless it is signed by a known, current credential."""
    parsed = _authorization(request)
    credential = credentials.get(parsed.access_key)
    if credential is None:
        raise VolcengineError(
            401,
            "InvalidAccessKey",
            f"The accesskey [{parsed.access_key}] included in the request is invalid.",
            100009,
        )
    x_date = request.header("X-Date")
    if not x_date:
        raise VolcengineError(400, "MissingRequestInfo", "The request is missing X-Date information.", 100004)
    if not within_clock_skew(x_date, X_DATE_FORMAT, now, MAX_CLOCK_SKEW_SECONDS):
        # The vendor tables disagree on 400 or 403; 400 is what the Volcengine gateway tables
        # (https://www.volcengine.com/docs/6369/68677, https://www.volcengine.com/docs/6491/1185994) give.
        raise VolcengineError(400, "InvalidTimestamp", "The Signature of the request is expired.", 100006)
    _check_token(request, credential)
    _check_signature(request, parsed, credential, x_date)
