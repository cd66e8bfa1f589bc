"""The POP gateway's ROA signature check (``acs <AK>:<HMAC-SHA1>``) and the emulator's default credentials.

Requests are verified with the provider's own string-to-sign
(:mod:`airflow_provider_flinkcloud.signers.alibaba`), which the vendor vectors pin to
aliyun-python-sdk-core 2.16.1: the decoded path and query, the Accept, Content-MD5, Content-Type and
Date values and every x-acs- header as received. Codes and messages are the gateway's
(https://help.aliyun.com/document_detail/95922.html, https://help.aliyun.com/document_detail/51132.html).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from airflow_provider_flinkcloud.emulator.alibaba.responses import AlibabaError
from airflow_provider_flinkcloud.emulator.alibaba.state import DEFAULT_PROJECT
from airflow_provider_flinkcloud.emulator.gateway import (
    MAX_CLOCK_SKEW_SECONDS,
    Credential,
    CredentialTable,
    digests_match,
)
from airflow_provider_flinkcloud.emulator.platform import ApiRequest
from airflow_provider_flinkcloud.signers.alibaba import (
    SECURITY_TOKEN_HEADER,
    SIGNATURE_METHOD,
    content_md5,
    parse_authorization,
    signature,
    string_to_sign,
)

# Published on purpose: the emulator's default credentials, printed at start-up and documented.
ALIBABA_ACCESS_KEY = "LTAIflinkcloudemulator"
ALIBABA_SECRET_KEY = "flinkcloud-emulator-alibaba-secret"  # noqa: S105
ALIBABA_STS_ACCESS_KEY = "STS.flinkcloudemulator"
ALIBABA_STS_SECRET_KEY = "flinkcloud-emulator-alibaba-sts-secret"  # noqa: S105
ALIBABA_STS_TOKEN = "flinkcloud-emulator-alibaba-sts-token"  # noqa: S105

# The banner names the project whose committed jobs are ready to start.
_PROJECT = (("project", DEFAULT_PROJECT),)
DEFAULT_CREDENTIALS = (
    Credential(ALIBABA_ACCESS_KEY, ALIBABA_SECRET_KEY, extras=_PROJECT),
    Credential(
        ALIBABA_STS_ACCESS_KEY,
        ALIBABA_STS_SECRET_KEY,
        ALIBABA_STS_TOKEN,
        label="STS",
        session_label="security token",
        extras=_PROJECT,
    ),
)
# No body limit of the POP gateway for ROA calls could be found documented; 8 MB is the emulator's
# stand-in (foas bodies are a few KB), answered with its own 413 RequestEntityTooLarge.
MAX_BODY_BYTES = 8 * 1024 * 1024
SIGNATURE_MISMATCH = "Specified signature is not matched with our calculation. server string to sign is:"


def _credential(request: ApiRequest, credentials: CredentialTable) -> tuple[Credential, str]:
    authorization = request.header("Authorization")
    parsed = parse_authorization(authorization) if authorization else None
    if parsed is None:
        raise AlibabaError(
            400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
        )
    access_key_id, given = parsed
    credential = credentials.get(access_key_id)
    if credential is None:
        raise AlibabaError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    return credential, given


def _check_token(request: ApiRequest, credential: Credential) -> None:
    if credential.session_token is None:
        return
    token = request.header(SECURITY_TOKEN_HEADER)
    if token is None:
        # Temporary (STS) keys are only valid with their token; the code is the emulator's choice.
        raise AlibabaError(400, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
    if not credential.token_matches(token):
        raise AlibabaError(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )


def _check_date(request: ApiRequest, now: float) -> None:
    stamp = request.header("Date")
    try:
        at = parsedate_to_datetime(stamp).timestamp() if stamp else None
    except (TypeError, ValueError):
        at = None
    if at is None:
        raise AlibabaError(
            400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
        )
    if abs(now - at) > MAX_CLOCK_SKEW_SECONDS:
        raise AlibabaError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")


def authenticate(request: ApiRequest, credentials: CredentialTable, now: float) -> None:
    """Refuse ``request`` with the gateway's error unless it is signed by a known, current credential."""
    credential, given = _credential(request, credentials)
    if request.header("x-acs-signature-method") != SIGNATURE_METHOD:
        raise AlibabaError(400, "InvalidSignatureMethod", "Specified signature method is not valid.")
    _check_date(request, now)
    _check_token(request, credential)
    md5 = request.header("Content-MD5")
    if request.body and md5 is not None and not digests_match(content_md5(request.body), md5):
        raise AlibabaError(
            400, "ContentMD5NotMatched", "Specified content md5 is not matched with your request body."
        )
    text = string_to_sign(request.method, request.headers, unquote(request.path), request.query)
    if not digests_match(signature(credential.secret_key, text), given):
        # The gateway quotes its string-to-sign, which lets a client find its mistake.
        raise AlibabaError(400, "SignatureDoesNotMatch", SIGNATURE_MISMATCH + text)
