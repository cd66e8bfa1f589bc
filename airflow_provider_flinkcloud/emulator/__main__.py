"""``flinkcloud-emulator``: serve the emulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_flinkcloud import registry
from airflow_provider_flinkcloud.emulator.platform import is_loopback_host
from airflow_provider_flinkcloud.emulator.server import Emulator

DEFAULT_PORT = 8765


def _labels() -> list[str]:
    return [spec.label for spec in registry.PLATFORMS.values()]


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0-65535; 0 picks a free one)")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="flinkcloud-emulator",
        description=f"Emulate the Flink job platforms' APIs locally ({', '.join(_labels())}).",
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
    # Every platform's default credential sets, as its backend lists them.
    for backend in emulator.core.backends.values():
        for line in backend.banner():
            print(line, flush=True)

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
