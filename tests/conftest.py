"""Shared fixtures: a real PostgreSQL server and the lab (each started once per session when a test asks)."""

from __future__ import annotations

import pytest

from tests.labo_commun import (  # noqa: F401  (session fixtures shared by every test directory)
    acces_labo,
    ecole_labo,
    labo,
    plan_labo,
    territoire_exemple,
)
from tests.postgresql import serveur_postgresql


@pytest.fixture(scope="session")
def url_postgresql():
    with serveur_postgresql() as url:
        yield url
