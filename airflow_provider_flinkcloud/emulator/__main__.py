"""``flinkcloud-emulator``: serve the emulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_flinkcloud.emulator.huawei_dli import (
    DLI_ACCESS_KEY,
    DLI_PROJECT_ID,
    DLI_SECRET_KEY,
    DLI_STS_ACCESS_KEY,
    DLI_STS_SECRET_KEY,
    DLI_STS_TOKEN,
)
from airflow_provider_flinkcloud.emulator.platform import is_loopback_host
from airflow_provider_flinkcloud.emulator.server import Emulator
from airflow_provider_flinkcloud.emulator.volcengine import (
    VOLCENGINE_ACCESS_KEY,
    VOLCENGINE_SECRET_KEY,
    VOLCENGINE_STS_ACCESS_KEY,
    VOLCENGINE_STS_SECRET_KEY,
    VOLCENGINE_STS_TOKEN,
)

DEFAULT_PORT = 8765


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0-65535; 0 picks a free one)")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="flinkcloud-emulator",
        description=(
            "Emulate the Flink job platforms' APIs locally "
            "(Volcengine Flink 2025-01-01, Huawei Cloud DLI Flink jobs v1.0)."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 = any")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    # The control API is unauthenticated and the credentials are public, so never listen beyond this host.
    if not is_loopback_host(args.host):
        parser.error(f"--host must be a loopback address (127.0.0.1, ::1 or localhost), not {args.host!r}")

    emulator = Emulator(host=args.host, port=args.port, verbose=args.verbose)
    try:
        emulator.start()
    except OSError as exc:
        print(f"flinkcloud-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"flinkcloud-emulator listening on {emulator.url}", flush=True)
    print(f"volcengine access key: {VOLCENGINE_ACCESS_KEY}  secret key: {VOLCENGINE_SECRET_KEY}", flush=True)
    print(
        f"volcengine STS access key: {VOLCENGINE_STS_ACCESS_KEY}  secret key: {VOLCENGINE_STS_SECRET_KEY}"
        f"  session token: {VOLCENGINE_STS_TOKEN}",
        flush=True,
    )
    print(
        f"huawei_dli access key: {DLI_ACCESS_KEY}  secret key: {DLI_SECRET_KEY}"
        f"  project id: {DLI_PROJECT_ID}",
        flush=True,
    )
    print(
        f"huawei_dli temporary access key: {DLI_STS_ACCESS_KEY}  secret key: {DLI_STS_SECRET_KEY}"
        f"  security token: {DLI_STS_TOKEN}  project id: {DLI_PROJECT_ID}",
        flush=True,
    )

    stopped = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    # A timed wait lets the signal handlers run promptly on every platform.
    while not stopped.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
