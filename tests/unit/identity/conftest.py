"""Shared fixtures for the identity domain tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from brokerql.domain.identity.passwords import Passwords

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    """A low-cost hasher: the tests check behaviour, not brute-force resistance."""
    return Passwords(time_cost=1, memory_cost=8, parallelism=1)
