"""One job state model for every platform."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

log = logging.getLogger(__name__)


class JobState(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    PAUSED = "PAUSED"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    def __str__(self) -> str:
        return self.value


TERMINAL_STATES = frozenset({JobState.SUCCESS, JobState.FAILED, JobState.CANCELED})
ACTIVE_STATES = frozenset({JobState.PENDING, JobState.RUNNING, JobState.PAUSED})


def parse_target_states(states: str | JobState | Iterable[str | JobState]) -> frozenset[JobState]:
    """Validate user-given target states (``{"SUCCESS"}``), naming the bad value.

    One state may be given on its own: ``"RUNNING"`` means ``{"RUNNING"}``, not its letters.
    """
    if isinstance(states, str | JobState):
        states = [states]
    elif states is None or isinstance(states, Mapping) or not isinstance(states, Iterable):
        raise ValueError(f"target_states: must be a job state or a set of job states, got {states!r}")
    parsed = set()
    for value in states:
        if not isinstance(value, str | JobState):
            raise ValueError(f"target_states: {value!r} is not a job state (give the names as text)")
        try:
            parsed.add(JobState(str(value).strip().upper()))
        except ValueError:
            allowed = ", ".join(s.value for s in JobState)
            raise ValueError(f"target_states: {value!r} is not a job state (allowed: {allowed})") from None
    if not parsed:
        raise ValueError("target_states: must name at least one job state")
    return frozenset(parsed)


@dataclass(frozen=True)
class StateTable:
    """A platform's complete native-state mapping; an unmapped value becomes UNKNOWN and is logged."""

    platform: str
    mapping: Mapping[str, JobState]
    _warned: set[str] = field(default_factory=set, compare=False, repr=False)

    def __call__(self, native_state: str | None) -> JobState:
        if native_state is None:
            return JobState.UNKNOWN
        state = self.mapping.get(native_state)
        if state is None:
            if native_state not in self._warned:
                self._warned.add(native_state)
                log.warning(
                    "%s reported state %r, which this provider does not know; treating it as UNKNOWN "
                    "and polling on",
                    self.platform,
                    native_state,
                )
            return JobState.UNKNOWN
        return state
