"""Alibaba Cloud Realtime Compute (Blink) from Airflow: a stream job left running, a batch job waited for,
a sensor, and a stop with a checkpoint.

The jobs are created and committed (published) in the Blink console; a task starts an instance of one.
Needs an ``alibaba_realtime_compute_default`` connection: AccessKey ID in login, AccessKey secret in
password, extra ``{"region": "cn-hangzhou"}``. ``make demo`` points it at the local emulator instead
(extra ``endpoint``), whose project ``flinkcloud_test`` holds these jobs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_flinkcloud.operators.alibaba import (
    RealtimeComputeStartJobOperator,
    RealtimeComputeStopInstanceOperator,
)
from airflow_provider_flinkcloud.sensors.alibaba import RealtimeComputeInstanceSensor

# Your Blink project.
PROJECT = "flinkcloud_test"

# The day a run is for: its logical date, or (Airflow 3 runs without one) when it was due to run.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="example_alibaba_realtime_compute",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["example", "alibaba", "blink", "flink"],
) as dag:
    # A FLINK_STREAM job: returns once the instance is RUNNING and leaves it running. A daily re-run
    # reattaches to the live instance instead of starting a second one.
    start_orders_enrichment = RealtimeComputeStartJobOperator(
        task_id="start_orders_enrichment",
        project_name=PROJECT,
        job_name="orders-enrichment",
        # StartJob's parameterJson: read the sources from this moment (epoch milliseconds).
        parameters={"startOffset": "1730103603000"},
        poll_interval=2,
    )

    # A FLINK_BATCH job: waits (in the triggerer) until the instance ends SUCCESS; a FAILED one fails
    # the task with Blink's LastErrorMessage.
    run_daily_revenue_rollup = RealtimeComputeStartJobOperator(
        task_id="run_daily_revenue_rollup",
        project_name=PROJECT,
        job_name="daily-revenue-rollup",
        # A job parameter the job's own code reads, rendered per run.
        parameters={"bizdate": RUN_DAY},
        deferrable=True,
        poll_interval=2,
    )

    # Start without waiting, then watch the instance with a sensor.
    submit_backfill = RealtimeComputeStartJobOperator(
        task_id="submit_backfill",
        project_name=PROJECT,
        job_name="backfill-sessions",
        wait_for=None,
    )
    wait_for_backfill = RealtimeComputeInstanceSensor(
        task_id="wait_for_backfill",
        project_name=PROJECT,
        job_name="backfill-sessions",
        instance_id="{{ ti.xcom_pull(task_ids='submit_backfill')['instance_id'] }}",
        target_states={"SUCCESS"},
        poke_interval=2,
        deferrable=True,
    )

    # A stream job started, then stopped with a checkpoint (Blink >= 3.5.0).
    start_sessionizer = RealtimeComputeStartJobOperator(
        task_id="start_sessionizer",
        project_name=PROJECT,
        job_name="clickstream-sessionizer",
        poll_interval=2,
    )
    stop_sessionizer = RealtimeComputeStopInstanceOperator(
        task_id="stop_sessionizer",
        project_name=PROJECT,
        job_name="clickstream-sessionizer",
        instance_id="{{ ti.xcom_pull(task_ids='start_sessionizer')['instance_id'] }}",
        trigger_checkpoint=True,
        poll_interval=2,
    )

    submit_backfill >> wait_for_backfill
    start_sessionizer >> stop_sessionizer
