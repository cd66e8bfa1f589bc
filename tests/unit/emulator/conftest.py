"""The emulator these tests talk to over raw HTTP: one per module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_flinkcloud.emulator import Emulator, EmulatorControl

FAST = {"starting_seconds": 0.1, "batch_seconds": 0.2, "cancelling_seconds": 0.1, "savepoint_seconds": 0.1}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture
def control(request: pytest.FixtureRequest, emulator: Emulator) -> EmulatorControl:
    """The control client, the emulator reset; a module with ``FAST_TIMINGS = True`` gets jobs that
    start, finish and stop within tenths of a second."""
    ctl = emulator.control
    ctl.reset()
    if getattr(request.module, "FAST_TIMINGS", False):
        ctl.set_timings(**FAST)
    return ctl
