"""The ROA signer against every vector that aliyun-python-sdk-core 2.16.1's own pipeline produced."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from airflow_provider_flinkcloud.signers import alibaba as signer

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "alibaba_roa.json").read_text())["vectors"]
# What the signer adds; the rest of the SDK's headers are the caller's (or unsigned transport headers).
ADDED = (
    "Accept",
    "Date",
    "Content-MD5",
    "x-acs-signature-method",
    "x-acs-signature-version",
    "Authorization",
)
UNSIGNED = ("User-Agent", "Accept-Encoding", "Connection", "Content-Length", "x-sdk-client")


def _signed(vector: dict, **credential_overrides: str) -> dict[str, str]:
    inputs, outputs = vector["inputs"], vector["outputs"]
    url = urlsplit(outputs["url"])
    headers = {k: v for k, v in outputs["headers"].items() if k not in ADDED and k not in UNSIGNED}
    credentials = signer.AlibabaCredentials(inputs["ak"], inputs["secret"], **credential_overrides)
    return signer.sign(
        method=outputs["method"],
        path=unquote(url.path),
        query=parse_qsl(url.query, keep_blank_values=True),
        headers=headers,
        body=(outputs["body"] or "").encode("utf-8"),
        credentials=credentials,
        now=parsedate_to_datetime(inputs["date"]),
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_signer_reproduces_vendor_vector(vector: dict) -> None:
    outputs = vector["outputs"]
    signed = _signed(vector)
    assert signed["Authorization"] == outputs["headers"]["Authorization"]
    for name in ADDED:
        if name in outputs["headers"]:
            assert signed[name] == outputs["headers"][name], name
    assert "Content-MD5" in signed or "Content-MD5" not in outputs["headers"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_string_to_sign_is_the_sdks(vector: dict) -> None:
    outputs = vector["outputs"]
    url = urlsplit(outputs["url"])
    text = signer.string_to_sign(
        outputs["method"], outputs["headers"], unquote(url.path), parse_qsl(url.query, keep_blank_values=True)
    )
    assert text == outputs["string_to_sign"]


def test_a_security_token_is_sent_and_signed() -> None:
    vector = VECTORS[0]
    plain = _signed(vector)
    with_token = _signed(vector, security_token="sts-token")
    assert with_token["x-acs-security-token"] == "sts-token"
    assert with_token["Authorization"] != plain["Authorization"]


def test_date_is_rfc_2616_in_gmt() -> None:
    when = datetime(2024, 10, 28, 16, 20, 3, tzinfo=timezone.utc)
    assert signer.rfc2616_date(when) == "Mon, 28 Oct 2024 16:20:03 GMT"


def test_credentials_repr_hides_the_secret() -> None:
    assert "s3cret" not in repr(signer.AlibabaCredentials("LTAI", "s3cret"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("acs LTAItest:mCCcjcEvpqgl2KsNbo3zR7bDpfE=", ("LTAItest", "mCCcjcEvpqgl2KsNbo3zR7bDpfE=")),
        ("acs LTAItest", None),
        ("Bearer x:y", None),
        ("acs :sig", None),
    ],
)
def test_parse_authorization(header: str, expected: tuple[str, str] | None) -> None:
    assert signer.parse_authorization(header) == expected
