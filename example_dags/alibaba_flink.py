"""Alibaba Cloud Realtime Compute for Apache Flink (fully managed) from Airflow: a streaming SQL
deployment created (or updated, by name) and started, a bounded deployment defined and then started
by name and watched by a sensor, and a stop with a savepoint.

Needs an ``alibaba_flink_default`` connection: AccessKey ID in login, AccessKey secret in password,
extra ``{"region": "cn-hangzhou", "workspace": "<workspace id>", "namespace": "<namespace>"}``.
``make demo`` points it at the local emulator.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_flinkcloud.operators.alibaba_flink import (
    AlibabaFlinkDeploymentOperator,
    AlibabaFlinkStartJobOperator,
    AlibabaFlinkStopJobOperator,
)
from airflow_provider_flinkcloud.sensors.alibaba_flink import AlibabaFlinkJobSensor

ENGINE = "vvr-8.0.10-flink-1.17"
QUEUE = {"mode": "PER_JOB", "name": "default-queue"}
SMALL = {
    "parallelism": 2,
    "jobmanagerResourceSettingSpec": {"cpu": 1, "memory": "4 GiB"},
    "taskmanagerResourceSettingSpec": {"cpu": 2, "memory": "8 GiB"},
}

# The day a run is for: its logical date, or (Airflow 3 runs without one) when it was due to run.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="example_alibaba_flink",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["example", "alibaba", "flink", "ververica"],
) as dag:
    # Creates the deployment, or updates the one of this name (a re-run never makes a second one),
    # then starts a job and waits (in the triggerer) until it is RUNNING. A job that already runs is
    # reattached to.
    orders_enrichment = AlibabaFlinkDeploymentOperator(
        task_id="orders_enrichment",
        deployment={
            "name": "orders-enrichment",
            "executionMode": "STREAMING",
            "engineVersion": ENGINE,
            "artifact": {
                "kind": "SQLSCRIPT",
                "sqlArtifact": {
                    "sqlScript": "INSERT INTO enriched_orders SELECT o.*, c.tier FROM orders o "
                    "JOIN customers c ON o.cid = c.id;"
                },
            },
            "deploymentTarget": QUEUE,
            "streamingResourceSetting": {"resourceSettingMode": "BASIC", "basicResourceSetting": SMALL},
            "flinkConf": {"execution.checkpointing.interval": "60s"},
            "labels": {"owner": "airflow"},
        },
        restore_strategy="LATEST_STATE",
        deferrable=True,
        poll_interval=2,
    )

    # A bounded deployment: defined only (start=False), then started by name and watched by a sensor.
    define_daily_rollup = AlibabaFlinkDeploymentOperator(
        task_id="define_daily_rollup",
        deployment={
            "name": "daily-gmv-rollup",
            "executionMode": "BATCH",
            "engineVersion": ENGINE,
            "artifact": {
                "kind": "SQLSCRIPT",
                # A Jinja template Airflow renders, not a query built from input.
                "sqlArtifact": {
                    "sqlScript": "INSERT INTO gmv_daily SELECT dt, SUM(amount) FROM orders "  # noqa: S608
                    f"WHERE dt = '{RUN_DAY}' GROUP BY dt;"
                },
            },
            "deploymentTarget": QUEUE,
            "batchResourceSetting": {"maxSlot": 4, "basicResourceSetting": SMALL},
        },
        start=False,
    )
    start_daily_rollup = AlibabaFlinkStartJobOperator(
        task_id="start_daily_rollup",
        deployment_name="daily-gmv-rollup",
        wait_for=None,
    )
    wait_for_daily_rollup = AlibabaFlinkJobSensor(
        task_id="wait_for_daily_rollup",
        job_id="{{ ti.xcom_pull(task_ids='start_daily_rollup')['job_id'] }}",
        target_states={"SUCCESS"},
        poke_interval=2,
        deferrable=True,
    )

    # Stop the streaming job with a savepoint; a later start with restore_strategy="LATEST_SAVEPOINT"
    # (as if_running="restart" does) resumes from it.
    stop_orders_enrichment = AlibabaFlinkStopJobOperator(
        task_id="stop_orders_enrichment",
        job_id="{{ ti.xcom_pull(task_ids='orders_enrichment')['job_id'] }}",
        stop_strategy="STOP_WITH_SAVEPOINT",
        poll_interval=2,
    )

    orders_enrichment >> stop_orders_enrichment
    define_daily_rollup >> start_daily_rollup >> wait_for_daily_rollup
