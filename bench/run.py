"""``make bench``: the figures of issue 12, each printed with its goal beside it. Method: bench/README.md.

1. Parse cost: cumulative import of each public operators / sensors module after ``import airflow.sdk``
   (fresh processes, compiled bytecode, median).
2. Emulator: reply latency on loopback (one kept-alive connection) and, in 3., the rate it serves.
3. Triggerer: many ``FlinkJobTrigger.run()`` coroutines in one event loop, the way the triggerer runs them,
   against the emulator in its own process; side by side with a bare loop of the same signed requests over
   one shared aiohttp session (the floor) and over one shared httpx client.

``python bench/run.py --quick`` runs every part at a tenth of the scale (a smoke run, not figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IMPORT_RUNS = 9
PARSE_GOAL_MS = 25.0
LATENCY_REQUESTS = 500
LATENCY_GOAL_MS = 2.0
CPU_RATIO_GOAL = 1.2
CPU_SHARE_GOAL = 0.5
LAG_P99_GOAL_MS = 100.0
KB_PER_JOB_GOAL = 15.0
# Distinct running instances in the emulator; job i watches instance i mod this (the emulator's cost of
# a status call does not depend on how many instances it holds).
DISTINCT_INSTANCES = 200
LAG_TICK = 0.05

IMPORT_PROBE = """
import importlib.util, time
t0 = time.perf_counter()
import airflow
if importlib.util.find_spec("airflow.sdk"):
    import airflow.sdk  # Airflow 3: what a DAG file imports first
t1 = time.perf_counter()
import {module}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def public_task_modules() -> list[str]:
    from airflow_provider_flinkcloud.registry import PLATFORMS

    return [spec.module(kind) for spec in PLATFORMS.values() for kind in ("operators", "sensors")]


