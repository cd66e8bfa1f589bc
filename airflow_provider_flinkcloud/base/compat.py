"""Every Airflow-version-dependent import, in one place (Airflow 2.11 and 3.x).

``airflow.triggers.base`` is the same on both lines and is imported by ``base.triggers`` alone, so that a
DAG file (operators, sensors) does not pay for it; only a deferring task loads its trigger.
"""

from __future__ import annotations

from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    BaseHook,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
    Variable,
    XCom,
    conf,
    mask_secret,
)
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_3_PLUS

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AirflowException",
    "AirflowFailException",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "Context",
    "PokeReturnValue",
    "Variable",
    "XCom",
    "conf",
    "get_async_connection",
    "get_async_extra_dejson",
    "mask_secret",
]


def default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)
