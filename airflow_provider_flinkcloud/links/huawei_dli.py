"""Link to the DLI console page of a Flink job."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_flinkcloud.base.links import FlinkConsoleLink

# Derived from the console's URL scheme (region in the query, the page in the fragment); not a
# documented API. Without a job id (a task over several jobs) it opens the Flink job list.
DEFAULT_CONSOLE = "https://console.huaweicloud.com/dli/?region={region}#/main/jobs/flink"


def dli_console_url(params: dict[str, Any]) -> str:
    base = DEFAULT_CONSOLE.format(region=quote(str(params.get("region") or ""), safe=""))
    job_id = params.get("job_id")
    return f"{base}/detail/{quote(str(job_id), safe='')}" if job_id else base


class DliFlinkConsoleLink(FlinkConsoleLink):
    name = "DLI Console"
    key = "huaweicloud_dli_console"

    @staticmethod
    def format_link(params: dict[str, Any]) -> str:
        return dli_console_url(params)
