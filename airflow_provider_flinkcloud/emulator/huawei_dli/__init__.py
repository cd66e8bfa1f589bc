"""Huawei Cloud DLI Flink jobs v1.0 (https://support.huaweicloud.com/intl/en-us/api-dli/dli_02_0225.html).

``routes`` claims the requests and dispatches them, ``auth`` verifies their SDK-HMAC-SHA256 signatures
and project scope, ``validation`` types their bodies and queries, ``actions`` carries them out on the
models in ``state``, and ``responses`` renders DLI's and the API gateway's bodies.
"""

from __future__ import annotations

from airflow_provider_flinkcloud.emulator.gateway import EmulatorBackend
from airflow_provider_flinkcloud.emulator.huawei_dli.auth import (
    DEFAULT_CREDENTIALS,
    DLI_ACCESS_KEY,
    DLI_PROJECT_ID,
    DLI_SECRET_KEY,
    DLI_STS_ACCESS_KEY,
    DLI_STS_SECRET_KEY,
    DLI_STS_TOKEN,
)
from airflow_provider_flinkcloud.emulator.huawei_dli.routes import HuaweiDliPlatform
from airflow_provider_flinkcloud.emulator.huawei_dli.validation import is_batch_job

DEFAULT_REGION = "cn-north-4"

BACKEND = EmulatorBackend(
    name=HuaweiDliPlatform.name,
    platform=HuaweiDliPlatform,
    credentials=DEFAULT_CREDENTIALS,
    region=DEFAULT_REGION,
    project_id=DLI_PROJECT_ID,
)

__all__ = [
    "BACKEND",
    "DLI_ACCESS_KEY",
    "DLI_PROJECT_ID",
    "DLI_SECRET_KEY",
    "DLI_STS_ACCESS_KEY",
    "DLI_STS_SECRET_KEY",
    "DLI_STS_TOKEN",
    "HuaweiDliPlatform",
    "is_batch_job",
]
