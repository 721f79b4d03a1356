"""The lab every test that needs it shares (integration, fiabilite…): the example territory's first school, started once per session.

Fixtures:
- ``territoire_exemple``: the validated example territory (``inventaire/``);
- ``ecole_labo``: its first school (``EcoleChargee``), the one the lab builds;
- ``plan_labo``: the ``PlanLabo`` derived from that school's manifest (3 PCs, its switches, its policy);
- ``labo``: the running ``Labo`` (session-scoped, torn down even when a test fails);
- ``acces_labo``: ``labo.etat()["acces"]`` (ssh key, technician account, proxy URL, log paths…).
Tests that need root and the lab are marked ``labo`` and skipped with the reason when a prerequisite is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.labo.depuis_manifeste import ecole_par_defaut, plan_depuis_ecole
from ardoise.labo.labo import Labo
from ardoise.labo.plan import PlanLabo

RACINE = Path(__file__).resolve().parents[1]


def manque_prerequis_labo() -> str | None:
    if os.geteuid() != 0:
        return "le labo demande root"
    for outil in ("debootstrap", "systemd-nspawn", "squid", "e2guardian", "dnsmasq", "nft", "dhclient"):
        if shutil.which(outil) is None:
            return f"{outil} absent : lancez scripts/installer-labo.sh (make test le fait)"
    return None


@pytest.fixture(scope="session")
def territoire_exemple() -> Territoire:
    return charger(RACINE / "inventaire")


@pytest.fixture(scope="session")
def ecole_labo(territoire_exemple: Territoire) -> EcoleChargee:
    return ecole_par_defaut(territoire_exemple)


@pytest.fixture(scope="session")
def plan_labo(territoire_exemple: Territoire, ecole_labo: EcoleChargee) -> PlanLabo:
    os.environ.setdefault("ARDOISE_COFFRE_MDP", str(RACINE / "inventaire" / "coffre-demo.mdp"))
    return plan_depuis_ecole(territoire_exemple, ecole_labo, postes=3)


@pytest.fixture(scope="session")
def labo(plan_labo: PlanLabo) -> Iterator[Labo]:
    """Start the lab once for the whole test session; always stop it."""
    raison = manque_prerequis_labo()
    if raison:
        pytest.skip(raison)
    lab = Labo()
    if lab.etat().get("demarre"):
        lab.arreter()  # a lab left by a crashed run
    try:
        lab.demarrer(plan_labo, progression=lambda m: print(f"labo : {m}", file=sys.stderr))
        yield lab
    finally:
        lab.arreter()


@pytest.fixture(scope="session")
def acces_labo(labo: Labo) -> dict:
    return labo.etat()["acces"]


def ssh_poste(labo: Labo, adresse: str, commande: str, delai: float = 60, entree: str | None = None):
    """Run ``commande`` on a lab host as the technician (lab key, no known_hosts: lab hosts are rebuilt).

    Only while the lab runs: with its namespaces gone, a lab address would be routed off this machine."""
    if not labo.etat().get("demarre"):
        raise RuntimeError(f"laboratoire arrêté : pas de connexion ssh vers {adresse}")
    return subprocess.run(
        ["ssh", "-i", str(labo.cle_ssh), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
         f"technicien@{adresse}", commande],
        capture_output=True, text=True, timeout=delai, input=entree,
    )  # fmt: skip
