"""What a platform supplies to the job lifecycle, without Airflow.

Each platform's hook implements :class:`JobPlatform`; the operators, sensors and triggers are generic
over the hook, so they call these methods on a typed object. A validated spec names one or more
*units*, each one remote job: the lifecycle finds, starts and watches each unit. Most platforms run
one job per spec and keep the defaults.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.states import ACTIVE_STATES
from airflow_provider_flinkcloud.core.transport import ApiCall, T


class JobPlatform(ABC):
    """The job-lifecycle half of a platform hook. ``call`` sends one API call synchronously."""

    # The platform's short name (the registry's ``name``), carried in every result.
    platform_name: ClassVar[str]

    @abstractmethod
    def call(self, api_call: ApiCall[T]) -> T:
        """Send one call over the synchronous transport (with the transport's retries)."""

    @abstractmethod
    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        """Whether a read that failed this way may be repeated (from the platform's code table)."""

    @abstractmethod
    def validate_spec(self, spec: Any) -> Any:
        """Return the typed spec or raise :class:`JobSpecError` naming the field and the rule."""

    @abstractmethod
    def default_wait_for(self, spec: Any) -> str:
        """RUNNING or SUCCESS, by the job type where the platform says it."""

    def units(self, spec: Any) -> list[Any]:
        """The jobs this spec runs, each passed to ``find_active`` and ``start_many``."""
        return [spec]

    @abstractmethod
    def find_active(self, unit: Any) -> JobRef | None:
        """The ids of an active (pending or running) run of this job, if any."""

    @abstractmethod
    def start(self, unit: Any, *, restore_from: Savepoint | None = None) -> JobRef:
        """Start the job once. Never retried blindly: the lifecycle checks ``find_active`` first."""

    def start_many(self, units: Sequence[Any], restore_from: Sequence[Savepoint | None]) -> list[JobRef]:
        """Start several jobs; a platform with a batch call makes it one request."""
        return [self.start(u, restore_from=r) for u, r in zip(units, restore_from, strict=True)]

    @abstractmethod
    def status_call(self, ref: JobRef) -> ApiCall[JobStatus]:
        """One read-only call returning the normalised status (sent by the worker and the trigger)."""

    @abstractmethod
    def cancel_call(self, ref: JobRef) -> ApiCall[Any]:
        """One call asking the platform to stop the job, without a savepoint."""

    def is_active(self, status: JobStatus) -> bool:
        """Whether the job is running or about to, so that there is something to reattach to or stop."""
        return status.state in ACTIVE_STATES

    def is_stopped(self, status: JobStatus) -> bool:
        """Whether a job that was asked to stop has stopped."""
        return status.state.is_terminal

    def stop_error(self, status: JobStatus) -> str | None:
        """The platform's text when it reports that stopping the job failed."""
        return None

    def stop(self, ref: JobRef, *, savepoint: bool) -> Savepoint | None:
        """Ask the platform to stop the job; with ``savepoint`` take one first where the platform can."""
        self.call(self.cancel_call(ref))
        return None

    def stop_many(self, refs: Sequence[JobRef], *, savepoint: bool) -> list[Savepoint | None]:
        """Stop several jobs; a platform with a batch call makes it one request."""
        return [self.stop(ref, savepoint=savepoint) for ref in refs]

    def failure_text(self, status: JobStatus) -> str:
        """The platform's own error text for a failed job."""
        return status.error or f"the platform gave no error text (native state {status.native_state})"

    @abstractmethod
    def describe(self, ref: JobRef) -> str:
        """Human name of the job run, e.g. ``Volcengine Flink instance 123 of application 456``."""

    @abstractmethod
    def link_params(self, refs: Sequence[JobRef]) -> dict[str, str]:
        """What the console link of a task over ``refs`` needs (stored in XCom, formatted on display)."""
