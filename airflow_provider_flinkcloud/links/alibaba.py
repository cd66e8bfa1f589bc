"""Link to the Blink development console's page of a job and its instance.

Blink (Realtime Compute exclusive mode) is operated in its development console at
stream.console.aliyun.com. The address of a job's page there is derived from the console's URL scheme
(region, project and job name in the fragment); it is not a documented API and may change.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_flinkcloud.base.links import FlinkConsoleLink

DEFAULT_CONSOLE = "https://stream.console.aliyun.com"


def blink_console_url(params: dict[str, Any]) -> str:
    region = quote(str(params.get("region") or "cn-hangzhou"), safe="")
    project = quote(str(params.get("project_name") or ""), safe="")
    job = quote(str(params.get("job_name") or ""), safe="")
    url = f"{DEFAULT_CONSOLE}/#/{region}/project/{project}/job/{job}/operation"
    if params.get("instance_id"):
        url += f"?instanceId={quote(str(params['instance_id']), safe='')}"
    return url


class RealtimeComputeConsoleLink(FlinkConsoleLink):
    name = "Blink Console"
    key = "alibaba_realtime_compute_console"

    @staticmethod
    def format_link(params: dict[str, Any]) -> str:
        return blink_console_url(params)
