"""Link to the Volcengine Flink console page of an application instance."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_flinkcloud.base.links import FlinkConsoleLink

# Derived from the console's URL scheme (region in the path, ids in the query); not a documented API.
DEFAULT_CONSOLE = "https://console.volcengine.com/flink/region:flink+{region}"


def volcengine_console_url(params: dict[str, Any]) -> str:
    base = DEFAULT_CONSOLE.format(region=quote(str(params.get("region") or "cn-beijing"), safe=""))
    query = "&".join(
        f"{name}={quote(str(params[key]), safe='')}"
        for name, key in (
            ("projectId", "project_id"),
            ("appId", "application_id"),
            ("instanceId", "instance_id"),
        )
        if params.get(key)
    )
    return f"{base}/application/detail?{query}"


class VolcengineFlinkConsoleLink(FlinkConsoleLink):
    name = "Volcengine Flink Console"
    key = "volcengine_flink_console"

    @staticmethod
    def format_link(params: dict[str, Any]) -> str:
        return volcengine_console_url(params)
