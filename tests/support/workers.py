"""Operators run as a worker's task runner runs them, for tests where workers race or get killed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class WorkerTI:
    """What ``execute`` needs of a task instance outside a DAG run: somewhere to push XComs (and the
    try counters a sensor's poke loop reads)."""

    try_number = 1
    max_tries = 0

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any, **kwargs: Any) -> None:
        self.xcom[key] = value


def execute(task: Any, ti: WorkerTI | None = None) -> Any:
    _as_in_a_worker_thread()
    return task.execute({"ti": ti or WorkerTI()})


def _as_in_a_worker_thread() -> None:
    """Airflow 2's guard against ``execute`` outside a task keeps a thread-local set up by the main
    thread only; give this thread its own, as a task runner's thread has."""
    try:
        from airflow.models.baseoperator import ExecutorSafeguard
    except ImportError:
        return
    sentinel = getattr(ExecutorSafeguard, "_sentinel", None)
    if sentinel is not None and not hasattr(sentinel, "callers"):
        sentinel.callers = {}


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads at once; each result, or the exception it raised."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        time.sleep(0.05)


class Background:
    """``execute`` of a task in a worker thread, as a task runner runs it; ``join`` gives its outcome."""

    def __init__(self, task: Any) -> None:
        self.ti = WorkerTI()
        self.outcome: Any = None
        self.thread = threading.Thread(target=self._run, args=(task,))
        self.thread.start()

    def _run(self, task: Any) -> None:
        try:
            self.outcome = execute(task, self.ti)
        except Exception as exc:
            self.outcome = exc

    def join(self) -> Any:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive()
        return self.outcome
