"""Every Airflow-version-dependent import, in one place (Airflow 2.11 and 3.x).

A DAG file imports this module (through the operators and sensors), so it holds only names that are
cheap to import after ``airflow.sdk``. Two that are not are imported where they are used: the trigger
base (``airflow.triggers.base``, the same on both lines) by ``base.triggers``, and the async connection
readers (``airflow.providers.common.compat.connection``) by ``base.hook``.
"""

from __future__ import annotations

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
    "mask_secret",
]


def default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)
