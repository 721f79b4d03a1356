"""Fixtures of the tablet tests: the example territory, its demo vault password, the Wi-Fi PSK."""

from __future__ import annotations

import os

import pytest

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.coffre import reveler
from ardoise.inventaire.territoire import Territoire
from tests.aide_tablettes import MDP_COFFRE, RACINE


@pytest.fixture(scope="session", autouse=True)
def mot_de_passe_coffre() -> None:
    os.environ.setdefault("ARDOISE_COFFRE_MDP", str(MDP_COFFRE))


@pytest.fixture(scope="session")
def territoire() -> Territoire:
    return charger(RACINE / "inventaire")


@pytest.fixture(scope="session")
def psk(territoire: Territoire) -> str:
    """The clear PSK of the school's pupil Wi-Fi (to prove it appears nowhere it should not)."""
    return reveler(territoire.fichier_coffre, ["wifi_0331101t_classe"])["wifi_0331101t_classe"].reveler()
