"""``make system-test``: the product run the way users run it (issue 9).

Inside one private network namespace (``unshare -n``, loopback only) this starts the emulator and a
real Airflow stack (3.x: scheduler, dag-processor, triggerer, api-server; 2.11: scheduler, triggerer,
webserver) on a fresh AIRFLOW_HOME, creates one connection per registry platform with
``airflow connections add``, triggers every example DAG through the REST API, asserts through the
REST API what each task did (final state, deferred for real, console link URL), and checks the UI in
headless Chromium (connection forms, the Test button, console-link buttons), saving screenshots.

Every check is reported as it runs and the run goes on after a failed one, so one run shows every
problem; the exit code is 1 if any check failed. Everything started is stopped by PID at the end.

    python scripts/system_test.py --airflow-version 3.3.2 [--artifacts DIR] [--keep-home]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "example_dags"
CHROMIUM = os.environ.get("SYSTEM_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMULATOR_PORT = 8765
UI_PORT = 8080
ADMIN = ("admin", "admin")
# Generous: 2 shared cores; these bound waits only, nothing asserts on time.
START_TIMEOUT = float(os.environ.get("SYSTEM_TEST_START_TIMEOUT", "600"))
RUN_TIMEOUT = float(os.environ.get("SYSTEM_TEST_RUN_TIMEOUT", "1200"))
INSIDE_ENV = "FLINKCLOUD_SYSTEM_TEST_INSIDE_NETNS"


def log(msg: str) -> None:
    print(f"[system-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------- checks
class Checks:
    """Each check is printed at once; a failure is recorded and the run goes on."""

    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []

    def record(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append({"check": name, "ok": bool(ok), "detail": detail})
        mark = "PASS" if ok else "FAIL"
        print(f"  [{mark}] {name}" + (f"\n         {detail}" if detail and not ok else ""), flush=True)
        if ok and detail:
            print(f"         {detail[:300]}", flush=True)
        return ok

    def guard(self, name: str, fn: Callable[[], Any]) -> Any:
        """Run a group of checks; an exception in it is one failed check, not the end of the run."""
        try:
            return fn()
        except Exception as exc:
            self.record(name, False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
            return None

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["ok"]]


# --------------------------------------------------------------------------------------------- processes
class Processes:
    """Everything this run starts, stopped by PID (children collected first), leftovers killed."""

    def __init__(self, logs: Path, pidfile: Path) -> None:
        self.logs = logs
        self.pidfile = pidfile
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(ROOT)
        )
        self.procs[name] = proc
        with self.pidfile.open("a") as f:
            f.write(f"{proc.pid}\n")
        log(f"started {name} (pid {proc.pid}): {' '.join(argv[-4:])}")
        return proc

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def stop_all(self) -> None:
        import psutil

        for name, proc in reversed(list(self.procs.items())):
            try:
                parent = psutil.Process(proc.pid)
                family = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                family = []
            t0 = time.monotonic()
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    log(f"{name} (pid {proc.pid}) ignored SIGTERM for 45 s; SIGKILL")
                    proc.kill()
                    proc.wait(timeout=10)
            left = [p for p in family[1:] if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            if left:
                _, alive = psutil.wait_procs(left, timeout=10)
                for p in alive:
                    log(f"killing leftover pid {p.pid} of {name} ({' '.join(p.cmdline()[:4])})")
                    p.kill()
            log(f"stopped {name} (pid {proc.pid}, exit {proc.returncode}) in {time.monotonic() - t0:.1f}s")


def kill_recorded(pidfile: Path) -> None:
    """Outer safety net: kill every PID the inner run recorded, and its children, if still alive."""
    try:
        import psutil
    except ImportError:
        return
    if not pidfile.exists():
        return
    for line in pidfile.read_text().split():
        try:
            proc = psutil.Process(int(line))
            family = [*proc.children(recursive=True), proc]
        except (psutil.NoSuchProcess, ValueError):
            continue
        for p in family:
            try:
                log(f"killing leftover pid {p.pid}")
                p.kill()
            except psutil.NoSuchProcess:
                pass


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except Exception as exc:
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s (last: {last!r})")


# ------------------------------------------------------------------------------------------------ stack
class Stack:
    def __init__(self, version: str, work: Path, artifacts: Path, checks: Checks) -> None:
        self.version = version
        self.af3 = version.startswith("3.")
        self.work = work
        self.home = work / "airflow-home"
        self.artifacts = artifacts
        self.checks = checks
        self.bin = Path(sys.executable).parent
        self.procs = Processes(artifacts / "logs", work / "pids")
        self.emulator_url = f"http://127.0.0.1:{EMULATOR_PORT}"
        self.ui = f"http://127.0.0.1:{UI_PORT}"
        self.api = f"{self.ui}/api/v2" if self.af3 else f"{self.ui}/api/v1"
        self.timings: dict[str, float] = {}
        import requests

        self.http = requests.Session()
        if not self.af3:
            self.http.auth = ADMIN
        self.env = self._env()

    # -------------------------------------------------------------------------------- configuration
    def _env(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__CORE__DEFAULT_TIMEZONE": "utc",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "10",
                "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "10",
                "PYTHONUNBUFFERED": "1",
                # Executors run `airflow tasks run ...` by name.
                "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
                "NO_PROXY": "*",
                "no_proxy": "*",
            }
        )
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            env.pop(k, None)
        if self.af3:
            env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                    "AIRFLOW__CORE__PARALLELISM": "4",
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                    "AIRFLOW__API__HOST": "127.0.0.1",
                    "AIRFLOW__API__PORT": str(UI_PORT),
                    "AIRFLOW__API__BASE_URL": self.ui,
                    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.ui}/execution/",
                    "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
                }
            )
        else:
            env.update(
                {
                    # 2.11 refuses LocalExecutor on sqlite; the SequentialExecutor still runs deferrable
                    # tasks for real (the triggerer waits, the scheduler resumes them).
                    "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
                    "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
                    "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(UI_PORT),
                    "AIRFLOW__WEBSERVER__BASE_URL": self.ui,
                    "AIRFLOW__WEBSERVER__WORKERS": "1",
                    "AIRFLOW__WEBSERVER__SECRET_KEY": secrets.token_hex(16),
                    "AIRFLOW__API__AUTH_BACKENDS": (
                        "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth,"
                        "airflow.providers.fab.auth_manager.api.auth.backend.session"
                    ),
                    "AIRFLOW__API__ENABLE_XCOM_DESERIALIZE_SUPPORT": "True",
                }
            )
        return env

    def airflow(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin / "airflow"), *args]
        out = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=False)
        with (self.artifacts / "logs" / "cli.log").open("a") as f:
            f.write(f"$ airflow {' '.join(args)}\n(rc={out.returncode})\n{out.stdout}\n{out.stderr}\n")
        if check and out.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} exited {out.returncode}: {out.stderr[-2000:]}")
        return out

    # ----------------------------------------------------------------------------------------- start
    def start(self) -> None:
        self.home.mkdir(parents=True)
        t0 = time.monotonic()
        self.procs.start(
            "emulator",
            [sys.executable, "-m", "airflow_provider_flinkcloud.emulator", "--port", str(EMULATOR_PORT)],
            self.env,
        )
        from airflow_provider_flinkcloud.emulator import EmulatorControl

        self.control = EmulatorControl(self.emulator_url)
        wait_for("emulator", self.control.health, 60)
        # Long enough that every deferrable task really waits in the triggerer for a while.
        self.control.set_timings(
            # batch 45 s: the sensor (which may start many seconds after the submit on 2.11's one-at-a-time
            # SequentialExecutor) still finds the job running and defers.
            # starting 15 s: a trigger that fires within seconds of the deferral can meet the scheduler
            # before it has processed the deferring process's exit, and Airflow then fails the task
            # ("finished with state success, but the task instance's state attribute is queued"),
            # an Airflow scheduler race seen here under load, not a provider fault.
            starting_seconds=15.0,
            batch_seconds=45.0,
            cancelling_seconds=2.0,
            savepoint_seconds=1.0,
        )
        t = time.monotonic()
        self.airflow("db", "migrate")
        self.timings["db_migrate_s"] = round(time.monotonic() - t, 1)
        self.create_connections()
        if not self.af3:
            self.airflow(
                "users",
                "create",
                "--username",
                ADMIN[0],
                "--password",
                ADMIN[1],
                "--role",
                "Admin",
                "--firstname",
                "System",
                "--lastname",
                "Test",
                "--email",
                "admin@example.invalid",
            )
        t = time.monotonic()
        a = str(self.bin / "airflow")
        self.procs.start("scheduler", [a, "scheduler"], self.env)
        if self.af3:
            self.procs.start("dag-processor", [a, "dag-processor"], self.env)
        self.procs.start("triggerer", [a, "triggerer"], self.env)
        if self.af3:
            self.procs.start(
                "api-server", [a, "api-server", "-H", "127.0.0.1", "-p", str(UI_PORT), "-w", "1"], self.env
            )
        else:
            self.procs.start(
                "webserver", [a, "webserver", "-H", "127.0.0.1", "-p", str(UI_PORT), "-w", "1"], self.env
            )
        health = f"{self.api}/monitor/health" if self.af3 else f"{self.ui}/health"
        wait_for("UI/API server", lambda: self.http.get(health, timeout=10).status_code == 200, START_TIMEOUT)
        self.timings["ui_ready_s"] = round(time.monotonic() - t, 1)

        def components_healthy() -> bool:
            body = self.http.get(health, timeout=10).json()
            parts = ["scheduler", "triggerer"] + (["dag_processor"] if self.af3 else [])
            return all((body.get(p) or {}).get("status") == "healthy" for p in parts)

        wait_for("scheduler/triggerer heartbeat", components_healthy, START_TIMEOUT, 2)
        self.timings["stack_healthy_s"] = round(time.monotonic() - t, 1)
        log(f"stack up: {self.timings}")
        self.timings["start_total_s"] = round(time.monotonic() - t0, 1)

    def create_connections(self) -> None:
        from airflow_provider_flinkcloud import registry

        self.connections: dict[str, dict[str, Any]] = {}
        for name, spec in registry.PLATFORMS.items():
            conn = self.control.connection(name)
            self.connections[name] = conn
            # Whatever fields the platform's connection has (access keys, or host / port / schema).
            fields = [
                arg
                for field in ("host", "port", "schema", "login", "password")
                if conn.get(field) not in (None, "")
                for arg in (f"--conn-{field}", str(conn[field]))
            ]
            out = self.airflow(
                "connections",
                "add",
                spec.default_conn_id,
                "--conn-type",
                conn["conn_type"],
                *fields,
                "--conn-extra",
                json.dumps(conn.get("extra") or {}),
                check=False,
            )
            self.checks.record(
                f"airflow connections add {spec.default_conn_id} ({conn['conn_type']})",
                out.returncode == 0,
                out.stderr.strip()[-500:] if out.returncode else "",
            )

    def stop(self) -> None:
        self.procs.stop_all()

    # ------------------------------------------------------------------------------------- REST helpers
    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(f"{self.api}{path}", params=params or None, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} -> HTTP {r.status_code}: {r.text[:500]}")
        return r.json()

    def dag_ids(self) -> list[str]:
        return [f"example_{p.stem}" for p in sorted(DAGS.glob("*.py")) if not p.name.startswith("_")]


# ----------------------------------------------------------------------------------------- DAG runs
def task_instances(stack: Stack, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    body = stack.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
    return body["task_instances"]


def trigger(stack: Stack, dag_id: str, logical_date: str | None) -> str:
    body: dict[str, Any] = {"conf": {}}
    if stack.af3:
        body["logical_date"] = logical_date  # None is sent as JSON null: a run without a logical date
    else:
        body["logical_date"] = logical_date
    r = stack.http.post(f"{stack.api}/dags/{dag_id}/dagRuns", json=body, timeout=60)
    if r.status_code not in (200, 201):
        raise RuntimeError(
            f"POST /dags/{dag_id}/dagRuns {json.dumps(body)} -> HTTP {r.status_code}: {r.text[:800]}"
        )
    return r.json()["dag_run_id"]


def watch_runs(stack: Stack, runs: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Poll the REST API until every run ended; record every state each task instance was seen in."""
    seen: dict[str, dict[str, list[str]]] = {d: {} for d in runs}
    final: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + RUN_TIMEOUT
    t0 = time.monotonic()
    while len(final) < len(runs) and time.monotonic() < deadline:
        for dag_id, run_id in runs.items():
            if dag_id in final:
                continue
            try:
                run = stack.get(f"/dags/{dag_id}/dagRuns/{run_id}")
                for ti in task_instances(stack, dag_id, run_id):
                    states = seen[dag_id].setdefault(ti["task_id"], [])
                    if not states or states[-1] != ti["state"]:
                        states.append(ti["state"])
            except Exception as exc:
                log(f"poll {dag_id}: {exc}")
                continue
            if run["state"] in ("success", "failed"):
                final[dag_id] = {"run": run, "seen": seen[dag_id], "seconds": round(time.monotonic() - t0, 1)}
                log(f"{dag_id} run {run_id} ended {run['state']} after {time.monotonic() - t0:.0f}s")
        time.sleep(1)
    for dag_id in runs:
        if dag_id not in final:
            final[dag_id] = {"run": {"state": "timeout"}, "seen": seen[dag_id], "seconds": None}
    return final


