"""Volcengine Flink from Airflow: a streaming job left running, a batch job waited for, a sensor, a stop.

Needs a ``volcengine_flink_default`` connection: AK in login, SK in password, extra
``{"region": "cn-beijing", "project_id": "<your project>"}``. ``make demo`` points it at the
local emulator instead (extra ``endpoint``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_flinkcloud.operators.volcengine import (
    VolcengineFlinkCancelInstanceOperator,
    VolcengineFlinkStartApplicationOperator,
)
from airflow_provider_flinkcloud.sensors.volcengine import VolcengineFlinkInstanceSensor

DEPLOY = {"Queue": "default", "ResourcePool": "flink-pool", "SchedulePolicy": "GANG", "Priority": "3"}

# The day a run is for: its logical date, or (Airflow 3 runs without one) when it was due to run.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="example_volcengine_flink",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["example", "volcengine", "flink"],
) as dag:
    # Streaming: returns once RUNNING and leaves the job running. A daily re-run of this DAG
    # reattaches to the running instance instead of starting a second one.
    start_streaming_sql = VolcengineFlinkStartApplicationOperator(
        task_id="start_streaming_sql",
        app={
            "JobType": "FLINK_STREAMING_SQL",
            "JobName": "orders-enrichment",
            "UniqueKey": "orders-enrichment",
            "EngineVersion": "FLINK_VERSION_1_16",
            "SqlText": "INSERT INTO enriched_orders "
            "SELECT o.*, c.tier FROM orders o JOIN customers c ON o.cid = c.id;",
            "DeployRequest": DEPLOY,
            "Conf": {"execution.checkpointing.interval": "60s"},
        },
        poll_interval=2,
    )

    # Batch: waits (in the triggerer) until the job SUCCEEDED; a failure fails the task with
    # the job's own error text.
    run_batch_jar = VolcengineFlinkStartApplicationOperator(
        task_id="run_batch_jar",
        app={
            "JobType": "FLINK_BATCH_JAR",
            "JobName": "daily-revenue-rollup",
            "UniqueKey": "daily-revenue-rollup",
            "EngineVersion": "FLINK_VERSION_1_17",
            "Jar": "tos://analytics-jobs/rollup/rollup-1.4.2.jar",
            "MainClass": "com.example.analytics.DailyRollup",
            "Args": f"--day {RUN_DAY}",
            "DeployRequest": DEPLOY,
        },
        deferrable=True,
        poll_interval=2,
    )

    # Submit without waiting, then watch with a sensor.
    submit_batch_sql = VolcengineFlinkStartApplicationOperator(
        task_id="submit_batch_sql",
        app={
            "JobType": "FLINK_BATCH_SQL",
            "JobName": "backfill-sessions",
            "UniqueKey": "backfill-sessions",
            # A Jinja template Airflow renders, not a query built from input.
            "SqlText": f"INSERT INTO sessions SELECT * FROM raw_sessions WHERE dt = '{RUN_DAY}';",  # noqa: S608
        },
        wait_for=None,
    )
    wait_for_batch_sql = VolcengineFlinkInstanceSensor(
        task_id="wait_for_batch_sql",
        instance_id="{{ ti.xcom_pull(task_ids='submit_batch_sql')['instance_id'] }}",
        target_states={"SUCCESS"},
        poke_interval=2,
        deferrable=True,
    )

    # A streaming JAR job started, then stopped with a savepoint (returned in XCom).
    start_streaming_jar = VolcengineFlinkStartApplicationOperator(
        task_id="start_streaming_jar",
        app={
            "JobType": "FLINK_STREAMING_JAR",
            "JobName": "clickstream-sessionizer",
            "UniqueKey": "clickstream-sessionizer",
            "Jar": "tos://analytics-jobs/sessionizer/sessionizer-2.0.jar",
            "MainClass": "com.example.Sessionizer",
        },
        poll_interval=2,
    )
    stop_streaming_jar = VolcengineFlinkCancelInstanceOperator(
        task_id="stop_streaming_jar",
        instance_id="{{ ti.xcom_pull(task_ids='start_streaming_jar')['instance_id'] }}",
        savepoint=True,
        poll_interval=2,
    )

    submit_batch_sql >> wait_for_batch_sql
    start_streaming_jar >> stop_streaming_jar
