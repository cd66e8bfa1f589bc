"""Huawei Cloud's SDK-HMAC-SHA256 request signatures, project scoping and the default credentials.

Requests are verified with the provider's own canonicalisation
(:mod:`airflow_provider_flinkcloud.signers.huawei`), which the vendor vectors pin to huaweicloudsdkcore.
The gateway's rules and messages are those of
https://support.huaweicloud.com/devg-apisign/api-sign-0001.html and
https://support.huaweicloud.com/devg-apisign/api-sign-errorcode.html.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from airflow_provider_flinkcloud.emulator.gateway import (
    Credential,
    CredentialTable,
    digests_match,
    format_time,
    signed_header_values,
    within_clock_skew,
)
from airflow_provider_flinkcloud.emulator.huawei_dli.responses import DliError, gateway_auth
from airflow_provider_flinkcloud.emulator.platform import ApiRequest, ControlError
from airflow_provider_flinkcloud.signers.huawei import (
    DATE_FORMAT,
    ParsedAuthorization,
    canonical_request,
    parse_authorization,
    payload_hash,
    signature,
)

# Published on purpose: the emulator's default credentials, printed at start-up and documented.
DLI_ACCESS_KEY = "FLINKCLOUDEMULATORAK"
DLI_SECRET_KEY = "flinkcloud-emulator-dli-secret"  # noqa: S105
DLI_PROJECT_ID = "flinkcloudemulatorproject0000001"
DLI_STS_ACCESS_KEY = "FLINKCLOUDEMULATORTK"
DLI_STS_SECRET_KEY = "flinkcloud-emulator-dli-sts-secret"  # noqa: S105
DLI_STS_TOKEN = "flinkcloud-emulator-dli-sts-token"  # noqa: S105

_PROJECT = (("project id", DLI_PROJECT_ID),)
DEFAULT_CREDENTIALS = (
    Credential(DLI_ACCESS_KEY, DLI_SECRET_KEY, scopes=frozenset({DLI_PROJECT_ID}), extras=_PROJECT),
    Credential(
        DLI_STS_ACCESS_KEY,
        DLI_STS_SECRET_KEY,
        DLI_STS_TOKEN,
        scopes=frozenset({DLI_PROJECT_ID}),
        label="temporary",
        session_label="security token",
        extras=_PROJECT,
    ),
)

# X-Sdk-Date must be within 15 minutes of the gateway's clock
# (https://support.huaweicloud.com/devg-apisign/api-sign-0001.html).
MAX_CLOCK_SKEW_SECONDS = 15 * 60
# AK/SK-signed requests may carry at most 12 MB of body
# (https://support.huaweicloud.com/intl/en-us/api-mrs/mrs_02_0009.html); the API gateway refuses a larger
# one (https://support.huaweicloud.com/intl/en-us/apig_faq/apig-faq-180606013.html) with 413 APIG.0201.
MAX_BODY_BYTES = 12 * 1024 * 1024
# A project id is up to 64 letters and digits
# (https://github.com/opentelekomcloud-docs/data-lake-insight/blob/main/api-ref/source/flink_job-related_apis/listing_jobs.rst).
_PROJECT_ID = re.compile(r"[A-Za-z0-9]{1,64}")


def add_credentials(credentials: CredentialTable, payload: Mapping[str, Any]) -> None:
    """The control API's credential set; ``project_id`` is the one project it may use (default ours)."""
    credential = CredentialTable.from_payload(payload)
    project_id = payload.get("project_id")
    if project_id is not None and (not isinstance(project_id, str) or not _PROJECT_ID.fullmatch(project_id)):
        raise ControlError("'project_id' must be 1-64 letters and digits when given")
    credentials.add(replace(credential, scopes=frozenset({project_id or DLI_PROJECT_ID})))


def _credential(request: ApiRequest, credentials: CredentialTable) -> tuple[ParsedAuthorization, Credential]:
    authorization = request.header("Authorization")
    if not authorization:
        # What the gateway says when a request carries neither a token nor a signature.
        raise gateway_auth("x-auth-token not found")
    parsed = parse_authorization(authorization)
    if parsed is None:
        raise gateway_auth("verify aksk signature fail")
    credential = credentials.get(parsed.access_key)
    token = request.header("X-Security-Token")
    if credential is None or (credential.session_token is not None and token is None):
        # A temporary AK is only known through its security token; without one it is looked up
        # among the permanent keys and not found.
        raise gateway_auth(f"Get secretKey failed,ak:{parsed.access_key},err:ak not exist")
    if credential.session_token is not None and (
        "x-security-token" not in parsed.signed_headers or not credential.token_matches(token)
    ):
        raise gateway_auth("decrypt token fail")
    return parsed, credential


def _check_signature(
    request: ApiRequest, parsed: ParsedAuthorization, credential: Credential, now: float
) -> None:
    names = parsed.signed_headers
    sdk_date = request.header("X-Sdk-Date")
    if "host" not in names or "x-sdk-date" not in names or sdk_date is None:
        raise gateway_auth("verify aksk signature fail")
    if not within_clock_skew(sdk_date, DATE_FORMAT, now, MAX_CLOCK_SKEW_SECONDS):
        # The gateway documents this wording for app authentication (APIG.0303); the IAM
        # variant is assumed to read the same under APIG.0301.
        server_time = format_time(now, DATE_FORMAT)
        raise gateway_auth(f"signature expired, signature time:{sdk_date},server time:{server_time}")
    signed_values = signed_header_values(request, names)
    if signed_values is None:
        raise gateway_auth("verify aksk signature fail")
    body_hash = payload_hash(signed_values, request.body)
    canonical = canonical_request(
        request.method, request.path, request.query, signed_values, names, body_hash
    )
    if not digests_match(signature(credential.secret_key, sdk_date, canonical), parsed.signature):
        raise gateway_auth("verify aksk signature fail")


def authenticate(request: ApiRequest, credentials: CredentialTable, project_id: str, now: float) -> None:
    """Refuse ``request`` unless it is signed by a known credential allowed into ``project_id``."""
    parsed, credential = _credential(request, credentials)
    _check_signature(request, parsed, credential, now)
    header_project = request.header("X-Project-Id")
    if header_project is not None and header_project != project_id:
        # The gateway scopes the request to X-Project-Id; a URL for another project fails there.
        raise gateway_auth(f"URL's projectId {project_id} is not equal X-Project-Id {header_project}")
    if project_id not in credential.scopes:
        raise DliError(
            401,
            "DLI.0013",
            f"User authentication errors occur: the credential is not authorized for project {project_id}.",
        )
