"""The emulator's HTTP server on malformed and oversized requests, driven over raw sockets.

A request whose body framing is broken is answered 400, one whose body is over the limit 413, in the
envelope of the platform its path belongs to (plain JSON otherwise), and the connection is closed.
"""

from __future__ import annotations

import io
import json
import socket
import time
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest
import requests

from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl
from airflow_provider_flinkcloud.emulator import server as server_module
from airflow_provider_flinkcloud.emulator.huawei_dli.auth import MAX_BODY_BYTES as DLI_MAX_BODY_BYTES
from airflow_provider_flinkcloud.emulator.server import EMULATOR_MAX_BODY_BYTES, BodyRefused, read_body
from airflow_provider_flinkcloud.emulator.volcengine.auth import MAX_BODY_BYTES as VOLCENGINE_MAX_BODY_BYTES

GIGABYTE = 1024**3
VOLCENGINE_PATH = "/?Action=StartApplicationInstance&Version=2025-01-01"
DLI_PATH = "/v1.0/flinkcloudemulatorproject0000001/streaming/sql-jobs"
CONTROL_PATH = "/_emulator/timings"
UNCLAIMED_PATH = "/nowhere"
FLINK_PATH = "/_flink/volcengine/123/jobs"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    elapsed: float


def exchange(
    emulator: Emulator, head: str, body: bytes = b"", *, half_close: bool = False, timeout: float = 5.0
) -> Reply:
    """Send ``head`` (the request line and headers, CRLF-joined, no blank line) and ``body``; read to EOF.

    Reading to EOF asserts that the server closes the connection after its reply.
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    elapsed = time.monotonic() - started
    header_block, _, payload = received.partition(b"\r\n\r\n")
    status_line, *header_lines = header_block.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    assert int(headers["Content-Length"]) == len(payload)
    return Reply(int(status_line.split()[1]), headers, json.loads(payload), elapsed)


def post(path: str, *headers: str) -> str:
    return "\r\n".join((f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers))


# -- the envelopes ------------------------------------------------------------------------------------


def volcengine_error(reply: Reply, status: int, code: str) -> str:
    assert reply.status == status
    metadata = reply.body["ResponseMetadata"]
    assert set(reply.body) == {"ResponseMetadata"}
    assert (metadata["Action"], metadata["Version"], metadata["Service"]) == (
        "StartApplicationInstance",
        "2025-01-01",
        "flink",
    )
    assert metadata["RequestId"]
    assert metadata["Error"]["Code"] == code
    message: str = metadata["Error"]["Message"]
    return message


def dli_error(reply: Reply, status: int, message: str) -> None:
    assert reply.status == status
    assert reply.body == {
        "error_msg": message,
        "error_code": "APIG.0201",
        "request_id": reply.headers["X-Request-Id"],
    }


def plain_error(reply: Reply, status: int) -> str:
    assert reply.status == status
    assert set(reply.body) == {"error"}
    message: str = reply.body["error"]
    return message


def assert_closed_after(reply: Reply) -> None:
    assert reply.headers["Connection"] == "close"


def assert_still_serving(emulator: Emulator, control: EmulatorControl) -> None:
    """Other clients are served, and the refused requests reached no platform (no call was counted)."""
    assert control.health()
    counters = control.counters()
    assert all(platform["calls"] == {} for platform in counters.values()), counters
    # A well-formed request to each platform is answered in full, on a new connection.
    volcengine = requests.post(f"{emulator.url}{VOLCENGINE_PATH}", json={}, timeout=5)
    assert volcengine.json()["ResponseMetadata"]["Error"]["Code"] == "MissingAuthenticationToken"
    dli = requests.post(f"{emulator.url}{DLI_PATH}", json={}, timeout=5)
    assert dli.json()["error_code"] == "APIG.0301"
    control.reset()


# -- malformed Content-Length -------------------------------------------------------------------------

MALFORMED_LENGTHS = {
    "not a number": ("Content-Length: abc", "Content-Length 'abc' is not a number of bytes"),
    "a fraction": ("Content-Length: 1.5", "Content-Length '1.5' is not a number of bytes"),
    "signed": ("Content-Length: +5", "Content-Length '+5' is not a number of bytes"),
    "negative": ("Content-Length: -1", "Content-Length '-1' is negative"),
    "conflicting": (
        "Content-Length: 2\r\nContent-Length: 3",
        "the request declares different Content-Lengths ['2', '3']",
    ),
}


@pytest.mark.parametrize("header, detail", MALFORMED_LENGTHS.values(), ids=MALFORMED_LENGTHS.keys())
def test_malformed_content_length_on_each_route(
    emulator: Emulator, control: EmulatorControl, header: str, detail: str
) -> None:
    message = volcengine_error(
        exchange(emulator, post(VOLCENGINE_PATH, header), b"{}"), 400, "InvalidParameter"
    )
    assert message == f"The request is malformed: {detail}."
    dli_error(exchange(emulator, post(DLI_PATH, header), b"{}"), 400, "Bad request.")
    assert plain_error(exchange(emulator, post(CONTROL_PATH, header), b"{}"), 400) == detail
    assert plain_error(exchange(emulator, post(UNCLAIMED_PATH, header), b"{}"), 400) == detail
    assert_still_serving(emulator, control)


def test_body_shorter_than_its_content_length(emulator: Emulator, control: EmulatorControl) -> None:
    # The client sends 10 of 100 bytes and closes its side: the server answers at once.
    header = "Content-Length: 100"
    reply = exchange(emulator, post(VOLCENGINE_PATH, header), b'{"Id": 1}\n', half_close=True)
    message = volcengine_error(reply, 400, "InvalidParameter")
    assert message == "The request is malformed: the body ended after 10 of 100 bytes."
    assert_closed_after(reply)
    reply = exchange(emulator, post(DLI_PATH, header), b'{"name": 1}', half_close=True)
    dli_error(reply, 400, "Bad request.")
    reply = exchange(emulator, post(CONTROL_PATH, header), b"{}", half_close=True)
    assert plain_error(reply, 400) == "the body ended after 2 of 100 bytes"
    assert_still_serving(emulator, control)


def test_body_shorter_than_declared_times_out_with_the_handler(
    emulator: Emulator, control: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client that sends less and then waits is answered once the handler's timeout passes, not later;
    # meanwhile the server serves others.
    monkeypatch.setattr(server_module._Handler, "timeout", 0.5)
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as stalled:
        stalled.sendall(post(DLI_PATH, "Content-Length: 100").encode() + b"\r\n\r\n{")
        assert control.health()
        started = time.monotonic()
        received = b""
        while chunk := stalled.recv(65536):
            received += chunk
        waited = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 400 ")
    assert b'"error_code":"APIG.0201"' in received
    assert waited < 3
    assert_still_serving(emulator, control)


# -- malformed chunked bodies -------------------------------------------------------------------------

MALFORMED_CHUNKS = {
    "not hexadecimal": (b"zz\r\nabc\r\n0\r\n\r\n", "the chunk size 'zz' is not a hexadecimal number"),
    "negative": (b"-5\r\nabcde\r\n0\r\n\r\n", "the chunk size '-5' is not a hexadecimal number"),
    "prefixed": (b"0x3\r\nabc\r\n0\r\n\r\n", "the chunk size '0x3' is not a hexadecimal number"),
    "empty": (b"\r\nabc\r\n0\r\n\r\n", "the chunk size '' is not a hexadecimal number"),
    "longer than its size": (b"3\r\nabcdef\r\n0\r\n\r\n", "a chunk is longer than its size says"),
    "truncated": (b"5\r\nabc", "a chunk ended after 3 of 5 bytes"),
    "no last chunk": (b"3\r\nabc\r\n", "the chunked body ended before a chunk size"),
    "endless size line": (b"1" * 5000, "a chunk size is longer than 4096 bytes"),
}


@pytest.mark.parametrize("body, detail", MALFORMED_CHUNKS.values(), ids=MALFORMED_CHUNKS.keys())
def test_malformed_chunked_body_on_each_route(
    emulator: Emulator, control: EmulatorControl, body: bytes, detail: str
) -> None:
    chunked = "Transfer-Encoding: chunked"
    reply = exchange(emulator, post(VOLCENGINE_PATH, chunked), body, half_close=True)
    assert volcengine_error(reply, 400, "InvalidParameter") == f"The request is malformed: {detail}."
    assert_closed_after(reply)
    dli_error(exchange(emulator, post(DLI_PATH, chunked), body, half_close=True), 400, "Bad request.")
    reply = exchange(emulator, post(CONTROL_PATH, chunked), body, half_close=True)
    assert plain_error(reply, 400) == detail
    assert_still_serving(emulator, control)


def test_well_formed_chunked_bodies_are_still_read(emulator: Emulator, control: EmulatorControl) -> None:
    # Chunk extensions, bare LF line ends and trailers are taken, as before.
    first, second = b'{"sta', b'rting_seconds": 0.25}'
    body = b"5;ext=1\r\n" + first + f"\r\n{len(second):x}\r\n".encode() + second
    body += b"\r\n0\r\nX-Trailer: yes\r\n\r\n"
    head = post(CONTROL_PATH, "Transfer-Encoding: chunked", "Connection: close")
    reply = exchange(emulator, head, body)
    assert reply.status == 200
    assert reply.body["starting_seconds"] == 0.25
    first, second = b'{"ba', b'tch_seconds": 0.75}'
    body = b"4\n" + first + f"\n{len(second):x}\n".encode() + second + b"\n0\n\n"
    reply = exchange(emulator, head, body)
    assert reply.status == 200
    assert reply.body["batch_seconds"] == 0.75


# -- the body limits ------------------------------------------------------------------------------------


def test_limits_are_declared_per_platform(emulator: Emulator) -> None:
    assert emulator.core.platforms["huawei_dli"].max_body_bytes == DLI_MAX_BODY_BYTES == 12 * 1024 * 1024
    assert (
        emulator.core.platforms["volcengine"].max_body_bytes == VOLCENGINE_MAX_BODY_BYTES == 10 * 1024 * 1024
    )
    assert EMULATOR_MAX_BODY_BYTES == 1024 * 1024


def test_huge_declared_body_is_refused_without_being_read(
    emulator: Emulator, control: EmulatorControl
) -> None:
    # 1 GB declared, a few bytes sent: the reply comes at once, so the server did not wait for the rest.
    header = f"Content-Length: {GIGABYTE}"
    reply = exchange(emulator, post(VOLCENGINE_PATH, header), b'{"App": ')
    message = volcengine_error(reply, 413, "RequestEntityTooLarge")
    assert message == f"The request body is larger than the limit of {VOLCENGINE_MAX_BODY_BYTES} bytes."
    assert_closed_after(reply)
    assert reply.elapsed < 1.5

    reply = exchange(emulator, post(DLI_PATH, header), b'{"name": ')
    dli_error(reply, 413, "Request entity too large.")
    assert reply.elapsed < 1.5

    reply = exchange(emulator, post(CONTROL_PATH, header), b'{"starting')
    assert plain_error(reply, 413) == f"the body is larger than the limit of {EMULATOR_MAX_BODY_BYTES} bytes"
    assert reply.elapsed < 1.5

    reply = exchange(emulator, post(UNCLAIMED_PATH, header), b"x")
    assert plain_error(reply, 413) == f"the body is larger than the limit of {EMULATOR_MAX_BODY_BYTES} bytes"
    reply = exchange(emulator, post(FLINK_PATH, header), b"x")
    assert reply.status == 413
    assert reply.body == {"errors": [f"the body is larger than the limit of {EMULATOR_MAX_BODY_BYTES} bytes"]}
    assert_still_serving(emulator, control)


def test_huge_chunked_body_is_refused_at_the_chunk_that_crosses_the_limit(
    emulator: Emulator, control: EmulatorControl
) -> None:
    chunked = "Transfer-Encoding: chunked"
    # A 1 GB chunk announced, three bytes of it sent.
    reply = exchange(emulator, post(VOLCENGINE_PATH, chunked), b"40000000\r\nabc")
    assert volcengine_error(reply, 413, "RequestEntityTooLarge")
    assert reply.elapsed < 1.5
    reply = exchange(emulator, post(DLI_PATH, chunked), b"40000000\r\nabc")
    dli_error(reply, 413, "Request entity too large.")
    # Small chunks that add up to more than the limit: refused at the crossing one, not at the end.
    half = EMULATOR_MAX_BODY_BYTES // 2
    body = (f"{half:x}\r\n".encode() + b" " * half + b"\r\n") * 2 + b"1\r\n"
    reply = exchange(emulator, post(CONTROL_PATH, chunked), body)
    assert plain_error(reply, 413) == f"the body is larger than the limit of {EMULATOR_MAX_BODY_BYTES} bytes"
    assert_still_serving(emulator, control)


def test_a_body_at_the_limit_is_read_and_one_byte_more_refused(
    emulator: Emulator, control: EmulatorControl
) -> None:
    # Over http.client (requests): the client sends the whole body and still reads the 413.
    at_limit = b" " * EMULATOR_MAX_BODY_BYTES
    assert requests.post(f"{emulator.url}/_emulator/reset", data=at_limit, timeout=10).status_code == 200
    over = requests.post(f"{emulator.url}/_emulator/reset", data=at_limit + b" ", timeout=10)
    assert over.status_code == 413
    assert over.headers["Connection"] == "close"
    assert over.json() == {"error": f"the body is larger than the limit of {EMULATOR_MAX_BODY_BYTES} bytes"}
    too_big_for_dli = requests.post(
        f"{emulator.url}{DLI_PATH}", data=b" " * (DLI_MAX_BODY_BYTES + 1), timeout=10
    )
    assert too_big_for_dli.status_code == 413
    assert too_big_for_dli.json()["error_code"] == "APIG.0201"
    assert_still_serving(emulator, control)


# -- read_body alone ------------------------------------------------------------------------------------


def _headers(**values: str) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


def test_read_body_reads_what_is_declared_and_no_more() -> None:
    stream = io.BytesIO(b"abcdefGET / HTTP/1.1\r\n")
    assert read_body(stream, _headers(Content_Length="6"), 6) == b"abcdef"
    assert stream.read() == b"GET / HTTP/1.1\r\n"
    assert read_body(io.BytesIO(b"ignored"), _headers(), 10) == b""
    assert read_body(io.BytesIO(b"ab"), _headers(Content_Length="2, 2"), 10) == b"ab"
    stream = io.BytesIO(b"3\r\nabc\r\n0\r\n\r\nnext")
    assert read_body(stream, _headers(Transfer_Encoding="chunked"), 3) == b"abc"
    assert stream.read() == b"next"


def test_read_body_refuses_before_reading_over_the_limit() -> None:
    stream = io.BytesIO(b"abcdef")
    with pytest.raises(BodyRefused) as refused:
        read_body(stream, _headers(Content_Length="6"), 5)
    assert (refused.value.status, refused.value.detail) == (
        413,
        "the body is larger than the limit of 5 bytes",
    )
    assert stream.tell() == 0
    stream = io.BytesIO(b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n")
    with pytest.raises(BodyRefused) as refused:
        read_body(stream, _headers(Transfer_Encoding="chunked"), 5)
    assert refused.value.status == 413
    # The crossing chunk was not read.
    assert stream.read() == b"def\r\n0\r\n\r\n"


def test_read_body_refuses_an_endless_trailer() -> None:
    body = b"0\r\n" + (b"X-T: " + b"y" * 1000 + b"\r\n") * 100
    with pytest.raises(BodyRefused) as refused:
        read_body(io.BytesIO(body), _headers(Transfer_Encoding="chunked"), 5)
    assert refused.value.status == 400
    assert "trailer" in refused.value.detail


def test_a_reply_leaves_in_one_send(emulator: Emulator) -> None:
    # Headers and body in separate sends make the body wait for the client's delayed ACK (Nagle's
    # algorithm): about 40 ms per reply. One send: the first read holds the whole reply.
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: emulator\r\n\r\n")
        first_read = sock.recv(65536)
    header_block, _, body = first_read.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in header_block.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    assert len(body) == length
    assert json.loads(body) == {"status": "ok"}


def test_kept_alive_connections_are_counted_once(emulator: Emulator) -> None:
    control = emulator.control
    before = control.connections_accepted()
    with requests.Session() as session:
        for _ in range(5):
            assert session.get(f"{emulator.url}/_emulator/health", timeout=5).ok
    for _ in range(3):
        assert requests.get(f"{emulator.url}/_emulator/health", headers={"Connection": "close"}, timeout=5).ok
    # One kept-alive session and three one-shot connections (the control client keeps its own alive).
    assert control.connections_accepted() - before == 1 + 3
