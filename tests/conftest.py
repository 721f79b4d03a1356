"""Shared fixtures: a real PostgreSQL server (started once per session when a test asks for it)."""

from __future__ import annotations

import pytest

from tests.postgresql import serveur_postgresql


@pytest.fixture(scope="session")
def url_postgresql():
    with serveur_postgresql() as url:
        yield url
