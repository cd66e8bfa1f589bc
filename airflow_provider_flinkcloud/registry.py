"""Every platform, declared once.

Provider info, the hooks' connection types and forms, the operators' links and triggers, the emulator
(server, command line, control client) and the test fixtures all read this table. Adding a platform
adds its modules (``clients/``, ``models/``, ``hooks/``, ``operators/``, ``sensors/``, ``triggers/``,
``links/`` and an ``emulator/`` package, each named after the platform) and one entry here.

This module imports neither Airflow nor the platforms' code, so the emulator can read it too.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from airflow_provider_flinkcloud.core.forms import ConnectionForm, ExtraField, access_key_form, host_form

PACKAGE = "airflow_provider_flinkcloud"
# The public modules of a platform, each ``<kind>/<platform name>.py``.
MODULE_KINDS = ("hooks", "operators", "sensors", "triggers", "links")


@dataclass(frozen=True)
class PlatformSpec:
    """One platform. ``name`` is its module name in every kind of module and in the emulator.

    ``hook``, ``trigger`` and ``console_link`` are class names in the platform's modules (a dotted
    path names a class elsewhere, as the tests' fake platform does).
    """

    name: str
    label: str
    conn_type: str
    hook: str
    trigger: str
    console_link: str
    form: ConnectionForm
    doc_url: str

    @property
    def default_conn_id(self) -> str:
        return f"{self.conn_type}_default"

    def module(self, kind: str) -> str:
        """``hooks`` -> ``airflow_provider_flinkcloud.hooks.<name>``; ``emulator`` -> its package."""
        return f"{PACKAGE}.{kind}.{self.name}"

    def _path(self, kind: str, name: str) -> str:
        return name if "." in name else f"{self.module(kind)}.{name}"

    @property
    def hook_path(self) -> str:
        return self._path("hooks", self.hook)

    @property
    def trigger_path(self) -> str:
        return self._path("triggers", self.trigger)

    @property
    def console_link_path(self) -> str:
        return self._path("links", self.console_link)

    @property
    def emulator_backend_path(self) -> str:
        """The emulator package of the platform exposes its :class:`EmulatorBackend` as ``BACKEND``."""
        return f"{self.module('emulator')}.BACKEND"

    def load(self, dotted_path: str) -> Any:
        module, _, name = dotted_path.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def provider_connection_type(self) -> dict[str, Any]:
        return {
            "connection-type": self.conn_type,
            "hook-class-name": self.hook_path,
            "hook-name": self.label,
            "ui-field-behaviour": self.form.ui_field_behaviour(),
            "conn-fields": self.form.conn_fields(),
        }


VOLCENGINE = PlatformSpec(
    name="volcengine",
    label="Volcengine Flink",
    conn_type="volcengine_flink",
    hook="VolcengineFlinkHook",
    trigger="VolcengineFlinkInstanceTrigger",
    console_link="VolcengineFlinkConsoleLink",
    doc_url="https://www.volcengine.com/docs/6581",
    form=access_key_form(
        {
            "region": ExtraField("Region", "e.g. cn-beijing"),
            "project_id": ExtraField("Project ID", "default ProjectId for jobs that do not name one"),
            "endpoint": ExtraField("Endpoint URL", "override, e.g. http://127.0.0.1:8765 for the emulator"),
            "security_token": ExtraField("STS session token", "for temporary credentials", secret=True),
        }
    ),
)

HUAWEI_DLI = PlatformSpec(
    name="huawei_dli",
    label="Huawei Cloud DLI",
    conn_type="huaweicloud_dli",
    hook="DliFlinkHook",
    trigger="DliFlinkJobTrigger",
    console_link="DliFlinkConsoleLink",
    doc_url="https://support.huaweicloud.com/intl/en-us/api-dli/dli_02_0225.html",
    form=access_key_form(
        {
            "region": ExtraField("Region", "e.g. cn-north-4 (or eu-de with an Open Telekom Cloud endpoint)"),
            "project_id": ExtraField("Project ID", "required: the project of the region (32 hex characters)"),
            "endpoint": ExtraField(
                "Endpoint URL", "override, e.g. https://dli.eu-de.otc.t-systems.com or http://127.0.0.1:8765"
            ),
            "security_token": ExtraField("Security token", "for temporary AK/SK credentials", secret=True),
        }
    ),
)

ALIBABA = PlatformSpec(
    name="alibaba",
    label="Alibaba Cloud Realtime Compute (Blink)",
    conn_type="alibaba_realtime_compute",
    hook="RealtimeComputeHook",
    trigger="RealtimeComputeInstanceTrigger",
    console_link="RealtimeComputeConsoleLink",
    doc_url="https://api.aliyun.com/api/foas/2018-11-11",
    form=access_key_form(
        {
            "region": ExtraField(
                "Region", "e.g. cn-hangzhou (default); the endpoint is then foas.<region>.aliyuncs.com"
            ),
            "endpoint": ExtraField("Endpoint URL", "override, e.g. http://127.0.0.1:8765 for the emulator"),
            "security_token": ExtraField(
                "STS security token", "for temporary (STS) credentials", secret=True
            ),
        }
    ),
)

ALIBABA_FLINK = PlatformSpec(
    name="alibaba_flink",
    label="Alibaba Cloud Realtime Compute for Apache Flink",
    conn_type="alibaba_flink",
    hook="AlibabaFlinkHook",
    trigger="AlibabaFlinkJobTrigger",
    console_link="AlibabaFlinkConsoleLink",
    doc_url="https://www.alibabacloud.com/help/en/flink/developer-reference/api-ververica-2022-07-18-overview",
    form=access_key_form(
        {
            "region": ExtraField("Region", "e.g. cn-hangzhou"),
            "workspace": ExtraField("Workspace ID", "required: the workspace id (console: Workspaces)"),
            "namespace": ExtraField(
                "Namespace", "default namespace for tasks that name none, e.g. default-namespace"
            ),
            "endpoint": ExtraField("Endpoint URL", "override, e.g. http://127.0.0.1:8765 for the emulator"),
            "security_token": ExtraField("STS security token", "for temporary credentials", secret=True),
        }
    ),
)

DINKY = PlatformSpec(
    name="dinky",
    label="Dinky",
    conn_type="dinky",
    hook="DinkyHook",
    trigger="DinkyJobInstanceTrigger",
    console_link="DinkyJobInstanceLink",
    doc_url="https://www.dinky.org.cn/docs/next/openapi/openapi_overview",
    form=host_form(
        {
            "token": ExtraField(
                "API token", "a Dinky API token (or put it in Password with no Login)", secret=True
            ),
            "token_name": ExtraField(
                "Token name",
                "header / cookie name; default by server version: dinky-token (1.2+), token (1.0-1.1)",
            ),
            "verify_ssl": ExtraField(
                "Verify TLS certificate", "true (default) or false for a self-signed https"
            ),
        },
        relabeling={"login": "Login (optional: logs in as this user)", "password": "Password or API token"},
        placeholders={"host": "dinky.example.com", "port": "8888", "schema": "http or https"},
    ),
)

# In the order the platforms were added; the one list everything else reads.
PLATFORMS: dict[str, PlatformSpec] = {
    spec.name: spec for spec in (VOLCENGINE, HUAWEI_DLI, ALIBABA, ALIBABA_FLINK, DINKY)
}


def platform(name: str) -> PlatformSpec:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r}; known: {', '.join(PLATFORMS)}") from None


def by_conn_type(conn_type: str) -> PlatformSpec:
    for spec in PLATFORMS.values():
        if spec.conn_type == conn_type:
            return spec
    raise KeyError(f"no platform has connection type {conn_type!r}")
