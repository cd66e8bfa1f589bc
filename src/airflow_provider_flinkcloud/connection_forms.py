"""Connection types and their forms, declared once without importing Airflow.

Provider discovery reads these (Airflow >= 3.2 builds the form from provider info); the hooks
expose the same declarations through the legacy methods Airflow 2 calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExtraField:
    label: str
    description: str
    secret: bool = False


@dataclass(frozen=True)
class ConnectionForm:
    conn_type: str
    hook_class: str
    hook_name: str
    extra_fields: dict[str, ExtraField]
    relabeling: dict[str, str] = field(
        default_factory=lambda: {"login": "Access Key ID", "password": "Secret Access Key"}
    )
    hidden_fields: tuple[str, ...] = ("host", "schema", "port")

    def ui_field_behaviour(self) -> dict[str, Any]:
        return {
            "hidden-fields": list(self.hidden_fields),
            "relabeling": dict(self.relabeling),
            "placeholders": {name: f.description for name, f in self.extra_fields.items()},
        }

    def provider_info(self) -> dict[str, Any]:
        return {
            "connection-type": self.conn_type,
            "hook-class-name": self.hook_class,
            "hook-name": self.hook_name,
            "ui-field-behaviour": self.ui_field_behaviour(),
            "conn-fields": {
                name: {
                    "label": f.label,
                    "description": f.description,
                    "schema": {"type": ["string", "null"], **({"format": "password"} if f.secret else {})},
                }
                for name, f in self.extra_fields.items()
            },
        }


VOLCENGINE_FLINK = ConnectionForm(
    conn_type="volcengine_flink",
    hook_class="airflow_provider_flinkcloud.hooks.volcengine.VolcengineFlinkHook",
    hook_name="Volcengine Flink",
    extra_fields={
        "region": ExtraField("Region", "e.g. cn-beijing"),
        "project_id": ExtraField("Project ID", "default ProjectId for jobs that do not name one"),
        "endpoint": ExtraField("Endpoint URL", "override, e.g. http://127.0.0.1:8765 for the emulator"),
        "security_token": ExtraField("STS session token", "for temporary credentials", secret=True),
    },
)

HUAWEI_DLI = ConnectionForm(
    conn_type="huaweicloud_dli",
    hook_class="airflow_provider_flinkcloud.hooks.huawei_dli.DliFlinkHook",
    hook_name="Huawei Cloud DLI",
    extra_fields={
        "region": ExtraField("Region", "e.g. cn-north-4 (or eu-de with an Open Telekom Cloud endpoint)"),
        "project_id": ExtraField("Project ID", "required: the project of the region (32 hex characters)"),
        "endpoint": ExtraField(
            "Endpoint URL", "override, e.g. https://dli.eu-de.otc.t-systems.com or http://127.0.0.1:8765"
        ),
        "security_token": ExtraField("Security token", "for temporary AK/SK credentials", secret=True),
    },
)
