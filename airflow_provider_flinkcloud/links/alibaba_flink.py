"""Link to a deployment (and its job) in the fully managed Flink development console.

Derived from the development console's URL scheme (one console per workspace, the namespace and the
deployment in the fragment); not a documented API. The region is carried as ``regionId``, so a link
names the console of the workspace's region; without a deployment it opens the workspace's region in
the management console (https://realtime-compute.console.aliyun.com).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_flinkcloud.base.links import FlinkConsoleLink

DEVELOPMENT_CONSOLE = "https://vvp.console.aliyun.com/web/{ws}/zh/#/workspaces/{ws}/namespaces/{ns}/operations/{mode}/{deployment}"
MANAGEMENT_CONSOLE = "https://realtime-compute.console.aliyun.com/regions/{region}"


def alibaba_flink_console_url(params: dict[str, Any]) -> str:
    def part(name: str) -> str:
        return quote(str(params.get(name) or ""), safe="")

    if not params.get("deployment_id") or not params.get("workspace"):
        return MANAGEMENT_CONSOLE.format(region=part("region"))
    mode = "batch" if params.get("execution_mode") == "BATCH" else "stream"
    base = DEVELOPMENT_CONSOLE.format(
        ws=part("workspace"), ns=part("namespace"), mode=mode, deployment=part("deployment_id")
    )
    query = {
        "regionId": params.get("region") or "",
        **({"jobId": params["job_id"]} if params.get("job_id") else {}),
    }
    return f"{base}?{urlencode(query)}"


class AlibabaFlinkConsoleLink(FlinkConsoleLink):
    name = "Alibaba Flink Console"
    key = "alibaba_flink_console"

    @staticmethod
    def format_link(params: dict[str, Any]) -> str:
        return alibaba_flink_console_url(params)