def bench_parse_cost() -> None:
    env = dict(os.environ)
    # Compiled bytecode, as an installed provider has: a warm-up run writes it to a private prefix.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="flinkcloud-bench-pyc-")
    print(
        "== parse cost: cumulative import after `import airflow.sdk` (2.11: `import airflow`), compiled "
        f"bytecode, median of {IMPORT_RUNS} fresh processes"
    )
    for module in public_task_modules():
        probe = IMPORT_PROBE.format(module=module)
        subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True)
        base, ours = [], []
        for _ in range(IMPORT_RUNS):
            out = subprocess.run(
                [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
            ).stdout.split()
            base.append(float(out[-2]))
            ours.append(float(out[-1]))
        ms = statistics.median(ours) * 1000
        verdict = "ok" if ms <= PARSE_GOAL_MS else "OVER"
        print(
            f"  {module:<52} {ms:6.1f} ms  (goal <= {PARSE_GOAL_MS:.0f} ms: {verdict}; "
            f"Airflow itself {statistics.median(base) * 1000:.0f} ms)"
        )


# -- the emulator ---------------------------------------------------------------------------------------


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flinkcloud.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on" in line:
            return proc, line.strip().split()[-1]
    raise RuntimeError("the emulator did not start")


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue_wait() -> float:
    """Seconds this thread (the event loop's) has waited for a CPU while runnable (``/proc/<pid>/schedstat``,
    second field): on a shared machine, the part of the loop lag that is other processes' turn."""
    return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9


def rss_kb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024


def open_sockets() -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


@dataclass
class Bench:
    """The emulator, a connection to it, and the running instances the jobs watch."""

    url: str
    emulator_pid: int
    refs: list[dict[str, str]]

    @property
    def control(self) -> Any:
        from airflow_provider_flinkcloud.emulator import EmulatorControl

        return EmulatorControl(self.url)

    def status_calls(self) -> int:
        return int(self.control.counters()["volcengine"]["calls"].get("GetApplicationInstance", 0))


def connect(url: str) -> None:
    """The default Volcengine connection, pointed at the emulator (from the environment)."""
    from airflow_provider_flinkcloud.emulator import VOLCENGINE_ACCESS_KEY, VOLCENGINE_SECRET_KEY

    os.environ["AIRFLOW_CONN_VOLCENGINE_FLINK_DEFAULT"] = json.dumps(
        {
            "conn_type": "volcengine_flink",
            "login": VOLCENGINE_ACCESS_KEY,
            "password": VOLCENGINE_SECRET_KEY,
            "extra": {"endpoint": url, "project_id": "bench", "region": "cn-beijing"},
        }
    )


def seed(url: str) -> Bench:
    from airflow_provider_flinkcloud.emulator import EmulatorControl
    from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
    from airflow_provider_flinkcloud.models.volcengine import StartApplicationInstanceRequest

    connect(url)
    EmulatorControl(url).set_timings(starting_seconds=0.0)
    hook = VolcengineFlinkHook()
    refs = []
    for i in range(DISTINCT_INSTANCES):
        spec = hook.validate_spec(
            {
                "app": {
                    "JobType": "FLINK_STREAMING_SQL",
                    "JobName": f"bench-{i}",
                    "UniqueKey": f"bench-{i}",
                    "SqlText": "SELECT 1",
                }
            }
        )
        started = hook.call(hook.client.start_call(StartApplicationInstanceRequest(app=spec.app)))
        refs.append({"instance_id": started.instance_id})
    return Bench(url, 0, refs)


# -- one scenario: N jobs polled every I seconds --------------------------------------------------------


@dataclass
class Figures:
    kind: str
    jobs: int
    interval: float
    window: float
    polls: int
    cpu: float
    emulator_cpu: float
    lags: list[float]
    kb_per_job: float
    sockets: int
    new_connections: int
    errors: int
    # Garbage collections in the window, per generation: [count, total seconds, longest seconds].
    gc_pauses: list[list[float]]
    # Objects the collector tracks when the window opens: what a full (generation 2) collection walks.
    gc_tracked: int
    # Seconds the loop's thread waited, runnable, for a CPU in the window (other processes had it).
    cpu_wait: float
    # Objects the collector tracked before the jobs started (Airflow, aiohttp, the benchmark itself).
    gc_baseline: int

    @property
    def target_rate(self) -> float:
        return self.jobs / self.interval

    @property
    def rate(self) -> float:
        return self.polls / self.window

    @property
    def cpu_per_poll(self) -> float:
        return self.cpu / self.polls if self.polls else float("inf")

    def line(self) -> str:
        lag = [percentile(self.lags, 0.5), percentile(self.lags, 0.99), max(self.lags, default=0.0)]
        return ", ".join(
            [
                f"{self.kind:<8} {self.jobs:>6} jobs / {self.interval:>4.0f} s: {self.rate:6.0f} polls/s of "
                f"{self.target_rate:.0f}",
                f"{self.rate / self.target_rate:.2f} status calls per job per interval",
                f"CPU {self.cpu_per_poll * 1e3:.3f} ms/poll = {self.cpu / self.window:.0%} of a core",
                "loop lag p50/p99/max " + "/".join(f"{v * 1e3:.0f}" for v in lag) + " ms",
                self.gc_line(),
                f"waited for a CPU {self.cpu_wait / self.window:.0%} of the window",
                f"{self.kb_per_job:.1f} KB/job",
                f"{self.sockets} sockets",
                f"{self.new_connections / self.window * 60:.0f} new connections/min",
                f"emulator {self.emulator_cpu / self.window:.0%} of a core",
                f"{self.errors} errors",
            ]
        )

    def gc_line(self) -> str:
        """What explains the loop lag: the collector's pauses in the window (CPython stops the loop for
        each; a generation-2 collection walks every tracked object, ``gc_tracked``)."""
        gens = "/".join(f"{int(count)}" for count, _, _ in self.gc_pauses)
        longest = [f"{top * 1e3:.0f}" for _, _, top in self.gc_pauses]
        total = sum(spent for _, spent, _ in self.gc_pauses)
        return (
            f"GC gen0/1/2 {gens} pauses, longest {'/'.join(longest)} ms, {total / self.window:.0%} of the "
            f"window, {self.gc_tracked / 1e3:.0f}k tracked objects "
            f"({(self.gc_tracked - self.gc_baseline) / self.jobs:.0f} per job)"
        )


class GcPauses:
    """Times every garbage collection while ``measuring`` (through ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.measuring = False
        self.started = 0.0
        self.pauses: list[list[float]] = [[0, 0.0, 0.0] for _ in range(3)]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        elif self.measuring:
            spent = time.perf_counter() - self.started
            entry = self.pauses[info["generation"]]
            entry[0] += 1
            entry[1] += spent
            entry[2] = max(entry[2], spent)


async def provider_poller(bench: Bench, interval: float, errors: list[Any], closers: list[Any]) -> Any:
    """Job ``i`` is one ``VolcengineFlinkInstanceTrigger``, run as the triggerer runs it."""
    from airflow_provider_flinkcloud.triggers.volcengine import VolcengineFlinkInstanceTrigger

    def make(i: int) -> Any:
        trigger = VolcengineFlinkInstanceTrigger(
            conn_id="volcengine_flink_default",
            refs=[bench.refs[i % len(bench.refs)]],
            # A streaming instance that stays RUNNING: the trigger polls until cancelled.
            target_states=["SUCCESS"],
            poll_interval=interval,
        )

        async def run() -> None:
            async for event in trigger.run():
                errors.append(event.payload)

        return run

    return make


async def bare_poller(
    bench: Bench, interval: float, errors: list[Any], closers: list[Any], library: str
) -> Any:
    """Job ``i`` is a loop of the same signed status request over one shared session: the floor."""
    from yarl import URL

    from airflow_provider_flinkcloud.core.transport import build_url, host_header
    from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook

    client = VolcengineFlinkHook().client
    host = host_header(client.base_url)
    if library == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100), skip_auto_headers=("Content-Type",)
        )
        closers.append(session.close)

        async def send(request: Any, headers: dict[str, str]) -> bytes:
            url = URL(build_url(client.base_url, request), encoded=True)
            async with session.request(request.method, url, headers=headers, data=request.body) as raw:
                return await raw.read()
    else:
        import httpx

        hclient = httpx.AsyncClient(limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))
        closers.append(hclient.aclose)

        async def send(request: Any, headers: dict[str, str]) -> bytes:
            raw = await hclient.request(
                request.method, build_url(client.base_url, request), headers=headers, content=request.body
            )
            return raw.content

    from datetime import datetime, timezone

    def make(i: int) -> Any:
        request = client.get_instance_call(bench.refs[i % len(bench.refs)]["instance_id"]).request

        async def run() -> None:
            while True:
                began = time.monotonic()
                try:
                    json.loads(await send(request, client.sign(request, host, datetime.now(timezone.utc))))
                except Exception as exc:
                    errors.append(repr(exc))
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))

        return run

    return make


async def run_scenario(bench: Bench, kind: str, jobs: int, interval: float, window: float) -> Figures:
    errors: list[Any] = []
    # The provider's session is closed with the loop (core.transport); the floors' here.
    closers: list[Callable[[], Awaitable[None]]] = []
    if kind == "provider":
        make = await provider_poller(bench, interval, errors, closers)
    else:
        make = await bare_poller(bench, interval, errors, closers, kind)
    lags: list[float] = []
    measuring = False

    async def ticker() -> None:
        while True:
            # Only ticks that start inside the window: the one asleep while the window opens would count
            # the benchmark's own blocking set-up (gc.collect(), the emulator's counters) as loop lag.
            began, counted = time.monotonic(), measuring
            await asyncio.sleep(LAG_TICK)
            if measuring and counted:
                lags.append(time.monotonic() - began - LAG_TICK)

    async def staggered(i: int, run: Callable[[], Awaitable[None]]) -> None:
        # Spread the jobs over one interval, as tasks deferred over time are.
        await asyncio.sleep(interval * i / jobs)
        await run()

    gc.collect()
    rss_before, gc_baseline = rss_kb(), len(gc.get_objects())
    runs = [make(i) for i in range(jobs)]
    tasks = [asyncio.create_task(staggered(i, run)) for i, run in enumerate(runs)]
    tick = asyncio.create_task(ticker())
    # Every job started, read its connection once (about 0.6 ms each: at 1,000 new triggers a second that
    # is a backlog of its own) and polled at least twice: the window measures the steady state.
    await asyncio.sleep(2 * interval + min(interval, 5.0))
    gc.collect()
    kb_per_job = max(0.0, rss_kb() - rss_before) / jobs
    gc_tracked = len(gc.get_objects())
    calls0, conns0 = bench.status_calls(), bench.control.connections_accepted()
    collections = GcPauses()
    gc.callbacks.append(collections)
    cpu0, emu0, t0 = time.process_time(), process_cpu_seconds(bench.emulator_pid), time.monotonic()
    wait0 = run_queue_wait()
    measuring = collections.measuring = True
    await asyncio.sleep(window)
    measuring = collections.measuring = False
    gc.callbacks.remove(collections)
    cpu_wait = run_queue_wait() - wait0
    cpu1, emu1, t1 = time.process_time(), process_cpu_seconds(bench.emulator_pid), time.monotonic()
    sockets = open_sockets()
    calls1, conns1 = bench.status_calls(), bench.control.connections_accepted()
    for task in [*tasks, tick]:
        task.cancel()
    await asyncio.gather(*tasks, tick, return_exceptions=True)
    for close in closers:
        await close()
    return Figures(
        kind,
        jobs,
        interval,
        t1 - t0,
        calls1 - calls0,
        cpu1 - cpu0,
        emu1 - emu0,
        lags,
        kb_per_job,
        sockets,
        conns1 - conns0,
        len(errors),
        collections.pauses,
        gc_tracked,
        cpu_wait,
        gc_baseline,
    )


def scenario(bench: Bench, kind: str, jobs: int, interval: float, window: float) -> Figures:
    """One scenario in a fresh process: its memory and CPU are its own, not left over from the last."""
    spec = {
        "url": bench.url,
        "emulator_pid": bench.emulator_pid,
        "refs": bench.refs,
        "kind": kind,
        "jobs": jobs,
        "interval": interval,
        "window": window,
    }
    out = subprocess.run(
        [sys.executable, __file__, "--scenario", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the {kind} scenario failed:\n{out.stderr[-4000:]}")
    figures = Figures(**json.loads(out.stdout.strip().splitlines()[-1]))
    print("  " + figures.line(), flush=True)
    return figures


def run_one_scenario(spec: dict[str, Any]) -> None:
    import dataclasses
    import logging

    # The triggers log each job's state once, when first seen; the figures are what this run prints.
    logging.disable(logging.WARNING)
    bench = Bench(spec["url"], spec["emulator_pid"], spec["refs"])
    connect(bench.url)
    figures = asyncio.run(run_scenario(bench, spec["kind"], spec["jobs"], spec["interval"], spec["window"]))
    print(json.dumps(dataclasses.asdict(figures)))


def bench_emulator_latency(bench: Bench) -> None:
    async def measure() -> list[float]:
        from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook

        hook = VolcengineFlinkHook()
        call = hook.status_call(bench.refs[0])
        await hook.acall(call)
        times = []
        for _ in range(LATENCY_REQUESTS):
            began = time.perf_counter()
            await hook.acall(call)
            times.append(time.perf_counter() - began)
        return times

    times = asyncio.run(measure())
    p50 = percentile(times, 0.5) * 1e3
    print(
        "== emulator: signed status call round trip on loopback, one kept-alive connection: "
        f"p50 {p50:.2f} ms, p99 {percentile(times, 0.99) * 1e3:.2f} ms (goal < {LATENCY_GOAL_MS:.0f} ms: "
        f"{'ok' if p50 < LATENCY_GOAL_MS else 'OVER'})"
    )


def bench_peak(bench: Bench, scale: float) -> None:
    """10,000 jobs at 10 s: the rate must hold and the loop stay responsive; the floor beside it shows
    how much of the lag (and of the collector's pauses) any aiohttp client has at this rate."""
    print("== triggerer: up to 1,000 polls/s (10 s interval, 20 s measured), provider and floor")
    top = scenario(bench, "provider", int(10_000 * scale), 10.0, 20.0)
    floor = scenario(bench, "aiohttp", int(10_000 * scale), 10.0, 20.0)
    lag = percentile(top.lags, 0.99) * 1e3
    held = top.rate / top.target_rate
    print(
        f"  at {top.target_rate:.0f} polls/s: {held:.2f} of the target rate held (no collapse: >= 0.95, "
        f"{'ok' if held >= 0.95 else 'COLLAPSED'}), loop lag p99 {lag:.0f} ms "
        f"(goal < {LAG_P99_GOAL_MS:.0f} ms: {'ok' if lag < LAG_P99_GOAL_MS else 'OVER'}; "
        f"floor {percentile(floor.lags, 0.99) * 1e3:.0f} ms); load {os.getloadavg()[0]:.2f}"
    )


def bench_triggerer(bench: Bench, scale: float) -> None:
    jobs, interval, window = int(20_000 * scale), 30.0, 60.0 * max(scale, 0.25)
    print(f"== triggerer: {jobs} watched jobs at a {interval:.0f} s interval, {window:.0f} s measured")
    ours = scenario(bench, "provider", jobs, interval, window)
    floor = scenario(bench, "aiohttp", jobs, interval, window)
    ratio = ours.cpu_per_poll / floor.cpu_per_poll
    print(
        f"  CPU per poll, provider / bare aiohttp floor = {ratio:.2f} (goal <= {CPU_RATIO_GOAL}: "
        f"{'ok' if ratio <= CPU_RATIO_GOAL else 'OVER'}); "
        f"provider CPU {ours.cpu / ours.window:.0%} of a core "
        f"(goal < {CPU_SHARE_GOAL:.0%}: {'ok' if ours.cpu / ours.window < CPU_SHARE_GOAL else 'OVER'}); "
        f"{ours.kb_per_job:.1f} KB per watched job (goal <= {KB_PER_JOB_GOAL:.0f}: "
        f"{'ok' if ours.kb_per_job <= KB_PER_JOB_GOAL else 'OVER'}); "
        f"{ours.rate / ours.target_rate:.2f} status calls per job per interval (goal 1.00)"
    )
    bench_peak(bench, scale)
    print("== the async client, chosen by measurement: bare loops at 167 polls/s (5,000 jobs at 30 s)")
    a = scenario(bench, "aiohttp", int(1_667 * scale), 10.0, 20.0)
    h = scenario(bench, "httpx", int(1_667 * scale), 10.0, 20.0)
    print(f"  CPU per poll, httpx / aiohttp = {h.cpu_per_poll / a.cpu_per_poll:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the scale: a smoke run")
    parser.add_argument("--only", choices=("parse", "emulator", "triggerer", "peak"), action="append")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)  # internal: one scenario, figures as JSON
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="flinkcloud-bench-home-"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    if args.scenario:
        run_one_scenario(json.loads(args.scenario))
        return 0
    parts = set(args.only or ("parse", "emulator", "triggerer"))
    print(f"bench on {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    if "parse" in parts:
        bench_parse_cost()
    if parts & {"emulator", "triggerer", "peak"}:
        proc, url = start_emulator()
        try:
            bench = seed(url)
            bench.emulator_pid = proc.pid
            if "emulator" in parts:
                bench_emulator_latency(bench)
            if "triggerer" in parts:
                bench_triggerer(bench, 0.1 if args.quick else 1.0)
            elif "peak" in parts:
                bench_peak(bench, 0.1 if args.quick else 1.0)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
