"""A local emulator of the Flink job platforms' APIs, for tests, demos and users' own DAG tests.

``Emulator(port=0).start()`` serves from a daemon thread in this process; ``flinkcloud-emulator``
(or ``python -m airflow_provider_flinkcloud.emulator``) serves from the command line. It never
imports Airflow, so it starts fast.
"""

from __future__ import annotations

from airflow_provider_flinkcloud.emulator.alibaba import (
    ALIBABA_ACCESS_KEY,
    ALIBABA_SECRET_KEY,
    ALIBABA_STS_ACCESS_KEY,
    ALIBABA_STS_SECRET_KEY,
    ALIBABA_STS_TOKEN,
)
from airflow_provider_flinkcloud.emulator.alibaba_flink import (
    ALIBABA_FLINK_ACCESS_KEY,
    ALIBABA_FLINK_NAMESPACE,
    ALIBABA_FLINK_SECRET_KEY,
    ALIBABA_FLINK_STS_ACCESS_KEY,
    ALIBABA_FLINK_STS_SECRET_KEY,
    ALIBABA_FLINK_STS_TOKEN,
    ALIBABA_FLINK_WORKSPACE,
)
from airflow_provider_flinkcloud.emulator.control import EmulatorControl, EmulatorControlError
from airflow_provider_flinkcloud.emulator.dinky import DINKY_API_TOKEN, DINKY_PASSWORD, DINKY_USERNAME
from airflow_provider_flinkcloud.emulator.huawei_dli import (
    DLI_ACCESS_KEY,
    DLI_PROJECT_ID,
    DLI_SECRET_KEY,
    DLI_STS_ACCESS_KEY,
    DLI_STS_SECRET_KEY,
    DLI_STS_TOKEN,
)
from airflow_provider_flinkcloud.emulator.server import Emulator
from airflow_provider_flinkcloud.emulator.volcengine import (
    VOLCENGINE_ACCESS_KEY,
    VOLCENGINE_SECRET_KEY,
    VOLCENGINE_STS_ACCESS_KEY,
    VOLCENGINE_STS_SECRET_KEY,
    VOLCENGINE_STS_TOKEN,
)

__all__ = [
    "ALIBABA_ACCESS_KEY",
    "ALIBABA_FLINK_ACCESS_KEY",
    "ALIBABA_FLINK_NAMESPACE",
    "ALIBABA_FLINK_SECRET_KEY",
    "ALIBABA_FLINK_STS_ACCESS_KEY",
    "ALIBABA_FLINK_STS_SECRET_KEY",
    "ALIBABA_FLINK_STS_TOKEN",
    "ALIBABA_FLINK_WORKSPACE",
    "ALIBABA_SECRET_KEY",
    "ALIBABA_STS_ACCESS_KEY",
    "ALIBABA_STS_SECRET_KEY",
    "ALIBABA_STS_TOKEN",
    "DINKY_API_TOKEN",
    "DINKY_PASSWORD",
    "DINKY_USERNAME",
    "DLI_ACCESS_KEY",
    "DLI_PROJECT_ID",
    "DLI_SECRET_KEY",
    "DLI_STS_ACCESS_KEY",
    "DLI_STS_SECRET_KEY",
    "DLI_STS_TOKEN",
    "VOLCENGINE_ACCESS_KEY",
    "VOLCENGINE_SECRET_KEY",
    "VOLCENGINE_STS_ACCESS_KEY",
    "VOLCENGINE_STS_SECRET_KEY",
    "VOLCENGINE_STS_TOKEN",
    "Emulator",
    "EmulatorControl",
    "EmulatorControlError",
]
