"""Huawei Cloud DLI Flink jobs from Airflow: define a Jar and a SQL job, run both in one batch, a
bounded SQL job watched by a sensor, and a stop with savepoints.

Needs a ``huaweicloud_dli_default`` connection: AK in login, SK in password, extra
``{"region": "cn-north-4", "project_id": "<project id of the region>"}`` (for Open Telekom Cloud add
``"endpoint": "https://dli.eu-de.otc.t-systems.com"``). ``make demo`` points it at the local emulator.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_flinkcloud.operators.huawei_dli import (
    DliFlinkCreateJarJobOperator,
    DliFlinkCreateSqlJobOperator,
    DliFlinkRunJobsOperator,
    DliFlinkStopJobsOperator,
)
from airflow_provider_flinkcloud.sensors.huawei_dli import DliFlinkJobSensor

QUEUE = "flink_queue"
JAR_JOB = "{{ ti.xcom_pull(task_ids='define_jar_job')['job_id'] }}"
SQL_JOB = "{{ ti.xcom_pull(task_ids='define_sql_job')['job_id'] }}"

# The day a run is for: its logical date, or (Airflow 3 runs without one) when it was due to run.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="example_huawei_dli_flink",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["example", "huawei", "dli", "flink"],
) as dag:
    # Create the job, or bring the definition of the job of the same name up to date; run=False
    # leaves it to the batch run below. A re-run of this DAG never makes a second job.
    define_jar_job = DliFlinkCreateJarJobOperator(
        task_id="define_jar_job",
        job={
            "name": "clickstream-sessionizer",
            "queue_name": QUEUE,
            "entrypoint": "obs://analytics-jobs/sessionizer/sessionizer-2.0.jar",
            "main_class": "com.example.Sessionizer",
            "entrypoint_args": "--window 30min",
            "cu_number": 4,
            "manager_cu_number": 1,
            "parallel_number": 2,
            "flink_version": "1.17",
            "feature": "basic",
            "checkpoint_enabled": True,
            "checkpoint_interval": 60,
            "tags": [{"key": "owner", "value": "airflow"}],
        },
        run=False,
    )
    define_sql_job = DliFlinkCreateSqlJobOperator(
        task_id="define_sql_job",
        job={
            "name": "orders-enrichment",
            "queue_name": QUEUE,
            "run_mode": "exclusive_cluster",
            "job_type": "flink_opensource_sql_job",
            "sql_body": "INSERT INTO enriched_orders SELECT o.*, c.tier FROM orders o "
            "JOIN customers c ON o.cid = c.id;",
            "cu_number": 2,
            "parallel_number": 1,
        },
        run=False,
    )

    # One /streaming/jobs/run call for both; waits (in the triggerer) until both are running.
    # Jobs that already run are reattached to, not run twice.
    run_streaming_jobs = DliFlinkRunJobsOperator(
        task_id="run_streaming_jobs",
        job_ids=[JAR_JOB, SQL_JOB],
        deferrable=True,
        poll_interval=2,
    )

    # A bounded job (runtime mode batch): submitted without waiting, then watched by a sensor.
    submit_daily_rollup = DliFlinkCreateSqlJobOperator(
        task_id="submit_daily_rollup",
        job={
            "name": "daily-gmv-rollup",
            "queue_name": QUEUE,
            "run_mode": "exclusive_cluster",
            # A Jinja template Airflow renders, not a query built from input.
            "sql_body": "SET 'execution.runtime-mode' = 'batch';\n"  # noqa: S608
            f"INSERT INTO gmv_daily SELECT dt, SUM(amount) FROM orders WHERE dt = '{RUN_DAY}' GROUP BY dt;",
        },
        wait_for=None,
    )
    wait_for_daily_rollup = DliFlinkJobSensor(
        task_id="wait_for_daily_rollup",
        job_id="{{ ti.xcom_pull(task_ids='submit_daily_rollup')['job_id'] }}",
        target_states={"SUCCESS"},
        poke_interval=2,
        deferrable=True,
    )

    # Stop both streaming jobs with savepoints; a later run with resume_savepoint=True resumes them.
    stop_streaming_jobs = DliFlinkStopJobsOperator(
        task_id="stop_streaming_jobs",
        job_ids=[JAR_JOB, SQL_JOB],
        savepoint=True,
        poll_interval=2,
    )

    [define_jar_job, define_sql_job] >> run_streaming_jobs >> stop_streaming_jobs
    submit_daily_rollup >> wait_for_daily_rollup
