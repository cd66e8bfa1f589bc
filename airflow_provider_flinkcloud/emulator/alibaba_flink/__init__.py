"""Alibaba Cloud Realtime Compute for Apache Flink, OpenAPI product ``ververica`` 2022-07-18
(https://www.alibabacloud.com/help/en/flink/developer-reference/api-ververica-2022-07-18-overview).

``routes`` claims the requests and dispatches them, ``auth`` verifies their ACS3-HMAC-SHA256 signatures,
``validation`` checks their bodies, ``actions`` carries them out on the models in ``state``, and
``responses`` renders the ververica envelope and the POP gateway's errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_flinkcloud.emulator.alibaba_flink.auth import (
    ALIBABA_FLINK_ACCESS_KEY,
    ALIBABA_FLINK_NAMESPACE,
    ALIBABA_FLINK_SECRET_KEY,
    ALIBABA_FLINK_STS_ACCESS_KEY,
    ALIBABA_FLINK_STS_SECRET_KEY,
    ALIBABA_FLINK_STS_TOKEN,
    ALIBABA_FLINK_WORKSPACE,
    DEFAULT_CREDENTIALS,
)
from airflow_provider_flinkcloud.emulator.alibaba_flink.routes import AlibabaFlinkPlatform
from airflow_provider_flinkcloud.emulator.gateway import EmulatorBackend
from airflow_provider_flinkcloud.emulator.platform import JSONObject

DEFAULT_REGION = "cn-hangzhou"


@dataclass(frozen=True)
class AlibabaFlinkBackend(EmulatorBackend):
    """A connection to the emulator also names the workspace (required) and the default namespace."""

    workspace: str = ALIBABA_FLINK_WORKSPACE
    namespace: str = ALIBABA_FLINK_NAMESPACE

    def connection(self, base_url: str) -> JSONObject:
        default = self.credentials[0]
        return {
            "login": default.access_key,
            "password": default.secret_key,
            "extra": {
                "endpoint": base_url,
                "region": self.region,
                "workspace": self.workspace,
                "namespace": self.namespace,
            },
        }


BACKEND = AlibabaFlinkBackend(
    name=AlibabaFlinkPlatform.name,
    platform=AlibabaFlinkPlatform,
    credentials=DEFAULT_CREDENTIALS,
    region=DEFAULT_REGION,
    project_id="",
)

__all__ = [
    "ALIBABA_FLINK_ACCESS_KEY",
    "ALIBABA_FLINK_NAMESPACE",
    "ALIBABA_FLINK_SECRET_KEY",
    "ALIBABA_FLINK_STS_ACCESS_KEY",
    "ALIBABA_FLINK_STS_SECRET_KEY",
    "ALIBABA_FLINK_STS_TOKEN",
    "ALIBABA_FLINK_WORKSPACE",
    "BACKEND",
    "AlibabaFlinkPlatform",
]
