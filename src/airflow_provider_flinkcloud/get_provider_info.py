"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud import __version__
from airflow_provider_flinkcloud.connection_forms import VOLCENGINE_FLINK

PACKAGE = "airflow_provider_flinkcloud"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-flinkcloud",
        "name": "Flink Cloud",
        "description": "Run Apache Flink jobs on Volcengine Flink, Huawei Cloud DLI, Alibaba Realtime "
        "Compute and Dinky.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Volcengine Flink",
                "external-doc-url": "https://www.volcengine.com/docs/6581",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "Volcengine Flink", "python-modules": [f"{PACKAGE}.hooks.volcengine"]}
        ],
        "operators": [
            {"integration-name": "Volcengine Flink", "python-modules": [f"{PACKAGE}.operators.volcengine"]}
        ],
        "sensors": [
            {"integration-name": "Volcengine Flink", "python-modules": [f"{PACKAGE}.sensors.volcengine"]}
        ],
        "triggers": [
            {"integration-name": "Volcengine Flink", "python-modules": [f"{PACKAGE}.triggers.volcengine"]}
        ],
        "connection-types": [VOLCENGINE_FLINK.provider_info()],
        "extra-links": [f"{PACKAGE}.links.volcengine.VolcengineFlinkConsoleLink"],
    }
