"""Volcengine Flink OpenAPI 2025-01-01 (https://www.volcengine.com/docs/6581/1359413).

``routes`` claims the requests and dispatches them, ``auth`` verifies their signatures, ``validation``
types their parameters, ``actions`` carries them out on the models in ``state``, ``responses`` renders
the envelope, and ``flink_rest`` stubs the Flink JobManager REST API of each instance.
"""

from __future__ import annotations

from airflow_provider_flinkcloud.emulator.gateway import EmulatorBackend
from airflow_provider_flinkcloud.emulator.volcengine.auth import (
    DEFAULT_CREDENTIALS,
    VOLCENGINE_ACCESS_KEY,
    VOLCENGINE_SECRET_KEY,
    VOLCENGINE_STS_ACCESS_KEY,
    VOLCENGINE_STS_SECRET_KEY,
    VOLCENGINE_STS_TOKEN,
)
from airflow_provider_flinkcloud.emulator.volcengine.responses import DEFAULT_REGION
from airflow_provider_flinkcloud.emulator.volcengine.routes import VolcenginePlatform

BACKEND = EmulatorBackend(
    name=VolcenginePlatform.name,
    platform=VolcenginePlatform,
    credentials=DEFAULT_CREDENTIALS,
    region=DEFAULT_REGION,
    project_id="flinkcloud-test",
)

__all__ = [
    "BACKEND",
    "VOLCENGINE_ACCESS_KEY",
    "VOLCENGINE_SECRET_KEY",
    "VOLCENGINE_STS_ACCESS_KEY",
    "VOLCENGINE_STS_SECRET_KEY",
    "VOLCENGINE_STS_TOKEN",
    "VolcenginePlatform",
]
