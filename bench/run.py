"""``make bench``: the figures the issues ask for, each measured side by side in one run.

1. Import cost of ``airflow_provider_flinkcloud.operators.volcengine`` over ``import airflow.sdk``
   (fresh processes, median).
2. CPU per status poll through the trigger's async path over CPU per bare ``httpx`` GET of the same
   emulator URL (emulator in its own process, so only the client side is measured).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_RUNS = 9
POLL_ROUNDS = 5
POLLS_PER_ROUND = 200

IMPORT_PROBE = """
import time
t0 = time.perf_counter()
import {baseline}
t1 = time.perf_counter()
import airflow_provider_flinkcloud.operators.volcengine
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def airflow_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="flinkcloud-bench-home-"))
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    return env


def bench_import() -> None:
    try:
        import importlib.util

        baseline = "airflow.sdk" if importlib.util.find_spec("airflow.sdk") else "airflow"
    except ModuleNotFoundError:
        baseline = "airflow"
    env = airflow_env()
    base, ours = [], []
    for _ in range(IMPORT_RUNS):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE.format(baseline=baseline)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        base.append(float(out[-2]))
        ours.append(float(out[-1]))
    b, o = statistics.median(base), statistics.median(ours)
    print(
        f"import: `import {baseline}` median {b * 1000:.0f} ms; then `import "
        f"airflow_provider_flinkcloud.operators.volcengine` median {o * 1000:.0f} ms "
        f"({IMPORT_RUNS} fresh processes)"
    )
    print(f"import: provider import cost / {baseline} import cost = {o / b:.3f}")


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


async def measure_polls(url: str) -> tuple[float, float]:
    import httpx

    from airflow_provider_flinkcloud.core.transport import shared_async_client
    from airflow_provider_flinkcloud.emulator import EmulatorControl
    from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
    from airflow_provider_flinkcloud.models.volcengine import StartApplicationInstanceRequest

    EmulatorControl(url).set_timings(starting_seconds=0.0)
    hook = VolcengineFlinkHook()
    spec = hook.validate_spec(
        {
            "app": {
                "JobType": "FLINK_STREAMING_SQL",
                "JobName": "bench",
                "UniqueKey": "bench",
                "SqlText": "SELECT 1",
            }
        }
    )
    started = hook.call(hook.client.start_call(StartApplicationInstanceRequest(app=spec.app)))
    call = hook.status_call({"instance_id": started.instance_id})
    bare_url = f"{url}/?Action=GetApplicationInstance&Version=2025-01-01"
    bare = httpx.AsyncClient()
    status = await hook.acall(call)  # warm up: connection lookup, pools
    assert status.state.value == "RUNNING", status
    await bare.get(bare_url)
    assert shared_async_client() is shared_async_client()

    poll_cpu = bare_cpu = 0.0
    for _ in range(POLL_ROUNDS):
        t0 = time.process_time()
        for _ in range(POLLS_PER_ROUND):
            await hook.acall(call)
        poll_cpu += time.process_time() - t0
        t0 = time.process_time()
        for _ in range(POLLS_PER_ROUND):
            await bare.get(bare_url)
        bare_cpu += time.process_time() - t0
    await bare.aclose()
    n = POLL_ROUNDS * POLLS_PER_ROUND
    return poll_cpu / n, bare_cpu / n


def bench_polls() -> None:
    from airflow_provider_flinkcloud.emulator import VOLCENGINE_ACCESS_KEY, VOLCENGINE_SECRET_KEY

    proc, url = start_emulator()
    try:
        os.environ["AIRFLOW_CONN_VOLCENGINE_FLINK_DEFAULT"] = json.dumps(
            {
                "conn_type": "volcengine_flink",
                "login": VOLCENGINE_ACCESS_KEY,
                "password": VOLCENGINE_SECRET_KEY,
                "extra": {"endpoint": url, "project_id": "bench"},
            }
        )
        poll, bare = asyncio.run(measure_polls(url))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"poll: trigger status poll {poll * 1e6:.0f} us CPU; bare httpx GET {bare * 1e6:.0f} us CPU "
        f"({POLL_ROUNDS}x{POLLS_PER_ROUND} each, interleaved)"
    )
    print(f"poll: CPU per trigger status poll / CPU per bare httpx GET = {poll / bare:.2f}")


def main() -> int:
    os.environ.update({k: v for k, v in airflow_env().items() if k.startswith("AIRFLOW")})
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    bench_import()
    bench_polls()
    return 0


if __name__ == "__main__":
    sys.exit(main())
