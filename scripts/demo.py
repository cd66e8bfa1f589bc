"""``make demo``: start the emulator, run every example DAG with real Airflow, print what each task did."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "example_dags"
HOME = Path(os.environ.get("FLINKCLOUD_DEMO_HOME", ROOT / ".demo"))


def airflow_env(emulator_url: str) -> dict[str, str]:
    from urllib.parse import urlsplit

    from airflow_provider_flinkcloud.emulator import (
        ALIBABA_ACCESS_KEY,
        ALIBABA_FLINK_ACCESS_KEY,
        ALIBABA_FLINK_NAMESPACE,
        ALIBABA_FLINK_SECRET_KEY,
        ALIBABA_FLINK_WORKSPACE,
        ALIBABA_SECRET_KEY,
        DINKY_API_TOKEN,
        DLI_ACCESS_KEY,
        DLI_PROJECT_ID,
        DLI_SECRET_KEY,
        VOLCENGINE_ACCESS_KEY,
        VOLCENGINE_SECRET_KEY,
    )

    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(HOME / "airflow-home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_VOLCENGINE_FLINK_DEFAULT": json.dumps(
                {
                    "conn_type": "volcengine_flink",
                    "login": VOLCENGINE_ACCESS_KEY,
                    "password": VOLCENGINE_SECRET_KEY,
                    "extra": {"region": "cn-beijing", "project_id": "demo-project", "endpoint": emulator_url},
                }
            ),
            "AIRFLOW_CONN_HUAWEICLOUD_DLI_DEFAULT": json.dumps(
                {
                    "conn_type": "huaweicloud_dli",
                    "login": DLI_ACCESS_KEY,
                    "password": DLI_SECRET_KEY,
                    "extra": {"region": "cn-north-4", "project_id": DLI_PROJECT_ID, "endpoint": emulator_url},
                }
            ),
            "AIRFLOW_CONN_ALIBABA_REALTIME_COMPUTE_DEFAULT": json.dumps(
                {
                    "conn_type": "alibaba_realtime_compute",
                    "login": ALIBABA_ACCESS_KEY,
                    "password": ALIBABA_SECRET_KEY,
                    "extra": {"region": "cn-hangzhou", "endpoint": emulator_url},
                }
            ),
            "AIRFLOW_CONN_ALIBABA_FLINK_DEFAULT": json.dumps(
                {
                    "conn_type": "alibaba_flink",
                    "login": ALIBABA_FLINK_ACCESS_KEY,
                    "password": ALIBABA_FLINK_SECRET_KEY,
                    "extra": {
                        "region": "cn-hangzhou",
                        "workspace": ALIBABA_FLINK_WORKSPACE,
                        "namespace": ALIBABA_FLINK_NAMESPACE,
                        "endpoint": emulator_url,
                    },
                }
            ),
            # Dinky is addressed by host and port, with an API token in the password.
            "AIRFLOW_CONN_DINKY_DEFAULT": json.dumps(
                {
                    "conn_type": "dinky",
                    "host": urlsplit(emulator_url).hostname,
                    "port": urlsplit(emulator_url).port,
                    "schema": "http",
                    "password": DINKY_API_TOKEN,
                }
            ),
        }
    )
    return env


def airflow(env: dict[str, str], *args: str, log: Path) -> int:
    with log.open("a") as out:
        return subprocess.call(
            [str(Path(sys.executable).parent / "airflow"), *args], env=env, stdout=out, stderr=out
        )


def dag_ids() -> list[str]:
    return [f"example_{path.stem}" for path in sorted(DAGS.glob("*.py")) if not path.name.startswith("_")]


def report(env: dict[str, str], dag_id: str) -> list[tuple[str, str, str]]:
    """Task id, state and a one-line summary of the return value, read from Airflow's database."""
    code = f"""
import json
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
with create_session() as s:
    run = s.query(DagRun).filter(DagRun.dag_id == {dag_id!r}).order_by(DagRun.id.desc()).first()
    rows = []
    for ti in sorted(run.get_task_instances(session=s), key=lambda t: t.start_date or t.end_date):
        value = ti.xcom_pull(task_ids=ti.task_id, key="return_value", session=s)
        rows.append([ti.task_id, str(getattr(ti.state, "value", ti.state)), value])
print("ROWS" + json.dumps(rows, default=str))
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("ROWS")), None)
    if line is None:
        return [
            ("?", "?", (out.stderr or out.stdout).strip().splitlines()[-1:][0] if out.stderr else "no report")
        ]
    return [(task, state, summarize(value)) for task, state, value in json.loads(line[4:])]


def summarize(value: object) -> str:
    if not isinstance(value, dict):
        return "" if value is None else str(value)[:100]
    if isinstance(value.get("jobs"), list):
        return "; ".join(summarize(job) for job in value["jobs"]) or "no jobs"
    if "definition" in value:  # a define-only task: the definition's fate, then the last run apart
        last = value.get("last_run")
        parts = [f"definition {value['definition']}"]
        if last:
            parts[0] += f", last run {last.get('state')} (native {last.get('native_state')})"
    else:
        parts = [f"{value.get('state')} (native {value.get('native_state')})"]
    if value.get("instance_id"):
        parts.append(f"instance {value['instance_id']}")
    if value.get("job_instance_id"):
        parts.append(f"Dinky task {value.get('dinky_task_id')} job instance {value['job_instance_id']}")
    if value.get("savepoint_path"):
        parts.append(f"savepoint {value['savepoint_path']}")
    if value.get("job_id"):
        parts.append(f"job {value['job_id']}" + (f" {value['job_name']}" if value.get("job_name") else ""))
    if value.get("deployment_name"):
        parts.append(f"deployment {value['deployment_name']}")
    if value.get("stopped") is not None:
        parts.append("stopped" if value["stopped"] else "was not running")
    savepoint = value.get("savepoint")
    if isinstance(savepoint, dict):
        parts.append(f"savepoint {savepoint.get('savepoint_path') or 'taken (job resumes from its latest)'}")
    if value.get("console_url"):
        parts.append(value["console_url"])
    return ", ".join(parts)


def main() -> int:
    from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl

    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    log = HOME / "airflow.log"
    with Emulator(host="127.0.0.1", port=0) as emulator:
        control = EmulatorControl(emulator.url)
        control.set_timings(
            starting_seconds=1.0, batch_seconds=3.0, cancelling_seconds=1.0, savepoint_seconds=0.5
        )
        print(f"flinkcloud-emulator listening on {emulator.url}")
        env = airflow_env(emulator.url)
        started = time.monotonic()
        if airflow(env, "db", "migrate", log=log) != 0:
            print(f"airflow db migrate failed; see {log}")
            return 1
        failures = 0
        for dag_id in dag_ids():
            t0 = time.monotonic()
            code = airflow(env, "dags", "test", dag_id, log=log)
            failures += code != 0
            print(f"\n{dag_id}: {'succeeded' if code == 0 else 'FAILED'} in {time.monotonic() - t0:.1f}s")
            for task, state, summary in report(env, dag_id):
                print(f"  {task:<24} {state:<10} {summary}")
        print()
        for platform, counters in control.counters().items():
            counted = {k: v for k, v in counters.items() if k.endswith("_by_name") and v}
            print(f"emulator {platform}: {counted}, calls {counters.get('calls')}")
        print(f"all logs: {log}  ({time.monotonic() - started:.0f}s in all)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
