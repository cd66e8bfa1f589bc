"""ACS3-HMAC-SHA256 verification as Alibaba's POP gateway does it, and the emulator's credentials.

The canonical request is rebuilt from the request as received: the raw path (``jobs%3Astart`` stays
encoded), the decoded query re-encoded canonically, and the values of the headers the client lists in
``SignedHeaders`` (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature).
The body is checked against ``x-acs-content-sha256``, the time against a 15-minute window
(``InvalidTimeStamp.Expired``) and the nonce against reuse (``SignatureNonceUsed``).
"""

from __future__ import annotations

from airflow_provider_flinkcloud.emulator.alibaba_flink.responses import AlibabaFlinkError, gateway
from airflow_provider_flinkcloud.emulator.gateway import (
    MAX_CLOCK_SKEW_SECONDS,
    Credential,
    CredentialTable,
    digests_match,
    signed_header_values,
    within_clock_skew,
)
from airflow_provider_flinkcloud.emulator.platform import ApiRequest
from airflow_provider_flinkcloud.signers.alibaba_flink import (
    DATE_FORMAT,
    canonical_request,
    parse_authorization,
    sha256_hex,
    signature,
    string_to_sign,
)

# Published on purpose: the emulator's default credentials, printed at start-up and documented.
ALIBABA_FLINK_ACCESS_KEY = "LTAIflinkcloudemulator"
ALIBABA_FLINK_SECRET_KEY = "flinkcloud-emulator-ververica-secret"  # noqa: S105
ALIBABA_FLINK_STS_ACCESS_KEY = "STS.flinkcloudemulator"
ALIBABA_FLINK_STS_SECRET_KEY = "flinkcloud-emulator-ververica-sts-secret"  # noqa: S105
ALIBABA_FLINK_STS_TOKEN = "flinkcloud-emulator-ververica-sts-token"  # noqa: S105
ALIBABA_FLINK_WORKSPACE = "flinkcloudemulatorws"
ALIBABA_FLINK_NAMESPACE = "default-namespace"

_WORKSPACE = (("workspace", ALIBABA_FLINK_WORKSPACE), ("namespace", ALIBABA_FLINK_NAMESPACE))
DEFAULT_CREDENTIALS = (
    Credential(ALIBABA_FLINK_ACCESS_KEY, ALIBABA_FLINK_SECRET_KEY, extras=_WORKSPACE),
    Credential(
        ALIBABA_FLINK_STS_ACCESS_KEY,
        ALIBABA_FLINK_STS_SECRET_KEY,
        ALIBABA_FLINK_STS_TOKEN,
        label="STS",
        session_label="security token",
        extras=_WORKSPACE,
    ),
)
# Alibaba's signature-v3 rules: host and every x-acs-* header sent are signed; the workspace header
# is what scopes the call, so it is signed too.
_MUST_SIGN = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)
# An API body over 8 MB is refused by the gateway (POP's request size limit).
MAX_BODY_BYTES = 8 * 1024 * 1024


class NonceBook:
    """Nonces seen within the clock-skew window; a second use is refused."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def use(self, nonce: str, now: float) -> bool:
        self._seen = {n: at for n, at in self._seen.items() if now - at <= MAX_CLOCK_SKEW_SECONDS}
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def incomplete(detail: str) -> AlibabaFlinkError:
    return gateway(
        400, "IncompleteSignature", f"The request signature does not conform to Aliyun standards. {detail}"
    )


def authenticate(request: ApiRequest, credentials: CredentialTable, nonces: NonceBook, now: float) -> None:
    """Refuse ``request`` unless it carries a valid ACS3 signature by a known credential."""
    header = request.header("Authorization")
    if not header:
        raise incomplete("The Authorization header is missing.")
    parsed = parse_authorization(header)
    if parsed is None:
        raise incomplete(
            "The Authorization header is not ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...."
        )
    credential = credentials.get(parsed.access_key)
    if credential is None:
        raise gateway(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    token = request.header("x-acs-security-token")
    if credential.session_token is not None and not credential.token_matches(token):
        raise gateway(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "The security token does not belong to the access key.",
        )
    names = parsed.signed_headers
    must = list(_MUST_SIGN)
    if request.body:
        must.append("content-type")
    if token is not None:
        must.append("x-acs-security-token")
    if request.header("workspace") is not None:
        must.append("workspace")
    unsigned = [name for name in must if name not in names]
    if unsigned:
        raise incomplete(f"Headers that must be signed are not: {', '.join(unsigned)}.")
    values = signed_header_values(request, names)
    if values is None:
        raise incomplete("A header listed in SignedHeaders was not sent.")
    stamp = values["x-acs-date"]
    if not within_clock_skew(stamp, DATE_FORMAT, now):
        raise gateway(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
    if not digests_match(sha256_hex(request.body), values["x-acs-content-sha256"]):
        raise gateway(
            400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the body."
        )
    canonical = canonical_request(
        request.method, request.path, request.query, values, values["x-acs-content-sha256"]
    )
    if not digests_match(signature(credential.secret_key, canonical), parsed.signature):
        # The gateway quotes its string to sign (no secret in it: ACS3 signs a hash).
        raise gateway(
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign is:"
            + string_to_sign(canonical),
        )
    if not nonces.use(values["x-acs-signature-nonce"], now):
        raise gateway(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
