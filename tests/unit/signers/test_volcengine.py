"""The signer against every vector that volcenginesdkcore 5.0.54's own signer produced."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_flinkcloud.signers import volcengine as signer

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "volcengine_v4.json").read_text())["vectors"]
RESULT_HEADERS = ("X-Date", "X-Content-Sha256", "Authorization")


def _when(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _case(vector: dict) -> dict:
    inputs, outputs = vector["inputs"], vector["outputs"]
    if "sdk_call" not in inputs:
        return {
            "method": inputs["method"],
            "query": list(inputs["query"].items()),
            "headers": inputs["headers"],
            "body": inputs["body"].encode("utf-8"),
        }
    url = urlsplit(outputs["url"])
    query = parse_qsl(url.query, keep_blank_values=True) + [
        tuple(pair) for pair in outputs.get("get_fields") or []
    ]
    headers = {name: value for name, value in outputs["headers"].items() if name not in RESULT_HEADERS}
    return {
        "method": outputs["method"],
        "query": query,
        "headers": headers,
        "body": (outputs["body"] or "").encode("utf-8"),
    }


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_signer_reproduces_vendor_vector(vector: dict) -> None:
    inputs, outputs = vector["inputs"], vector["outputs"]
    case = _case(vector)
    signed = signer.sign(
        method=case["method"],
        path="/",
        query=case["query"],
        headers=case["headers"],
        body=case["body"],
        credentials=signer.VolcengineCredentials(inputs["ak"], inputs["sk"]),
        region=inputs["region"],
        service=inputs["service"],
        now=_when(inputs["timestamp"]),
    )
    for name in RESULT_HEADERS:
        assert signed[name] == outputs["headers"][name], name


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_canonical_request_matches_vendor(vector: dict) -> None:
    outputs = vector["outputs"]
    case = _case(vector)
    auth = signer.parse_authorization(outputs["headers"]["Authorization"])
    assert auth is not None
    sent = {name.lower(): value for name, value in outputs["headers"].items()}
    body_sha256 = hashlib.sha256(case["body"]).hexdigest()
    canonical = signer.canonical_request(
        case["method"], "/", case["query"], {n: sent[n] for n in auth.signed_headers}, body_sha256
    )
    assert canonical == outputs["canonical_request"]


def test_session_token_is_signed() -> None:
    headers = signer.sign(
        method="POST",
        path="/",
        query=[("Action", "GetApplicationInstance"), ("Version", "2025-01-01")],
        headers={"Host": "127.0.0.1:8080", "Content-Type": "application/json"},
        body=b"{}",
        credentials=signer.VolcengineCredentials("AK", "SK", session_token="sts-token"),
        region="cn-beijing",
        service="flink",
        now=_when("2024-10-28T08:20:03Z"),
    )
    assert headers["X-Security-Token"] == "sts-token"
    assert "x-security-token" in headers["Authorization"]
    assert "host;" in headers["Authorization"]


def test_parse_authorization_rejects_garbage() -> None:
    assert signer.parse_authorization("Bearer abc") is None
    assert signer.parse_authorization("HMAC-SHA256 Credential=a/b, Signature=x") is None
