"""Fixtures for the inventory tests (helpers live in ``bac_inventaire``, imported by the tests).

``bac``: a copy of ``inventaire/`` and ``profils_terminaux/`` in ``tmp_path`` (same relative layout,
so the territory's ``profils: ../profils_terminaux`` still works), to edit and validate.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.inventaire.bac_inventaire import DEPOT, Bac


@pytest.fixture
def bac(tmp_path: Path) -> Bac:
    """A fresh copy of the example territory (it validates without any problem)."""
    for dossier in ("inventaire", "profils_terminaux"):
        shutil.copytree(DEPOT / dossier, tmp_path / dossier)
    return Bac(tmp_path)
