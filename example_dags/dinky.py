"""Dinky tasks from Airflow: submit a streaming Flink SQL task and a batch one, watch the batch job with
a sensor, take a savepoint of the streaming job, then cancel it with a savepoint.

Dinky tasks are written in Dinky's web UI (Data Studio); a DAG names them by id (``dinky_task_id``;
Airflow's own ``task_id`` names the Airflow task). Needs a ``dinky_default`` connection: host, port
(8888) and schema (http / https) of the Dinky server, and an API token in the password (Dinky ->
Auth center -> Token). ``make demo`` points it at the local emulator, whose task 1 is a streaming task
and task 2 a batch task.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_flinkcloud.operators.dinky import (
    DinkyCancelJobOperator,
    DinkySavepointOperator,
    DinkySubmitTaskOperator,
)
from airflow_provider_flinkcloud.sensors.dinky import DinkyJobInstanceSensor

ORDERS_ENRICHMENT = 1  # a streaming Flink SQL task
DAILY_GMV = 2  # a batch task (Dinky's "batch model")

# The day a run is for: its logical date, or (Airflow 3 runs without one) when it was due to run.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="example_dinky",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["example", "dinky", "flink"],
) as dag:
    # Streaming: waits until the job instance is RUNNING. A re-run while it runs reattaches to it
    # (Dinky itself would start a second Flink job); if_running="restart" would savepoint and resubmit.
    submit_streaming = DinkySubmitTaskOperator(
        task_id="submit_orders_enrichment",
        dinky_task_id=ORDERS_ENRICHMENT,
        deferrable=True,
        poll_interval=1,
    )
    # Batch: submitted without waiting; the sensor below waits for FINISHED. The variables fill the
    # task's ${dt} and take priority over Dinky's global variables.
    submit_batch = DinkySubmitTaskOperator(
        task_id="submit_daily_gmv",
        dinky_task_id=DAILY_GMV,
        variables={"dt": RUN_DAY},
        wait_for=None,
    )
    wait_for_batch = DinkyJobInstanceSensor(
        task_id="wait_for_daily_gmv",
        job_instance_id="{{ ti.xcom_pull(task_ids='submit_daily_gmv')['job_instance_id'] }}",
        target_states={"SUCCESS"},
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )
    savepoint = DinkySavepointOperator(task_id="savepoint_orders_enrichment", dinky_task_id=ORDERS_ENRICHMENT)
    cancel = DinkyCancelJobOperator(
        task_id="cancel_orders_enrichment",
        dinky_task_id=ORDERS_ENRICHMENT,
        with_savepoint=True,
        poll_interval=1,
    )

    submit_batch >> wait_for_batch
    submit_streaming >> savepoint >> cancel
    wait_for_batch >> cancel
