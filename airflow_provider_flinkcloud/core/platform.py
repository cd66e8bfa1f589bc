"""What a platform supplies to the job lifecycle, without Airflow.

Each platform's hook implements :class:`JobPlatform`; the operators, sensors and triggers are generic
over the hook, so they call these methods on a typed object. A validated spec names one or more
*units*, each one remote job: the lifecycle finds, starts and watches each unit. Most platforms run
one job per spec and keep the defaults.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError
from airflow_provider_flinkcloud.core.jobs import JobRef, JobStatus, Savepoint
from airflow_provider_flinkcloud.core.states import ACTIVE_STATES
from airflow_provider_flinkcloud.core.transport import ApiCall, T

log = logging.getLogger(__name__)


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

    def find_started(self, unit: Any, since: float) -> JobRef | None:
        """After a start whose reply was lost: the run it may have made (active, started since
        ``since``, epoch seconds). By default the active run ``find_active`` sees."""
        return self.find_active(unit)

    def older_active(self, unit: Any, ref: JobRef) -> JobRef | None:
        """Right after starting ``ref``: an older active run of the same job, started by someone else
        at the same moment. The lifecycle then stops ``ref`` and reattaches to the older run. A platform
        whose start cannot make a second run (a unique key, a client token) keeps the default."""
        return None

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
        self.cancel(ref)
        return None

    def cancel(self, ref: JobRef) -> None:
        """Ask the platform to stop the job; when the call fails, the job's status decides."""
        try:
            self.call(self.cancel_call(ref))
        except FlinkCloudApiError as exc:
            self.confirm_stopping([ref], exc)

    def confirm_stopping(self, refs: Sequence[JobRef], error: FlinkCloudApiError) -> None:
        """After a stop request failed (its reply lost, or refused as already stopping): raise ``error``
        unless every job is stopping or stopped, which is what the request asked for."""
        for ref in refs:
            status = self.call(self.status_call(ref))
            if self.is_active(status):
                raise error
            log.warning(
                "The stop request failed (%s), but %s is %s (native state %s), not running",
                error,
                self.describe(ref),
                status.state.value,
                status.native_state,
            )

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
