"""The example DAGs that ``make demo`` runs also run in the test suite, against the emulator."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jinja2
import pytest

from support.airflow_run import run_dag

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_dag(path: Path):
    return load_module(path).dag


def test_volcengine_example_runs_every_task_to_success(make_dag, volcengine_conn, emulator) -> None:
    run = run_dag(load_dag(EXAMPLES / "volcengine_flink.py"))
    assert run.state == "success", run.task_states
    assert set(run.task_states.values()) == {"success"}
    assert run.xcom("start_streaming_sql")["state"] == "RUNNING"
    assert run.xcom("run_batch_jar")["state"] == "SUCCESS"
    assert run.xcom("wait_for_batch_sql")["state"] == "SUCCESS"
    assert run.xcom("stop_streaming_jar")["state"] == "CANCELED"
    assert run.xcom("stop_streaming_jar")["savepoint"]["savepoint_id"]
    starts = emulator.counters()["volcengine"]["starts_by_name"]
    assert starts == {
        "orders-enrichment": 1,
        "daily-revenue-rollup": 1,
        "backfill-sessions": 1,
        "clickstream-sessionizer": 1,
    }


def test_huawei_dli_example_runs_every_task_to_success(make_dag, dli_conn, emulator) -> None:
    run = run_dag(load_dag(EXAMPLES / "huawei_dli_flink.py"))
    assert run.state == "success", run.task_states
    assert set(run.task_states.values()) == {"success"}
    assert {job["state"] for job in run.xcom("run_streaming_jobs")["jobs"]} == {"RUNNING"}
    assert run.xcom("wait_for_daily_rollup")["native_state"] == "job_finish"
    stopped = run.xcom("stop_streaming_jobs")["jobs"]
    assert [job["stopped"] for job in stopped] == [True, True]
    assert {job["state"] for job in stopped} == {"CANCELED"}
    counters = emulator.counters()["huawei_dli"]
    assert counters["creates_by_name"] == {
        "clickstream-sessionizer": 1,
        "orders-enrichment": 1,
        "daily-gmv-rollup": 1,
    }
    assert counters["runs_by_name"] == counters["creates_by_name"]
    assert counters["calls"]["BatchRunFlinkJobs"] == 2


def test_alibaba_realtime_compute_example_runs_every_task_to_success(
    make_dag, emulator, emulator_server, monkeypatch
) -> None:
    from support.platforms import kit_for

    conn = kit_for("alibaba").connection(emulator_server.url)
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_REALTIME_COMPUTE_DEFAULT", conn)
    run = run_dag(load_dag(EXAMPLES / "alibaba_realtime_compute.py"))
    assert run.state == "success", run.task_states
    assert set(run.task_states.values()) == {"success"}
    assert run.xcom("start_orders_enrichment")["native_state"] == "RUNNING"
    assert run.xcom("run_daily_revenue_rollup")["native_state"] == "SUCCESS"
    assert run.xcom("wait_for_backfill")["state"] == "SUCCESS"
    stopped = run.xcom("stop_sessionizer")
    assert (stopped["stopped"], stopped["state"], stopped["native_state"]) == (True, "CANCELED", "TERMINATED")
    counters = emulator.counters()["alibaba"]
    assert counters["starts_by_name"] == {
        "orders-enrichment": 1,
        "daily-revenue-rollup": 1,
        "backfill-sessions": 1,
        "clickstream-sessionizer": 1,
    }
    assert counters["stops_by_name"] == {"clickstream-sessionizer": 1}


def test_alibaba_flink_example_runs_every_task_to_success(
    make_dag, emulator_server, emulator, monkeypatch
) -> None:
    from support.platforms import kit_for

    monkeypatch.setenv(
        "AIRFLOW_CONN_ALIBABA_FLINK_DEFAULT", kit_for("alibaba_flink").connection(emulator_server.url)
    )
    run = run_dag(load_dag(EXAMPLES / "alibaba_flink.py"))
    assert run.state == "success", run.task_states
    assert set(run.task_states.values()) == {"success"}
    assert run.xcom("orders_enrichment")["state"] == "RUNNING"
    assert run.xcom("define_daily_rollup")["definition"] == "created"
    assert run.xcom("wait_for_daily_rollup")["native_state"] == "FINISHED"
    stopped = run.xcom("stop_orders_enrichment")
    assert stopped["stopped"] is True and stopped["native_state"] == "CANCELLED"
    assert stopped["savepoint"]["stop_strategy"] == "STOP_WITH_SAVEPOINT"
    counters = emulator.counters()["alibaba_flink"]
    assert counters["creates_by_name"] == {"orders-enrichment": 1, "daily-gmv-rollup": 1}
    assert counters["starts_by_name"] == counters["creates_by_name"]
    [savepoint] = emulator.state()["alibaba_flink"]["savepoints"]
    assert savepoint["savepointOrigin"] == "STOP_WITH_SAVEPOINT"
    assert stopped["savepoint"]["savepoint_id"] == savepoint["savepointId"]
    assert stopped["savepoint"]["savepoint_path"] == savepoint["savepointLocation"]


def test_dinky_example_runs_every_task_to_success(make_dag, dinky_example_conn, emulator) -> None:
    run = run_dag(load_dag(EXAMPLES / "dinky.py"))
    assert run.state == "success", run.task_states
    assert set(run.task_states.values()) == {"success"}
    assert run.xcom("submit_orders_enrichment")["native_state"] == "RUNNING"
    assert run.xcom("wait_for_daily_gmv")["native_state"] == "FINISHED"
    assert run.xcom("savepoint_orders_enrichment")["savepoint_path"]
    cancelled = run.xcom("cancel_orders_enrichment")
    assert (cancelled["stopped"], cancelled["state"]) == (True, "CANCELED")
    counters = emulator.counters()["dinky"]
    assert counters["submits_by_name"] == {"orders_enrichment": 1, "daily_gmv": 1}
    assert counters["savepoints_by_name"] == {"orders_enrichment": 2}
    [gmv] = [i for i in emulator.state()["dinky"]["instances"] if i["name"] == "daily_gmv"]
    assert set(gmv["variables"]) == {"dt"}


@pytest.fixture
def dinky_example_conn(emulator, emulator_server, monkeypatch):
    from support.fixtures import _connections_to
    from support.platforms import kit_for

    return _connections_to(kit_for("dinky"), emulator_server.url, monkeypatch)


@pytest.mark.parametrize("example", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_the_run_day_renders_with_and_without_a_logical_date(example: str) -> None:
    # Airflow 3 runs triggered without a logical date (REST API, `airflow dags trigger`) have no `ds`.
    from datetime import datetime, timezone
    from types import SimpleNamespace

    module = load_module(EXAMPLES / example)
    template = module.RUN_DAY
    fields = [str(getattr(task, field)) for task in module.dag.tasks for field in task.template_fields]
    assert any(template in value for value in fields)
    # Airflow 3 gives such a run no logical_date at all, and templates fail on anything undefined.
    env = module.dag.get_template_env()
    env.undefined = jinja2.StrictUndefined
    run_after = datetime(2024, 5, 6, 7, tzinfo=timezone.utc)
    unscheduled = SimpleNamespace(logical_date=None, run_after=run_after)
    assert env.from_string(template).render(dag_run=unscheduled) == "2024-05-06"
    # Airflow 2's runs always have a logical date (and no run_after).
    scheduled = SimpleNamespace(logical_date=datetime(2024, 1, 2, tzinfo=timezone.utc))
    assert env.from_string(template).render(dag_run=scheduled) == "2024-01-02"
