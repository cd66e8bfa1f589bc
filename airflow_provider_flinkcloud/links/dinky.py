"""Link to the Dinky web UI's page of a job instance (Operation center -> job details)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_flinkcloud.base.links import FlinkConsoleLink

# The web UI's hash routes (dinky-web/config/routes.ts: '/devops/job-detail' with the instance ``id``
# in the query; 0.7 dlink-web: '/job'). Derived from the UI, not a documented API. Without an instance
# id it opens the job list of the operation center.
JOB_DETAIL_ROUTE = "/#/devops/job-detail?id={id}"
LEGACY_JOB_ROUTE = "/#/job?id={id}"
JOB_LIST_ROUTE = "/#/devops"


def dinky_console_url(params: dict[str, Any]) -> str:
    base = str(params.get("base_url") or "").rstrip("/")
    instance_id = params.get("job_instance_id")
    if not instance_id:
        return base + JOB_LIST_ROUTE
    route = LEGACY_JOB_ROUTE if params.get("ui") == "0.7" else JOB_DETAIL_ROUTE
    return base + route.format(id=quote(str(instance_id), safe=""))


class DinkyJobInstanceLink(FlinkConsoleLink):
    name = "Dinky job instance"
    key = "dinky_job_instance"

    @staticmethod
    def format_link(params: dict[str, Any]) -> str:
        return dinky_console_url(params)
