"""What every platform's test kit offers the contract suite (``tests/integration/test_contract.py``).

A kit knows how to drive one platform of :data:`airflow_provider_flinkcloud.registry.PLATFORMS` through
its public operators and sensor, and how to read that platform's emulator counters. The contract suite
says *what* must hold on every platform; a kit only says *how* its platform is asked.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from airflow_provider_flinkcloud.emulator import EmulatorControl
from airflow_provider_flinkcloud.registry import PlatformSpec, platform


class PlatformKit(ABC):
    """One platform's test kit. Subclasses fill in the class attributes and the builders."""

    #: The registry name (``PlatformSpec.name``); also the emulator's name for the platform.
    name: ClassVar[str]
    #: The emulator's secret of the default connection (it must never show in a log).
    secret_key: ClassVar[str]

    #: The job the streaming builder starts (it waits for RUNNING) and the one the batch builder
    #: starts (it waits for SUCCESS), by name, as the emulator's counters and ``fail_job`` know them.
    streaming_job: ClassVar[str]
    batch_job: ClassVar[str]
    #: Keys of a start result that identify the job on the platform, and the one the console link names.
    id_keys: ClassVar[tuple[str, ...]]
    console_id_key: ClassVar[str]
    #: The platform's own names for RUNNING and SUCCESS, and for a run that failed in each phase.
    native_running: ClassVar[str]
    native_success: ClassVar[str]
    native_failed: ClassVar[dict[str, str]]
    #: An error text the way the platform's jobs report one.
    error_text: ClassVar[str]
    #: The emulator operations that read a job's status, that start it, and that stop it.
    status_operation: ClassVar[str]
    start_operation: ClassVar[str]
    stop_operation: ClassVar[str]
    #: Texts every authentication failure shows (the platform's error code, the HTTP status).
    auth_error_texts: ClassVar[tuple[str, ...]]
    #: The field the bad spec gets wrong, and what the validation message says about it.
    bad_field: ClassVar[str]
    bad_reason: ClassVar[str]

    @property
    def spec(self) -> PlatformSpec:
        return platform(self.name)

    # -- connections -------------------------------------------------------------------------------

    def connection(self, url: str, **overrides: Any) -> str:
        """The JSON of a connection to the emulator at ``url`` (the emulator's default credentials for
        the platform, fast retries); ``overrides`` replace fields (and ``extra`` keys)."""
        extra = {"retry_base_delay": 0.05, "retry_max_delay": 0.5, **overrides.pop("extra", {})}
        return json.dumps(EmulatorControl(url).connection(self.name, extra=extra, **overrides))

    # -- operators ---------------------------------------------------------------------------------

    @abstractmethod
    def start_streaming(self, task_id: str, **kwargs: Any) -> Any:
        """An operator that starts :attr:`streaming_job` (default ``wait_for``: RUNNING)."""

    @abstractmethod
    def start_batch(self, task_id: str, **kwargs: Any) -> Any:
        """An operator that starts :attr:`batch_job` (default ``wait_for``: SUCCESS)."""

    def start_failing(self, emulator: EmulatorControl, task_id: str, phase: str, **kwargs: Any) -> Any:
        """A batch start whose job fails in ``phase`` (``startup`` or ``running``) with :attr:`error_text`."""
        self.fail_job(emulator, self.batch_job, phase=phase, after_seconds=0.2)
        return self.start_batch(task_id, **kwargs)

    @abstractmethod
    def bad_start(self, task_id: str, **kwargs: Any) -> Any:
        """A start operator whose job gets :attr:`bad_field` wrong."""

    #: A well-formed id for ``sensor_on`` / ``stop_of``, so only what a test breaks is wrong.
    good_id: ClassVar[str]
    #: Ids refused before any request: (the argument, the values, the rule its error states).
    bad_ids: ClassVar[tuple[str, list[Any], str]]

    @abstractmethod
    def sensor_on(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        """The platform's sensor on one job id (given directly, or a template)."""

    @abstractmethod
    def stop_of(self, task_id: str, job: Any, **kwargs: Any) -> Any:
        """The platform's stop operator on one job id."""

    @abstractmethod
    def stop(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        """An operator that stops the job started by ``start_task_id`` (read from its XCom)."""

    @abstractmethod
    def sensor(self, task_id: str, start_task_id: str, **kwargs: Any) -> Any:
        """A sensor on the job started by ``start_task_id``."""

    @abstractmethod
    def stop_results(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        """The per-job entries (``stopped``, ``state``, ...) of a stop operator's result."""

    def expected_fields(self, job_name: str) -> dict[str, Any]:
        """Fields a start result of ``job_name`` has besides the common ones."""
        return {}

    # -- the emulator ------------------------------------------------------------------------------

    def fail_job(
        self, emulator: EmulatorControl, job: str, *, phase: str, after_seconds: float = 0.0
    ) -> None:
        emulator.fail_job(job, self.error_text, platform=self.name, phase=phase, after_seconds=after_seconds)

    def inject_fault(self, emulator: EmulatorControl, kind: str, operation: str, **kwargs: Any) -> None:
        emulator.inject_fault(kind, platform=self.name, operation=operation, **kwargs)

    def calls(self, emulator: EmulatorControl) -> dict[str, int]:
        """API calls by operation since the last reset."""
        return dict(emulator.counters().get(self.name, {}).get("calls", {}))

    def faults_fired(self, emulator: EmulatorControl) -> int:
        return int(emulator.counters().get(self.name, {}).get("faults_fired", 0))

    @abstractmethod
    def active_runs(self, emulator: EmulatorControl, job: str) -> list[str]:
        """The ids of the runs of ``job`` (by name) that are starting or running on the emulator."""

    @abstractmethod
    def start_counts(self, emulator: EmulatorControl, job: str) -> dict[str, int]:
        """Every counter that counts a start of ``job``, by name: all 1 after one start, all 0 before."""
