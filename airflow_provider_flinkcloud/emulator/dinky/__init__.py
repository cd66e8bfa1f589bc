"""Dinky, the open-source Flink SQL platform: its OpenAPI (1.0-1.2 and 0.7 shapes, version switchable).

``routes`` claims ``/openapi/**``, ``/api/login`` and ``/api/tokenInfo`` and carries the calls out on
``state``, ``auth`` applies Sa-Token's rules and ``responses`` renders Dinky's ``Result`` wrapper.
``EmulatorControl(url).configure("dinky", version="0.7.5", tasks=[...], submit_errors={...})`` changes
the server until the next reset.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_flinkcloud.emulator.dinky.auth import DINKY_API_TOKEN, DINKY_PASSWORD, DINKY_USERNAME
from airflow_provider_flinkcloud.emulator.dinky.routes import DinkyPlatform
from airflow_provider_flinkcloud.emulator.dinky.state import DEFAULT_TASKS, SUPPORTED_VERSIONS
from airflow_provider_flinkcloud.emulator.gateway import Credential, EmulatorBackend
from airflow_provider_flinkcloud.emulator.platform import JSONObject


@dataclass(frozen=True)
class DinkyBackend(EmulatorBackend):
    """Dinky is addressed by host and port and takes an API token, not an access key."""

    def banner(self) -> list[str]:
        return [
            f"dinky API token: {DINKY_API_TOKEN}  (or login {DINKY_USERNAME} / password {DINKY_PASSWORD})",
            "dinky tasks: " + ", ".join(f"{task.id} {task.name}" for task in DEFAULT_TASKS),
        ]

    def connection(self, base_url: str) -> JSONObject:
        """The API token in the password (no login) and the emulator's URL as extra ``endpoint``, which
        a Dinky connection takes instead of host / port / schema (``airflow connections add`` with
        ``--conn-login/--conn-password/--conn-extra`` alone then reaches it)."""
        return {"login": "", "password": DINKY_API_TOKEN, "extra": {"endpoint": base_url.rstrip("/")}}


BACKEND = DinkyBackend(
    name=DinkyPlatform.name,
    platform=DinkyPlatform,
    credentials=(Credential(DINKY_USERNAME, DINKY_PASSWORD, DINKY_API_TOKEN, label="login"),),
    region="",
    project_id="",
)

__all__ = [
    "BACKEND",
    "DEFAULT_TASKS",
    "DINKY_API_TOKEN",
    "DINKY_PASSWORD",
    "DINKY_USERNAME",
    "SUPPORTED_VERSIONS",
    "DinkyPlatform",
]