def read_xcom(stack: Stack, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
    r = stack.http.get(f"{stack.api}{path}", params={"deserialize": "true", "stringify": "false"}, timeout=60)
    if r.status_code != 200:
        return None
    value = r.json().get("value")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            import ast

            with contextlib.suppress(ValueError, SyntaxError):
                value = ast.literal_eval(value)
    return value


def extra_links(stack: Stack, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    # map_index=-1: what the 3.x UI sends for an unmapped task.
    params = {"map_index": -1} if stack.af3 else {}
    body = stack.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/links", **params)
    return body.get("extra_links", body) if stack.af3 else body


def task_log(stack: Stack, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
    r = stack.http.get(
        f"{stack.api}{path}",
        params={"full_content": "true"},
        headers={"Accept": "application/json"},
        timeout=120,
    )
    if r.status_code != 200:
        return f"<HTTP {r.status_code}: {r.text[:300]}>"
    content = r.json().get("content")
    if isinstance(content, list):  # 3.x: structured log records
        lines = []
        for rec in content:
            if isinstance(rec, dict):
                line = str(rec.get("event", ""))
                for err in rec.get("error_detail") or []:
                    line += f" {err.get('exc_type')}: {err.get('exc_value')}"
                lines.append(f"{rec.get('level', '')}: {line}")
            else:
                lines.append(str(rec))
        return "\n".join(lines)
    return str(content)


def expected_link(stack: Stack, ids: Any, urls: list[str]) -> str | None:
    """The console URL a task's stored ids should give, built from the ids and the connection's region."""
    if not isinstance(ids, dict):
        return None
    if ids.get("platform") == "volcengine":
        from airflow_provider_flinkcloud.links.volcengine import volcengine_console_url

        region = stack.connections["volcengine"]["extra"]["region"]
        url = volcengine_console_url({**{k: v for k, v in ids.items() if k != "platform"}, "region": region})
        # The scheme, independently of the product's formatter:
        assert url.startswith(
            f"https://console.volcengine.com/flink/region:flink+{region}/application/detail?"
        ), url
        assert f"instanceId={ids['instance_id']}" in url, url
        return url
    if ids.get("platform") == "huawei_dli":
        region = stack.connections["huawei_dli"]["extra"]["region"]
        base = f"https://console.huaweicloud.com/dli/?region={region}#/main/jobs/flink"
        jobs = ids.get("jobs")
        if jobs is None:
            return f"{base}/detail/{ids['job_id']}"
        return base if len(jobs) != 1 else f"{base}/detail/{jobs[0]['job_id']}"
    # The other platforms: one of the task's links is a console URL (https, or the self-hosted web UI's
    # own address) that names one of the job's ids.
    job_ids = [str(v) for k, v in ids.items() if k != "platform" and isinstance(v, str | int) and str(v)]
    return next(
        (u for u in urls if u.startswith(("https://", "http://")) and any(i in u for i in job_ids)), None
    )


DEFERRABLE = {
    "example_volcengine_flink": {"run_batch_jar", "wait_for_batch_sql"},
    "example_huawei_dli_flink": {"run_streaming_jobs", "wait_for_daily_rollup"},
}
SENSORS = {"wait_for_batch_sql", "wait_for_daily_rollup"}


def check_runs(stack: Stack, label: str, logical_date: str | None) -> dict[str, Any]:
    checks = stack.checks
    log(f"--- DAG runs: {label}")
    runs: dict[str, str] = {}
    for dag_id in stack.dag_ids():
        try:
            runs[dag_id] = trigger(stack, dag_id, logical_date)
            checks.record(f"[{label}] trigger {dag_id} via REST", True, f"run_id {runs[dag_id]}")
        except Exception as exc:
            checks.record(f"[{label}] trigger {dag_id} via REST", False, str(exc))
    t0 = time.monotonic()
    results = watch_runs(stack, runs)
    stack.timings[f"runs_{label}_s"] = round(time.monotonic() - t0, 1)
    summary: dict[str, Any] = {}
    for dag_id, run_id in runs.items():
        res = results[dag_id]
        checks.record(
            f"[{label}] {dag_id} run {run_id} ends success",
            res["run"]["state"] == "success",
            f"state {res['run']['state']}",
        )
        tis = {ti["task_id"]: ti for ti in task_instances(stack, dag_id, run_id)}
        summary[dag_id] = {"run_id": run_id, "tasks": {}}
        for task_id, ti in sorted(tis.items()):
            ids = read_xcom(stack, dag_id, run_id, task_id, "flinkcloud_job")
            ret = read_xcom(stack, dag_id, run_id, task_id, "return_value")
            info: dict[str, Any] = {"state": ti["state"], "seen": res["seen"].get(task_id, []), "ids": ids}
            summary[dag_id]["tasks"][task_id] = info
            detail = f"state {ti['state']}, states seen {res['seen'].get(task_id)}"
            if ti["state"] != "success":
                text = task_log(stack, dag_id, run_id, task_id, max(1, int(ti.get("try_number") or 1)))
                errors = re.findall(r"[A-Za-z_.]*(?:Error|Exception)[A-Za-z_.]*: [^\n]{0,300}", text)
                info["error"] = errors[-3:] if errors else text[-600:]
                detail += f"; log: {info['error']}"
            checks.record(f"[{label}] {dag_id}.{task_id} ends success", ti["state"] == "success", detail)
            if ti["state"] != "success":
                continue
            if task_id in DEFERRABLE.get(dag_id, set()):
                text = task_log(stack, dag_id, run_id, task_id, max(1, int(ti.get("try_number") or 1)))
                polled = "deferred" in res["seen"].get(task_id, [])
                logged = bool(re.search(r"DEFERRED|deferr", text))
                # A sensor whose first look finds the job done has nothing to wait for: no deferral.
                states = re.findall(r" is ([A-Z]+) \(native state", text)
                done_at_once = task_id in SENSORS and states[:1] == ["SUCCESS"]
                info["deferred"] = {"polled": polled, "task_log": logged, "done_at_first_look": done_at_once}
                checks.record(
                    f"[{label}] {dag_id}.{task_id} really deferred (REST: state polled / task log)",
                    polled or logged or done_at_once,
                    f"state 'deferred' seen while polling: {polled}; task log mentions deferral: {logged}; "
                    f"job already done at the sensor's first look: {done_at_once}",
                )
            try:
                links = extra_links(stack, dag_id, run_id, task_id)
            except Exception as exc:
                checks.record(f"[{label}] {dag_id}.{task_id} console link", False, str(exc))
                continue
            info["links"] = links
            urls = [u for u in links.values() if u]
            if ids is None:
                # A task that started or watched no job (e.g. a deployment only defined) links nowhere.
                checks.record(
                    f"[{label}] {dag_id}.{task_id} has no job, so no console link", not urls, f"links {links}"
                )
                continue
            want = None
            try:
                want = expected_link(stack, ids, urls)
            except AssertionError as exc:
                checks.record(f"[{label}] {dag_id}.{task_id} console URL scheme", False, str(exc))
            ok = bool(urls) and want is not None and want in urls
            checks.record(
                f"[{label}] {dag_id}.{task_id} console link resolves to the expected URL",
                ok,
                f"links {links}; expected {want!r} (ids in XCom flinkcloud_job: {ids})",
            )
            if isinstance(ret, dict) and ret.get("console_url") and urls:
                checks.record(
                    f"[{label}] {dag_id}.{task_id} link equals the returned console_url",
                    ret["console_url"] in urls,
                    f"returned {ret['console_url']}",
                )
    return summary


# --------------------------------------------------------------------------------------------- CLI
def check_provider_cli(stack: Stack) -> None:
    from airflow_provider_flinkcloud import registry

    widgets = stack.airflow("providers", "widgets", "-o", "json", check=False)
    behaviours = stack.airflow("providers", "behaviours", "-o", "json", check=False)
    (stack.artifacts / "providers-widgets.json").write_text(widgets.stdout)
    (stack.artifacts / "providers-behaviours.json").write_text(behaviours.stdout)
    for spec in registry.PLATFORMS.values():
        missing = [
            f"extra__{spec.conn_type}__{f}"
            for f in spec.form.extra_fields
            if f"extra__{spec.conn_type}__{f}" not in widgets.stdout
        ]
        stack.checks.record(
            f"airflow providers widgets lists the {spec.conn_type} extra fields",
            not missing,
            f"missing {missing}; rc={widgets.returncode} {widgets.stderr.strip()[-300:]}",
        )
        stack.checks.record(
            f"airflow providers behaviours lists {spec.conn_type}",
            spec.conn_type in behaviours.stdout,
            f"rc={behaviours.returncode}; output: {behaviours.stdout.strip()[:300]!r}",
        )


# ------------------------------------------------------------------------------------------- browser
class Browser:
    def __init__(self, stack: Stack) -> None:
        from playwright.sync_api import sync_playwright

        self.stack = stack
        self.shots = stack.artifacts / "screenshots"
        self.shots.mkdir(parents=True, exist_ok=True)
        self.pw = sync_playwright().start()
        self.ctx = self.pw.chromium.launch_persistent_context(
            str(stack.work / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        self.ctx.set_default_timeout(60_000)
        self.page = self.ctx.pages[0] if self.ctx.pages else self.ctx.new_page()
        self.n = 0

    def shot(self, name: str, full: bool = True) -> str:
        self.n += 1
        path = self.shots / f"{self.n:02d}-{name}.png"
        try:
            self.page.screenshot(path=str(path), full_page=full)
        except Exception as exc:
            log(f"screenshot {name} failed: {exc}")
        return path.name

    def close(self) -> None:
        try:
            self.ctx.close()
        finally:
            self.pw.stop()


def browser_checks(stack: Stack, runs: dict[str, Any]) -> None:
    br = Browser(stack)
    try:
        if stack.af3:
            ui3_checks(stack, br, runs)
        else:
            ui2_checks(stack, br, runs)
    finally:
        br.close()


FIELD_JS = """(name) => {
  const els = [...document.querySelectorAll(`[name="${name}"], [id="${name}"]`)]
    .filter(e => ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName));
  if (!els.length) return null;
  const el = els.find(e => e.offsetWidth || e.offsetHeight) || els[0];
  const visible = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  let label = null;
  if (el.id) { const l = document.querySelector(`label[for="${el.id}"]`); if (l) label = l.innerText.trim(); }
  // Else the one label of the nearest ancestor that has exactly one (the field's own wrapper).
  for (let p = el.parentElement, i = 0; !label && p && i < 8; p = p.parentElement, i++) {
    const ls = p.querySelectorAll('label');
    if (ls.length === 1) label = ls[0].innerText.trim();
    if (ls.length > 1) break;
  }
  return {visible, type: el.getAttribute('type') || el.tagName.toLowerCase(), label};
}"""


LABEL_JS = """(text) => {
  const labels = [...document.querySelectorAll('label')]
    .filter(l => l.innerText.trim().replace(/\\s*\\*$/, '') === text);
  for (const l of labels) {
    let el = l.htmlFor ? document.getElementById(l.htmlFor) : null;
    for (let p = l.parentElement, i = 0; !el && p && i < 6; p = p.parentElement, i++) {
      if (p.querySelectorAll('label').length > 1) break;
      el = p.querySelector('input, textarea, select');
    }
    if (el) {
      const visible = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
      return {visible, type: el.getAttribute('type') || el.tagName.toLowerCase(), label: l.innerText.trim(),
              name: el.getAttribute('name') || el.id};
    }
  }
  return null;
}"""


def field_info(br: Browser, name: str, label: str | None = None) -> Any:
    """An input by its name / id, else by its label's text (the 3.x React form names no inputs)."""
    info = br.page.evaluate(FIELD_JS, name)
    if info is None and label:
        info = br.page.evaluate(LABEL_JS, label)
    return info


def check_extras(
    stack: Stack, br: Browser, conn_type: str, spec: Any, names: dict[str, str], shot: str
) -> None:
    """``names``: field key -> the input's name/id on this UI."""
    checks = stack.checks
    for key, ef in spec.form.extra_fields.items():
        info = field_info(br, names[key], ef.label)
        checks.record(
            f"UI form {conn_type}: extra field {key} shown with label {ef.label!r}",
            bool(info) and info["visible"] and ef.label in (info["label"] or ""),
            f"found {info} (screenshot {shot})",
        )
        if ef.secret:
            checks.record(
                f"UI form {conn_type}: {key} is a password input",
                bool(info) and info["type"] == "password",
                f"found {info}",
            )


def check_standard(stack: Stack, br: Browser, conn_type: str, spec: Any, shot: str) -> None:
    checks = stack.checks
    for std in spec.form.hidden_fields:
        info = field_info(br, std, std.capitalize())
        checks.record(
            f"UI form {conn_type}: standard field {std} hidden",
            not info or not info["visible"],
            f"found {info} (screenshot {shot})",
        )
    for std, label in spec.form.relabeling.items():
        info = field_info(br, std, label)
        checks.record(
            f"UI form {conn_type}: {std} shown relabelled {label!r}",
            bool(info) and info["visible"] and label in (info["label"] or ""),
            f"found {info} (screenshot {shot})",
        )
    info = field_info(br, "password", spec.form.relabeling.get("password", "Password"))
    checks.record(
        f"UI form {conn_type}: password is a password input",
        bool(info) and info["type"] == "password",
        f"found {info}",
    )


# Airflow 2.11 (Flask-AppBuilder) ------------------------------------------------------------------
def ui2_checks(stack: Stack, br: Browser, runs: dict[str, Any]) -> None:
    from airflow_provider_flinkcloud import registry

    page, checks = br.page, stack.checks
    page.goto(f"{stack.ui}/login/")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")
    checks.record("UI 2.11: login as admin", "/login" not in page.url, f"at {page.url}")
    for spec in registry.PLATFORMS.values():
        ct = spec.conn_type

        def one(spec: Any = spec, ct: str = ct) -> None:
            page.goto(f"{stack.ui}/connection/add")
            page.wait_for_selector("#conn_type", state="attached")
            page.evaluate(
                "(ct) => { const s = document.querySelector('#conn_type'); s.value = ct;"
                " s.dispatchEvent(new Event('change', {bubbles: true}));"
                " if (window.jQuery) window.jQuery(s).val(ct).trigger('change'); }",
                ct,
            )
            page.wait_for_timeout(1000)
            page.fill("#conn_id", f"system_test_{ct}")
            shot = br.shot(f"connection-form-{ct}")
            names = {k: f"extra__{ct}__{k}" for k in spec.form.extra_fields}
            check_standard(stack, br, ct, spec, shot)
            check_extras(stack, br, ct, spec, names, shot)
            # The Test button
            conn = stack.connections[spec.name]
            page.fill("#login", conn["login"])
            page.fill("#password", conn["password"])
            for key, value in conn["extra"].items():
                el = page.query_selector(f"#extra__{ct}__{key}")
                if el and el.is_visible():
                    el.fill(str(value))
                else:  # no custom fields: the raw Extra box (a CodeMirror editor over #extra)
                    page.evaluate(
                        "(v) => { const cm = document.querySelector('.CodeMirror');"
                        " if (cm && cm.CodeMirror) cm.CodeMirror.setValue(v);"
                        " else document.querySelector('#extra').value = v; }",
                        json.dumps(conn["extra"]),
                    )
                    break
            button = page.query_selector("#test-connection")
            if not button:
                checks.record(f"UI form {ct}: Test button present", False, "no #test-connection")
                return
            button.click()
            page.wait_for_timeout(4000)
            text = page.inner_text("body")
            # 2.11 flashes e.g. "Connection to Volcengine Flink at http://127.0.0.1:8765 succeeded".
            alert = re.findall(r"([^\n]*(?:[Ss]uccess|succeeded|[Ff]ail|[Ee]rror|Bad Request)[^\n]*)", text)
            shot = br.shot(f"connection-test-{ct}")
            checks.record(
                f"UI form {ct}: Test button reports success",
                any(re.search(r"[Ss]ucce(ss|eded)", a) for a in alert)
                and not any(re.search(r"[Ff]ail|[Ee]rror|Bad Request", a) for a in alert),
                f"UI shows {alert[:3]} (screenshot {shot})",
            )

        checks.guard(f"UI 2.11 connection form {ct}", one)
    link_pages(stack, br, runs)


# Airflow 3.x (React UI) ----------------------------------------------------------------------------
def ui3_checks(stack: Stack, br: Browser, runs: dict[str, Any]) -> None:
    from airflow_provider_flinkcloud import registry

    page, checks = br.page, stack.checks
    for spec in registry.PLATFORMS.values():
        ct = spec.conn_type

        def one(spec: Any = spec, ct: str = ct) -> None:
            page.goto(f"{stack.ui}/connections")
            page.get_by_role("button", name=re.compile("Add Connection", re.I)).first.click()
            page.wait_for_timeout(1000)
            # The connection type is a searchable select: type its label and pick it.
            combo = page.get_by_role("combobox").first
            combo.click()
            page.keyboard.type(spec.label)
            page.wait_for_timeout(800)
            page.get_by_role("option", name=re.compile(re.escape(spec.label), re.I)).first.click()
            page.wait_for_timeout(1500)
            page.get_by_label(re.compile("Connection ID", re.I)).first.fill(f"system_test_{ct}")
            # "Standard Fields" is open at first: check them before opening "Extra Fields" closes it.
            shot = br.shot(f"connection-form-{ct}-standard")
            check_standard(stack, br, ct, spec, shot)
            section = page.get_by_role("button", name="Extra Fields", exact=True)
            if section.count():
                section.first.click()
                page.wait_for_timeout(1000)
            shot = br.shot(f"connection-form-{ct}-extra")
            check_extras(stack, br, ct, spec, {k: k for k in spec.form.extra_fields}, shot)
            test_button_3(stack, br, spec)

        checks.guard(f"UI 3.x connection form {ct}", one)
    link_pages(stack, br, runs)


def test_button_3(stack: Stack, br: Browser, spec: Any) -> None:
    """3.x has the Test button on the connection list row; it POSTs the form to /connections/test.

    Airflow 3.3's UI posts ``port: 0`` for the hidden port field, and the API refuses to test stored
    credentials against a port that differs from the stored one (NULL for a connection made with the
    CLI): "Bad Request". That is Airflow's, not the provider's; the README says what to do, and these
    checks prove it works: ``airflow connections test`` passes, and so does the Test button once the
    connection is saved as the UI's form saves it (port 0).
    """
    checks, conn_id = stack.checks, spec.default_conn_id
    cli = stack.airflow("connections", "test", conn_id, check=False)
    checks.record(
        f"CLI airflow connections test {conn_id} succeeds",
        cli.returncode == 0 and "success" in cli.stdout.lower(),
        f"rc={cli.returncode}; {(cli.stdout + cli.stderr).strip()[-300:]}",
    )
    status, body, detail = press_test_button(stack, br, spec, "as-made-by-the-cli")
    known = status == 400 and "differs from the stored connection" in str(body)
    seen = "Airflow 3.3's port-0 refusal" if known else detail
    log(f"NOTE Test button on {conn_id} made with the CLI: {seen}")
    if status == 200:
        checks.record(f"UI connection {conn_id}: Test button reports success", _tested_ok(body), detail)
        return
    saved = stack.http.patch(
        f"{stack.api}/connections/{conn_id}",
        json={"connection_id": conn_id, "conn_type": spec.conn_type, "port": 0},
        params={"update_mask": "port"},
        timeout=60,
    )
    checks.record(
        f"UI connection {conn_id}: saved as the UI form saves it (port 0)",
        saved.status_code == 200,
        f"PATCH -> HTTP {saved.status_code} {saved.text[:200]}",
    )
    status, body, detail = press_test_button(stack, br, spec, "saved-by-the-ui-form")
    checks.record(
        f"UI connection {conn_id}: Test button reports success once saved from the form",
        status == 200 and _tested_ok(body),
        detail,
    )


def _tested_ok(body: Any) -> bool:
    return isinstance(body, dict) and body.get("status") is True


def press_test_button(stack: Stack, br: Browser, spec: Any, label: str) -> tuple[int, Any, str]:
    page, checks, ct = br.page, stack.checks, spec.conn_type
    page.goto(f"{stack.ui}/connections")
    row = page.get_by_role("row").filter(has_text=spec.default_conn_id)
    row.first.wait_for(state="visible")
    button = row.first.get_by_role("button", name=re.compile("test", re.I))
    if button.count() == 0:
        shot = br.shot(f"connection-list-{ct}")
        checks.record(
            f"UI connection {spec.default_conn_id}: Test button present",
            False,
            f"no Test button on the row (screenshot {shot}); [core] test_connection=Enabled is set",
        )
        return 0, None, "no Test button"
    with page.expect_response(lambda r: "/connections/test" in r.url, timeout=60_000) as resp_info:
        button.first.click()
    resp = resp_info.value
    page.wait_for_timeout(2000)
    shot = br.shot(f"connection-test-{ct}-{label}")
    try:
        body: Any = resp.json()
    except Exception:
        body = resp.text()[:300]
    sent = resp.request.post_data or ""
    shown = page.evaluate(
        "() => [...document.querySelectorAll('[role=status],[role=alert],[role=tooltip],"
        "[data-scope=toast]')].map(e => e.innerText).join(' | ')"
    )
    detail = (
        f"POST {resp.url} -> HTTP {resp.status} {body}; the UI sent {sent[:400]}; UI shows {shown!r}"
        f" (screenshot {shot})"
    )
    return resp.status, body, detail


def link_pages(stack: Stack, br: Browser, runs: dict[str, Any]) -> None:
    """The console-link button on a start task and on a sensor task instance page."""
    page, checks = br.page, stack.checks
    from urllib.parse import quote

    from airflow_provider_flinkcloud import registry

    link_names = {name: spec.load(spec.console_link_path).name for name, spec in registry.PLATFORMS.items()}
    wanted = [
        ("example_volcengine_flink", "start_streaming_sql", "volcengine"),
        ("example_volcengine_flink", "wait_for_batch_sql", "volcengine"),
        ("example_huawei_dli_flink", "define_jar_job", "huawei_dli"),
        ("example_huawei_dli_flink", "wait_for_daily_rollup", "huawei_dli"),
    ]
    seen: list[str] = []
    page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if "/links" in r.url else None)
    for dag_id, task_id, platform in wanted:
        run = runs.get(dag_id)
        if not run:
            checks.record(f"UI {dag_id}.{task_id}: console-link button", False, "no DAG run to look at")
            continue
        run_id, name = run["run_id"], link_names[platform]

        def one(
            dag_id: str = dag_id,
            task_id: str = task_id,
            run_id: str = run_id,
            name: str = name,
            run: dict[str, Any] = run,
        ) -> None:
            seen.clear()
            if stack.af3:
                # The 3.x UI shows "Extra Links" on the task instance's Details tab.
                page.goto(f"{stack.ui}/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}/details")
            else:
                page.goto(
                    f"{stack.ui}/dags/{dag_id}/grid?dag_run_id={quote(run_id, safe='')}&task_id={task_id}"
                )
            page.wait_for_load_state("networkidle")
            locator = page.locator("a, button").filter(has_text=name)
            try:
                locator.first.wait_for(state="visible", timeout=20_000)
                found = True
            except Exception:
                found = False
            shot = br.shot(f"task-{dag_id}-{task_id}")
            href = locator.first.get_attribute("href") if found else None
            rest = (run["tasks"].get(task_id) or {}).get("links") or {}
            checks.record(
                f"UI {dag_id}.{task_id}: console-link button {name!r} on the task instance page",
                found and (href is None or href in rest.values()),
                f"href {href}; REST links {rest}; the UI's link requests: {seen[:3]} (screenshot {shot})",
            )

        checks.guard(f"UI console-link button {dag_id}.{task_id}", one)


# ---------------------------------------------------------------------------------------------- main
def inside(args: argparse.Namespace) -> int:
    """Runs as root in the private network namespace."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

    def _terminate(signum: int, frame: Any) -> None:
        raise SystemExit(f"signal {signum}: stopping the stack")

    signal.signal(signal.SIGTERM, _terminate)
    artifacts = Path(args.artifacts)
    work = Path(args.work)
    checks = Checks()
    stack = Stack(args.airflow_version, work, artifacts, checks)
    report: dict[str, Any] = {"airflow_version": args.airflow_version, "timings": stack.timings}
    t0 = time.monotonic()
    try:
        try:
            stack.start()
        except Exception as exc:
            checks.record("stack starts", False, f"{type(exc).__name__}: {exc}")
            return finish(stack, checks, report, t0)
        checks.record(
            "stack starts (all servers on 127.0.0.1 in a private netns)", True, json.dumps(stack.timings)
        )
        listening = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True, check=False).stdout
        (artifacts / "logs" / "listening.txt").write_text(listening)
        checks.guard("provider CLI", lambda: check_provider_cli(stack))

        def ready() -> bool:
            return all(
                stack.http.get(f"{stack.api}/dags/{d}", timeout=30).status_code == 200
                for d in stack.dag_ids()
            )

        checks.guard(
            "DAGs parsed",
            lambda: checks.record(
                "every example DAG parsed and visible in the REST API",
                wait_for("DAGs", ready, START_TIMEOUT, 2),
            ),
        )
        for dag_id in stack.dag_ids():
            r = stack.http.patch(f"{stack.api}/dags/{dag_id}", json={"is_paused": False}, timeout=60)
            checks.record(
                f"unpause {dag_id} via REST", r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}"
            )
        date = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
        runs = (
            checks.guard(
                "runs with a logical date", lambda: check_runs(stack, "logical-date", date.isoformat())
            )
            or {}
        )
        report["runs"] = {"logical-date": runs}
        checks.guard("browser", lambda: browser_checks(stack, runs))
        if stack.af3:
            runs_null = checks.guard(
                "runs without a logical date", lambda: check_runs(stack, "no-logical-date", None)
            )
            report["runs"]["no-logical-date"] = runs_null
        counters = checks.guard("emulator counters", stack.control.counters)
        report["emulator_counters"] = counters
        triggerer_log = (artifacts / "logs" / "triggerer.log").read_text(errors="replace")
        problems = sorted(set(re.findall(r"[A-Za-z.]*(?:Exception|Error): [^\n]{0,200}", triggerer_log)))
        report["triggerer_errors"] = problems[:20]
        checks.record("triggerer log has no exceptions", not problems, "\n         ".join(problems[:10]))
    finally:
        t = time.monotonic()
        stack.stop()
        stack.timings["stop_s"] = round(time.monotonic() - t, 1)
    return finish(stack, checks, report, t0)


def finish(stack: Stack, checks: Checks, report: dict[str, Any], t0: float) -> int:
    stack.timings["total_s"] = round(time.monotonic() - t0, 1)
    report["checks"] = checks.results
    (stack.artifacts / "report.json").write_text(json.dumps(report, indent=2, default=str))
    print()
    log(f"Airflow {stack.version}: timings {json.dumps(stack.timings)}")
    if checks.failed:
        log("FAILED checks:")
        for r in checks.failed:
            print(f"  - {r['check']}\n      {r['detail'][:1500]}", flush=True)
    log(f"artifacts (screenshots, logs, report.json): {stack.artifacts}")
    n_ok = len(checks.results) - len(checks.failed)
    print(
        f"system-test {stack.version}: {n_ok} checks passed, {len(checks.failed)} checks failed", flush=True
    )
    return 1 if checks.failed else 0


def ensure_tools() -> None:
    """playwright (the ``system`` extra) in this venv; Debian's chromium on the machine."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        import tomllib

        reqs = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][
            "system"
        ]
        uv = ROOT / ".venv-tools" / "bin" / "uv"
        log(f"installing {reqs} into {sys.prefix}")
        if uv.exists():
            subprocess.run([str(uv), "pip", "install", "--python", sys.executable, *reqs], check=True)
        else:
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", *reqs], check=True)
    if not Path(CHROMIUM).exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise SystemExit(
                f"{CHROMIUM} missing: install Debian's chromium package (apt-get install chromium)"
            )
        log("installing Debian's chromium with apt-get")
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdin=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            check=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    for tool in ("unshare", "ip", "ss"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found (util-linux / iproute2)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--airflow-version", default=None)
    parser.add_argument("--artifacts", default=None, help="default system-test-artifacts/<airflow version>/")
    parser.add_argument("--work", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--keep-home", action="store_true", help="keep the temp AIRFLOW_HOME")
    args = parser.parse_args()
    import importlib.metadata as md

    have = md.version("apache-airflow")
    args.airflow_version = args.airflow_version or have
    if have != args.airflow_version:
        raise SystemExit(f"this venv has apache-airflow {have}, not {args.airflow_version}")
    if os.environ.get(INSIDE_ENV):
        return inside(args)

    if os.geteuid() != 0:
        raise SystemExit("the system test needs root for `unshare -n` (a private network namespace)")
    ensure_tools()
    artifacts = Path(args.artifacts or ROOT / "system-test-artifacts" / args.airflow_version).resolve()
    shutil.rmtree(artifacts, ignore_errors=True)
    (artifacts / "logs").mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix=f"flinkcloud-system-{args.airflow_version}-"))
    log(f"Airflow {args.airflow_version}; work dir {work}; artifacts {artifacts}")
    argv = [
        "unshare",
        "-n",
        sys.executable,
        str(Path(__file__).resolve()),
        "--airflow-version",
        args.airflow_version,
        "--artifacts",
        str(artifacts),
        "--work",
        str(work),
    ]
    t0 = time.monotonic()

    def _terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    # A SIGTERM (e.g. CI's `timeout`) is passed on to the inner run, which stops the stack by PID.
    signal.signal(signal.SIGTERM, _terminate)
    proc = subprocess.Popen(argv, env={**os.environ, INSIDE_ENV: "1"}, stdin=subprocess.DEVNULL)
    try:
        rc = proc.wait()
    except BaseException:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    finally:
        kill_recorded(work / "pids")
        if not args.keep_home:
            shutil.rmtree(work, ignore_errors=True)
    log(f"done in {time.monotonic() - t0:.0f}s, exit {rc}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
