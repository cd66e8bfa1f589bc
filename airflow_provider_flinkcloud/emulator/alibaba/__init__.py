"""Alibaba Cloud Realtime Compute (Blink), product ``foas`` 2018-11-11 (https://api.aliyun.com/api/foas/2018-11-11).

``routes`` claims the requests and dispatches them, ``auth`` verifies their ROA HMAC-SHA1 signatures,
``actions`` carries them out on the models in ``state``, and ``responses`` renders the replies and the
POP gateway's errors. The project ``flinkcloud_test`` holds committed stream and batch jobs ready to
start (``state.SEEDED_JOBS``); CreateJob and CommitJob add more.
"""

from __future__ import annotations

from airflow_provider_flinkcloud.emulator.alibaba.auth import (
    ALIBABA_ACCESS_KEY,
    ALIBABA_SECRET_KEY,
    ALIBABA_STS_ACCESS_KEY,
    ALIBABA_STS_SECRET_KEY,
    ALIBABA_STS_TOKEN,
    DEFAULT_CREDENTIALS,
)
from airflow_provider_flinkcloud.emulator.alibaba.routes import AlibabaPlatform
from airflow_provider_flinkcloud.emulator.alibaba.state import DEFAULT_PROJECT, SEEDED_JOBS
from airflow_provider_flinkcloud.emulator.gateway import EmulatorBackend

DEFAULT_REGION = "cn-hangzhou"

BACKEND = EmulatorBackend(
    name=AlibabaPlatform.name,
    platform=AlibabaPlatform,
    credentials=DEFAULT_CREDENTIALS,
    region=DEFAULT_REGION,
    project_id=DEFAULT_PROJECT,
)

__all__ = [
    "ALIBABA_ACCESS_KEY",
    "ALIBABA_SECRET_KEY",
    "ALIBABA_STS_ACCESS_KEY",
    "ALIBABA_STS_SECRET_KEY",
    "ALIBABA_STS_TOKEN",
    "BACKEND",
    "DEFAULT_PROJECT",
    "SEEDED_JOBS",
    "AlibabaPlatform",
]
