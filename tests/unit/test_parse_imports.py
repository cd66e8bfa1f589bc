"""A DAG file that uses us imports the operators and sensors modules on every parse (scheduler, DAG
processor). What only a running task needs (the ``requests`` stack of the worker's HTTP calls, the
trigger base of a deferring task, our hooks with their clients, signers, models and transports, the
watch engine) must not be imported then. Each check runs in a fresh interpreter, since this test
process has long imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_provider_flinkcloud.registry import PLATFORMS

#: Imported only by a task that runs (``requests``, for the worker's synchronous calls) or defers.
RUN_TIME_ONLY = ("requests", "urllib3", "charset_normalizer", "airflow.triggers.base", "aiohttp")
#: Our own modules a task loads when it runs: a DAG file needs only the tasks, their argument checks,
#: the registry and the console links.
OURS_AT_RUN_TIME = tuple(
    f"airflow_provider_flinkcloud.{name}"
    for name in (
        "hooks.",
        "clients.",
        "signers.",
        "models.",
        "triggers.",
        "base.hook",
        "base.triggers",
        "core.transport",
        "core.watch",
        "core.settings",
        "core.platform",
        "core.validation",
    )
)

PARSE_TIME_MODULES = [spec.module(kind) for spec in PLATFORMS.values() for kind in ("operators", "sensors")]


@pytest.mark.parametrize("module", PARSE_TIME_MODULES)
def test_parsing_a_dag_file_does_not_import_what_only_a_running_task_needs(module: str) -> None:
    probe = (
        "import json, sys\n"
        # What any DAG file with an operator imports anyway: Airflow's operator and sensor bases (on 2.11
        # they import airflow.triggers.base themselves).
        "from airflow.providers.common.compat.sdk import BaseOperator, BaseSensorOperator\n"
        f"already = {{m for m in {RUN_TIME_ONLY!r} if m in sys.modules}}\n"
        f"import {module}\n"
        f"new = [m for m in {RUN_TIME_ONLY!r} if m in sys.modules and m not in already]\n"
        f"ours = [m for m in sys.modules if m.startswith({OURS_AT_RUN_TIME!r})]\n"
        "print(json.dumps(sorted(new + ours)))\n"
    )
    out = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
