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
