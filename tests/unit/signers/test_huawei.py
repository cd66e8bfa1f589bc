"""The SDK-HMAC-SHA256 signer against every vector that huaweicloudsdkcore 3.1.219's own signer produced."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from airflow_provider_flinkcloud.signers import huawei as signer

DATA = json.loads((Path(__file__).parents[2] / "vectors" / "huawei_sdk_hmac.json").read_text())
VECTORS = DATA["vectors"]
FIXED = DATA["fixed_inputs"]


def _sign(vector: dict, **credential_overrides: str) -> dict[str, str]:
    inputs = vector["input"]
    sent = vector["headers_sent"]
    token = sent.get("X-Security-Token")
    credentials = signer.HuaweiCredentials(
        FIXED["ak"], FIXED["sk"], project_id=FIXED["project_id"], security_token=token
    )
    return signer.sign(
        method=inputs["method"],
        path=inputs["path"],
        query=parse_qsl(inputs["query_string"], keep_blank_values=True),
        headers={"Host": inputs["host"], **inputs["headers_before_signing"]},
        body=inputs["body"].encode("utf-8") if inputs["body"] else b"",
        credentials=credentials,
        now=datetime(2024, 10, 28, 8, 20, 3, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_signer_reproduces_vendor_vector(vector: dict) -> None:
    signed = _sign(vector)
    assert signed["Authorization"] == vector["authorization"]
    for name, value in vector["headers_sent"].items():
        assert signed[name] == value, name


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_canonical_request_and_string_to_sign_match_vendor(vector: dict) -> None:
    inputs = vector["input"]
    sent = vector["headers_sent"]
    names = vector["signed_headers"].split(";")
    body = inputs["body"].encode("utf-8") if inputs["body"] else b""
    canonical = signer.canonical_request(
        inputs["method"],
        inputs["path"],
        parse_qsl(inputs["query_string"], keep_blank_values=True),
        sent,
        names,
        signer.payload_hash(sent, body),
    )
    assert canonical == vector["canonical_request"]
    assert signer.string_to_sign(sent["X-Sdk-Date"], canonical) == vector["string_to_sign"]
    assert signer.signature(FIXED["sk"], sent["X-Sdk-Date"], canonical) == vector["signature"]


def test_canonical_query_is_what_the_sdk_sends() -> None:
    query = [("show_detail", "false"), ("name", "airflow jar/job"), ("limit", "100")]
    assert signer.canonical_query(query) == "limit=100&name=airflow%20jar%2Fjob&show_detail=false"


def test_canonical_uri_always_ends_with_a_slash() -> None:
    assert signer.canonical_uri("/v1.0/p/streaming/jobs/148") == "/v1.0/p/streaming/jobs/148/"
    assert signer.canonical_uri("/v1.0/p/streaming/jobs/") == "/v1.0/p/streaming/jobs/"


def test_wrong_secret_changes_the_signature() -> None:
    vector = VECTORS[0]
    good = _sign(vector)
    inputs = vector["input"]
    bad = signer.sign(
        method=inputs["method"],
        path=inputs["path"],
        query=[],
        headers={"Host": inputs["host"], **inputs["headers_before_signing"]},
        body=inputs["body"].encode("utf-8"),
        credentials=signer.HuaweiCredentials(FIXED["ak"], "other", project_id=FIXED["project_id"]),
        now=datetime(2024, 10, 28, 8, 20, 3, tzinfo=timezone.utc),
    )
    assert bad["Authorization"] != good["Authorization"]


def test_parse_authorization_round_trip_and_garbage() -> None:
    parsed = signer.parse_authorization(VECTORS[0]["authorization"])
    assert parsed is not None
    assert parsed.access_key == FIXED["ak"]
    assert ";".join(parsed.signed_headers) == VECTORS[0]["signed_headers"]
    assert parsed.signature == VECTORS[0]["signature"]
    assert signer.parse_authorization("HMAC-SHA256 Credential=a/b, Signature=x") is None
    assert signer.parse_authorization("SDK-HMAC-SHA256 Access=AK, Signature=ab") is None


def test_credentials_repr_hides_the_secret() -> None:
    text = repr(signer.HuaweiCredentials("AK", "topsecret", security_token="tok"))
    assert "topsecret" not in text and "tok" not in text
