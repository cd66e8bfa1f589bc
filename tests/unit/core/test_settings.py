"""Connection settings: a connection that cannot be used fails naming the connection, the field and the
rule, before any request, and never shows a secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_flinkcloud.core.errors import JobSpecError
from airflow_provider_flinkcloud.core.settings import AccessKeySettings, HostSettings, parse_extra

SECRET_TOKEN = "sts-t0ken-7c1e-never-shown"


@dataclass
class Conn:
    conn_id: str = "c1"
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = "AK"
    password: str | None = "SK-secret"


def settings(**extra: Any) -> AccessKeySettings:
    return AccessKeySettings.from_connection(Conn(), extra)


# -- the extra as a whole ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["{not json", '{"region": "cn-north-4",}', "region=cn-north-4", f'{{"security_token": "{SECRET_TOKEN}"'],
    ids=["unquoted-key", "trailing-comma", "key-value-text", "unterminated"],
)
def test_extra_that_is_not_json_names_the_connection_and_the_position(raw: str) -> None:
    with pytest.raises(JobSpecError) as info:
        parse_extra("dli_prod", raw)
    message = str(info.value)
    assert message.startswith("connection 'dli_prod': extra is not valid JSON (")
    assert " at line 1 column " in message
    # The extra's text is never repeated: it may hold a secret.
    assert raw not in message and SECRET_TOKEN not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize(("raw", "kind"), [("[1, 2]", "list"), ('"cn-north-4"', "str"), ("42", "int")])
def test_extra_must_be_a_json_object(raw: str, kind: str) -> None:
    with pytest.raises(
        JobSpecError, match=f"connection 'c': extra: must be a JSON object, got a JSON {kind}"
    ):
        parse_extra("c", raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, {}), ("", {}), ("   ", {}), ('{"region": "eu-de"}', {"region": "eu-de"}), ({"a": 1}, {"a": 1})],
)
def test_extra_absent_blank_or_an_object_is_read(raw: Any, expected: dict[str, Any]) -> None:
    assert parse_extra("c", raw) == expected


# -- fields of the wrong type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"region": 5}, "connection 'c1': extra region: must be text (a JSON string), got 5"),
        ({"region": ["cn-north-4"]}, "extra region: must be text (a JSON string), got ['cn-north-4']"),
        ({"endpoint": 8765}, "connection 'c1': extra endpoint: must be text (a JSON string), got 8765"),
        ({"endpoint": True}, "extra endpoint: must be text (a JSON string), got True"),
        ({"endpoint": "http://"}, "extra endpoint must be a full URL, got 'http://'"),
        # A JSON number is no project id: Huawei's are 32 hex characters (leading zeros would be lost),
        # Volcengine's are names.
        ({"project_id": 123}, "connection 'c1': extra project_id: must be text (a JSON string), got 123"),
    ],
    ids=[
        "region-number",
        "region-list",
        "endpoint-number",
        "endpoint-bool",
        "endpoint-no-host",
        "project-number",
    ],
)
def test_text_fields_of_another_type_fail_naming_the_field(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(JobSpecError) as info:
        settings(**extra)
    assert message in str(info.value)


@pytest.mark.parametrize("token", [12345678, 3.25, {"value": SECRET_TOKEN}, [SECRET_TOKEN]])
def test_a_security_token_of_another_type_is_named_but_never_shown(token: Any) -> None:
    with pytest.raises(JobSpecError) as info:
        settings(security_token=token)
    message = str(info.value)
    assert message.startswith(
        "connection 'c1': extra security_token: must be text (a JSON string), got a value"
    )
    assert str(token) not in message and SECRET_TOKEN not in message


def test_host_settings_token_of_another_type_is_never_shown() -> None:
    conn = Conn(host="dinky.local", login=None, password=None)
    with pytest.raises(JobSpecError, match="extra token: must be text") as info:
        HostSettings.from_connection(conn, {"token": 987654321})
    assert "987654321" not in str(info.value)


def test_text_fields_are_stripped_and_blank_is_absent() -> None:
    got = settings(region=" cn-north-4 ", project_id="", endpoint=" http://127.0.0.1:1/ ")
    assert (got.region, got.project_id, got.endpoint) == ("cn-north-4", None, "http://127.0.0.1:1")


# -- retry tuning -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"retry_base_delay": -1}, "extra retry_base_delay: must be a number of seconds >= 0, got -1"),
        (
            {"retry_base_delay": "soon"},
            "extra retry_base_delay: must be a number of seconds >= 0, got 'soon'",
        ),
        ({"retry_max_delay": -0.5}, "extra retry_max_delay: must be a number of seconds >= 0, got -0.5"),
        ({"retry_max_delay": "inf"}, "extra retry_max_delay: must be a number of seconds >= 0, got 'inf'"),
        ({"retry_max_attempts": 0}, "extra retry_max_attempts: must be a whole number >= 1, got 0"),
        ({"retry_max_attempts": -3}, "extra retry_max_attempts: must be a whole number >= 1, got -3"),
        ({"retry_max_attempts": 2.5}, "extra retry_max_attempts: must be a whole number >= 1, got 2.5"),
        ({"retry_max_attempts": True}, "extra retry_max_attempts: must be a whole number >= 1, got True"),
        ({"retry_max_attempts": "many"}, "extra retry_max_attempts: must be a whole number >= 1, got 'many'"),
    ],
)
def test_retry_settings_out_of_range_fail_naming_the_field(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(JobSpecError) as info:
        settings(**extra)
    assert str(info.value) == f"connection 'c1': {message}"


def test_retry_settings_in_range_are_read_from_numbers_or_text() -> None:
    retry = settings(retry_max_attempts="3", retry_base_delay=0, retry_max_delay="2.5").retry
    assert (retry.max_attempts, retry.base_delay, retry.max_delay) == (3, 0.0, 2.5)
    defaults = settings(retry_max_attempts="", retry_base_delay=None).retry
    assert (defaults.max_attempts, defaults.base_delay) == (5, 0.5)


# -- a server addressed by host and port ------------------------------------------------------------


def host_settings(**fields: Any) -> HostSettings:
    extra = fields.pop("extra", {})
    return HostSettings.from_connection(Conn(**{"login": None, "password": None, **fields}), extra)


@pytest.mark.parametrize(
    ("fields", "endpoint"),
    [
        ({"host": "dinky.local", "port": 8888}, "http://dinky.local:8888"),
        ({"host": "dinky.local", "schema": "HTTPS"}, "https://dinky.local"),
        ({"host": "https://dinky.local/", "port": 443}, "https://dinky.local:443"),
        ({"host": "proxy.local/dinky/", "port": 8080}, "http://proxy.local:8080/dinky"),
        ({"host": "dinky.local:8888"}, "http://dinky.local:8888"),
        ({"host": "ignored", "extra": {"endpoint": "http://127.0.0.1:1/"}}, "http://127.0.0.1:1"),
    ],
)
def test_host_settings_build_the_endpoint_from_the_standard_fields(fields: Any, endpoint: str) -> None:
    assert host_settings(**fields).endpoint == endpoint


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": ""}, "host is empty"),
        ({"host": "dinky.local", "schema": "ftp"}, "schema must be http or https, got 'ftp'"),
        ({"host": "https://dinky.local", "schema": "http"}, "contradicts the host's scheme 'https'"),
        ({"host": "dinky.local:8888", "port": 9999}, "the port is given twice"),
    ],
)
def test_host_settings_refuse_an_unusable_address(fields: Any, message: str) -> None:
    with pytest.raises(JobSpecError, match=message):
        host_settings(**fields)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), (False, False), ("false", False), ("True", True), ("", True)]
)
def test_verify_ssl_is_a_flag(value: Any, expected: bool) -> None:
    assert host_settings(host="d", extra={"verify_ssl": value}).verify_ssl is expected


def test_verify_ssl_of_another_kind_is_refused_naming_the_field() -> None:
    with pytest.raises(JobSpecError, match="extra verify_ssl: must be true or false, got 'maybe'"):
        host_settings(host="d", extra={"verify_ssl": "maybe"})
