"""Shared settings for the test suite: the hypothesis profile and the plan start used throughout.

Property tests and seeded loops set their own sizes; ``ALLOCATOR_TEST_SCALE=10`` multiplies them
for a longer local run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import settings

settings.register_profile("allocator", deadline=None, print_blob=True)
settings.load_profile("allocator")


@pytest.fixture
def plan_start() -> dt.date:
    return dt.date(2026, 12, 7)


class DecideCalls(list):
    """The keyword arguments of each weekly `decide` call in this process, in call order."""

    @property
    def engines(self) -> list:
        return [call.get("engine") for call in self]

    @property
    def time_limits(self) -> list:
        return [call.get("time_limit") for call in self]


@pytest.fixture
def decide_calls(monkeypatch: pytest.MonkeyPatch) -> DecideCalls:
    """Records every weekly `decide` (run in this process: one worker), so a test sees which
    solver settings and time limit reached each weekly plan of a simulation, sweep or report."""
    import allocator.engine.planning as planning

    calls = DecideCalls()
    decide = planning.decide

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return decide(*args, **kwargs)

    monkeypatch.setattr(planning, "decide", recording)
    return calls
