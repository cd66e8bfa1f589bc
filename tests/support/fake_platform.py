"""A fake platform of a few dozen lines, to test the core lifecycle without any real API.

Jobs live in :data:`CLOUD`; each poll of a job returns the next state of its script (the last one
repeats). ``CLOUD.faults[operation]`` holds errors the next calls of that operation raise.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
from airflow_provider_flinkcloud.base.links import FlinkConsoleLink
from airflow_provider_flinkcloud.base.operators import FlinkJobStartOperator, FlinkJobStopOperator
from airflow_provider_flinkcloud.base.sensors import FlinkJobSensor
from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.core.errors import (
    ConnectionFailedError,
    FlinkCloudApiError,
    JobSpecError,
    VendorErrorCodes,
)
from airflow_provider_flinkcloud.core.forms import access_key_form
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.settings import ConnectionSettings, WaitPolicy
from airflow_provider_flinkcloud.core.states import JobState, StateTable
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiRequest, ApiResponse, RetryPolicy, T
from airflow_provider_flinkcloud.registry import PlatformSpec

FAKE = PlatformSpec(
    name="fake",
    label="Fake Flink",
    conn_type="fake_flink",
    hook="support.fake_platform.FakeHook",
    trigger="support.fake_platform.FakeTrigger",
    console_link="support.fake_platform.FakeLink",
    form=access_key_form({}),
    doc_url="https://example.invalid/fake",
)
STATES = StateTable("Fake Flink", {s.lower(): s for s in JobState})
ACTIVE = ("pending", "running")
WAIT = WaitPolicy(start_confirm_seconds=0.2, poll_error_window=0.5)


class FakeCloud:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.faults: defaultdict[str, list[FlinkCloudApiError]] = defaultdict(list)
        self.scripts: dict[str, list[str]] = {}
        # Calls of these operations take effect, then their reply is lost.
        self.lost: Counter[str] = Counter()
        self._ids = itertools.count(1)

    def handle(self, request: ApiRequest) -> Any:
        op = request.operation
        self.calls[op] += 1
        if self.faults[op]:
            raise self.faults[op].pop(0)
        result = self._carry_out(op, json.loads(request.body or b"{}"))
        if self.lost[op] > 0:
            self.lost[op] -= 1
            raise ConnectionFailedError(platform="Fake Flink", operation=op, message="connection reset")
        return result

    def _carry_out(self, op: str, args: dict[str, Any]) -> Any:
        if op == "start":
            job_id = str(next(self._ids))
            self.jobs[job_id] = {
                "name": args["name"],
                "states": list(self.scripts.get(args["name"], ["running"])),
            }
            return {"job_id": job_id}
        if op == "find":
            active = [
                i
                for i, j in self.jobs.items()
                if j["name"] == args["name"] and j["states"][0] in ("pending", "running")
            ]
            return {"job_id": active[0] if active else None}
        job = self.jobs[args["job_id"]]
        if op == "cancel":
            job["states"] = ["stopping", "canceled"]
        elif len(job["states"]) > 1:  # status: move along the script
            return {"state": job["states"].pop(0)}
        return {"state": job["states"][0]}


CLOUD = FakeCloud()


def fault(op: str, cls: type[FlinkCloudApiError], times: int = 1, **kwargs: Any) -> None:
    for _ in range(times):
        CLOUD.faults[op].append(cls(platform="Fake Flink", operation=op, message=f"{op} broke", **kwargs))


class FakeClient:
    platform = "Fake Flink"
    base_url = "memory://fake"
    codes = VendorErrorCodes(transient=frozenset({"Busy"}))
    retry = RetryPolicy(max_attempts=1)
    timeouts = (1.0, 1.0)

    def __init__(self, settings: ConnectionSettings | None = None) -> None:
        self.settings = settings or ConnectionSettings(conn_id="fake", endpoint=None, wait=WAIT)

    def sign(self, request: ApiRequest, host: str, now: datetime) -> dict[str, str]:
        return {}

    def read_error(self, request: ApiRequest, response: ApiResponse) -> None:
        return None

    def probe_call(self) -> ApiCall[Any]:
        return op_call("probe", {}, lambda r: r.json())


def op_call(op: str, args: dict[str, Any], parse: Any, idempotent: bool = True) -> ApiCall[Any]:
    return ApiCall(ApiRequest(op, "POST", "/", body=json.dumps(args).encode(), idempotent=idempotent), parse)


class FakeHook(FlinkCloudHook[FakeClient], platform=FAKE):
    settings_class = ConnectionSettings
    client_class = FakeClient

    @property
    def client(self) -> FakeClient:  # type: ignore[override]
        return FakeClient()

    async def async_client(self) -> FakeClient:
        return FakeClient()

    def call(self, api_call: ApiCall[T]) -> T:
        return api_call.parse(ApiResponse(200, {}, json.dumps(CLOUD.handle(api_call.request)).encode()))

    async def acall(self, api_call: ApiCall[T]) -> T:
        return self.call(api_call)

    def validate_spec(self, spec: Any) -> dict[str, Any]:
        if not isinstance(spec.get("name"), str) or not spec["name"]:
            raise JobSpecError("invalid fake spec: name: required, a non-empty string")
        return dict(spec)

    def default_wait_for(self, spec: dict[str, Any]) -> str:
        return "SUCCESS" if spec.get("bounded") else "RUNNING"

    def find_active(self, unit: dict[str, Any]) -> JobRef | None:
        job_id = self.call(op_call("find", {"name": unit["name"]}, lambda r: r.json()["job_id"]))
        return {"job_id": job_id} if job_id else None

    def older_active(self, unit: dict[str, Any], ref: JobRef) -> JobRef | None:
        older = [
            i
            for i, job in CLOUD.jobs.items()
            if job["name"] == unit["name"]
            and job["states"][0] in ("pending", "running")
            and int(i) < int(ref["job_id"])
        ]
        return {"job_id": older[0]} if older else None

    def start(self, unit: dict[str, Any], *, restore_from: Savepoint | None = None) -> JobRef:
        return self.call(op_call("start", {"name": unit["name"]}, lambda r: r.json(), idempotent=False))

    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        def parse(response: ApiResponse) -> JobStatus:
            native = response.json()["state"]
            return JobStatus(
                "fake", dict(ref), STATES(native), native, error=f"fake job {ref['job_id']} broke"
            )

        return op_call("status", ref, parse)

    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        return op_call("cancel", ref, lambda r: r.json())

    def describe(self, ref: JobRef) -> str:
        return f"fake job {ref['job_id']}"

    def link_params(self, refs: Sequence[JobRef]) -> dict[str, str]:
        return {"job_id": refs[0]["job_id"]}


class FakeLink(FlinkConsoleLink):
    name = "Fake console"
    key = "fake_console"

    @staticmethod
    def format_link(params: dict[str, Any]) -> str:
        return f"https://example.invalid/jobs/{params['job_id']}"


class FakeTrigger(FlinkJobTrigger[FakeHook]):
    hook_class = FakeHook


# The tasks name the registry entry; they load FakeHook from it when they run.


class FakeStartOperator(FlinkJobStartOperator[FakeHook]):
    platform = FAKE
    template_fields = ("spec",)

    def __init__(self, *, spec: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def job_spec(self) -> dict[str, Any]:
        return self.spec


class FakeStopOperator(FlinkJobStopOperator[FakeHook]):
    platform = FAKE

    def __init__(self, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id

    def job_refs(self) -> list[JobRef]:
        return [{"job_id": self.job_id}]


class FakeSensor(FlinkJobSensor[FakeHook]):
    platform = FAKE

    def __init__(self, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id

    def job_ref(self) -> JobRef:
        return {"job_id": self.job_id}
