"""Run a DAG with real Airflow (``dag.test()``) on 2.11 and 3.x and read back what its tasks did."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import count
from typing import Any

from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

_dates = count()


@dataclass
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return read_xcom(self.dag_id, self.run_id, task_id, key)


def _register(dag: Any) -> None:
    """Airflow 3's ``dag.test()`` runs a serialized DAG; write an in-test DAG to the database first."""
    if not AIRFLOW_V_3_0_PLUS:
        return
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=os.devnull, collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)


def run_dag(dag: Any) -> DagRunResult:
    _register(dag)
    # A distinct logical date per run, so running the same DAG again makes a second DAG run.
    logical_date = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=next(_dates))
    # Airflow 2 names the logical date ``execution_date``.
    dag_run = (
        dag.test(logical_date=logical_date) if AIRFLOW_V_3_0_PLUS else dag.test(execution_date=logical_date)
    )
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        stored = session.query(DagRun).filter(DagRun.run_id == dag_run.run_id).one()
        states = {
            ti.task_id: str(getattr(ti.state, "value", ti.state))
            for ti in stored.get_task_instances(session=session)
        }
        return DagRunResult(
            dag.dag_id, dag_run.run_id, str(getattr(stored.state, "value", stored.state)), states
        )


def read_xcom(dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
    from airflow.utils.session import create_session

    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.xcom import XComModel

        with create_session() as session:
            row = (
                session.query(XComModel)
                .filter(
                    XComModel.dag_id == dag_id,
                    XComModel.run_id == run_id,
                    XComModel.task_id == task_id,
                    XComModel.key == key,
                )
                .one_or_none()
            )
            return None if row is None else XComModel.deserialize_value(row)
    from airflow.models.xcom import XCom

    return XCom.get_one(run_id=run_id, dag_id=dag_id, task_id=task_id, key=key)
