"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud import __version__
from airflow_provider_flinkcloud.connection_forms import HUAWEI_DLI, VOLCENGINE_FLINK

PACKAGE = "airflow_provider_flinkcloud"


# (integration name, module, documentation) of each platform, in the order they were added.
PLATFORMS = (
    ("Volcengine Flink", "volcengine", "https://www.volcengine.com/docs/6581"),
    ("Huawei Cloud DLI", "huawei_dli", "https://support.huaweicloud.com/intl/en-us/api-dli/dli_02_0225.html"),
)


def _modules(kind: str) -> list[dict[str, Any]]:
    return [
        {"integration-name": name, "python-modules": [f"{PACKAGE}.{kind}.{module}"]}
        for name, module, _ in PLATFORMS
    ]


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-flinkcloud",
        "name": "Flink Cloud",
        "description": "Run Apache Flink jobs on Volcengine Flink, Huawei Cloud DLI, Alibaba Realtime "
        "Compute and Dinky.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": name, "external-doc-url": doc, "tags": ["service"]}
            for name, _, doc in PLATFORMS
        ],
        "hooks": _modules("hooks"),
        "operators": _modules("operators"),
        "sensors": _modules("sensors"),
        "triggers": _modules("triggers"),
        "connection-types": [VOLCENGINE_FLINK.provider_info(), HUAWEI_DLI.provider_info()],
        "extra-links": [
            f"{PACKAGE}.links.volcengine.VolcengineFlinkConsoleLink",
            f"{PACKAGE}.links.huawei_dli.DliFlinkConsoleLink",
        ],
    }
