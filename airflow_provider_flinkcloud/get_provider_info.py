"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkcloud import __version__
from airflow_provider_flinkcloud.registry import MODULE_KINDS, PLATFORMS


def get_provider_info() -> dict[str, Any]:
    platforms = list(PLATFORMS.values())
    info: dict[str, Any] = {
        "package-name": "airflow-provider-flinkcloud",
        "name": "Flink Cloud",
        # Named from the registry, so it lists exactly the platforms that are there.
        "description": "Run Apache Flink jobs on "
        + ", ".join(p.label for p in platforms[:-1])
        + f" and {platforms[-1].label}.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": p.label, "external-doc-url": p.doc_url, "tags": ["service"]}
            for p in platforms
        ],
        "connection-types": [p.provider_connection_type() for p in platforms],
        "extra-links": [p.console_link_path for p in platforms],
    }
    for kind in MODULE_KINDS:
        if kind != "links":
            info[kind] = [
                {"integration-name": p.label, "python-modules": [p.module(kind)]} for p in platforms
            ]
    return info
