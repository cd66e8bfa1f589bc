"""The ACS3-HMAC-SHA256 signer against every vector alibabacloud-tea-openapi 0.4.6's own signer produced."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_provider_flinkcloud.signers import alibaba_flink as signer

DATA = json.loads((Path(__file__).parents[2] / "vectors" / "alibaba_acs3_ververica.json").read_text())
VECTORS = DATA["vectors"]
SIGNED_BY_SIGNER = {"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "authorization"}


def _sign(vector: dict) -> dict[str, str]:
    inputs, outputs = vector["inputs"], vector["outputs"]
    given = {k: v for k, v in outputs["headers"].items() if k.lower() not in SIGNED_BY_SIGNER}
    body = outputs["body"].encode("utf-8") if outputs["body"] else b""
    return signer.sign(
        method=outputs["method"],
        path=outputs["pathname"],
        query=sorted(outputs["query"].items()),
        headers=given,
        body=body,
        credentials=signer.AlibabaCredentials(inputs["ak"], inputs["secret"]),
        now=datetime.strptime(inputs["x-acs-date"], signer.DATE_FORMAT).replace(tzinfo=timezone.utc),
        nonce=inputs["nonce"],
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_signer_reproduces_vendor_vector(vector: dict) -> None:
    signed = _sign(vector)
    for name, value in vector["outputs"]["headers"].items():
        assert signed[name if name == "Authorization" else name.lower()] == value, name


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_canonical_request_and_string_to_sign_match_vendor(vector: dict) -> None:
    outputs = vector["outputs"]
    headers = {k.lower(): v for k, v in outputs["headers"].items() if k != "Authorization"}
    canonical = signer.canonical_request(
        outputs["method"],
        outputs["pathname"],
        sorted(outputs["query"].items()),
        headers,
        headers["x-acs-content-sha256"],
    )
    assert canonical == outputs["canonical_request"]
    assert signer.string_to_sign(canonical) == outputs["string_to_sign"]


def test_query_values_are_encoded_as_the_sdk_canonicalises_them() -> None:
    assert signer.canonical_query([("pageSize", "100"), ("name", "a b/c~")]) == "name=a%20b%2Fc~&pageSize=100"


def test_authorization_parses_back() -> None:
    parsed = signer.parse_authorization(_sign(VECTORS[0])["Authorization"])
    assert parsed is not None and parsed.access_key == "LTAItest"
    assert "workspace" in parsed.signed_headers and parsed.signed_headers == tuple(
        sorted(parsed.signed_headers)
    )


def test_a_security_token_is_sent_and_signed() -> None:
    signed = signer.sign(
        method="GET",
        path="/api/v2/namespaces/ns/jobs/j",
        query=(),
        headers={"host": "ververica.cn-hangzhou.aliyuncs.com", "workspace": "w"},
        body=b"",
        credentials=signer.AlibabaCredentials("STS.ak", "sk", "sts-9f2e"),
        now=datetime(2024, 10, 28, tzinfo=timezone.utc),
        nonce="n",
    )
    assert signed["x-acs-security-token"] == "sts-9f2e"
    assert "x-acs-security-token" in signed["Authorization"] and "sts-9f2e" not in signed["Authorization"]
    assert repr(signer.AlibabaCredentials("ak", "secret-value")).count("secret-value") == 0
