"""One real lab per test session (session-scoped), torn down even when a test fails."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from ipaddress import IPv4Address as A
from ipaddress import IPv4Network as N

import pytest

from ardoise.labo.labo import Labo
from ardoise.labo.plan import CommutateurLabo, PlanLabo, PortLabo, PosteLabo, SiteInternet, VlanLabo

MOT_DE_PASSE_COMMUTATEUR = "Mdp-Labo-Test-4b2e"


def _manque_prerequis() -> str | None:
    if os.geteuid() != 0:
        return "le labo demande root"
    for outil in ("debootstrap", "systemd-nspawn", "squid", "e2guardian", "dnsmasq", "nft", "dhclient"):
        if shutil.which(outil) is None:
            return f"{outil} absent : lancez scripts/installer-labo.sh"
    return None


@pytest.fixture(scope="session")
def plan_labo() -> PlanLabo:
    """The school the lab tests run against (the lead will derive it from the example territory)."""
    vlans = (
        VlanLabo(10, "PEDA", "pedagogique", N("10.200.10.0/24"), A("10.200.10.1"), A("10.200.10.100"), A("10.200.10.199")),
        VlanLabo(99, "GESTION", "gestion", N("10.200.99.0/24"), A("10.200.99.1")),
    )  # fmt: skip
    postes = (
        PosteLabo("pc-peda-01", 10, A("10.200.10.11"), "02:ad:00:00:10:01"),
        PosteLabo("pc-peda-02", 10, A("10.200.10.12"), "02:ad:00:00:10:02"),
    )
    commutateurs = (
        CommutateurLabo(
            nom="sw-test",
            plateforme="cisco_ios",
            adresse=A("10.200.99.2"),
            port_ssh=22,
            vlan_gestion=99,
            utilisateur="technicien",
            mot_de_passe=MOT_DE_PASSE_COMMUTATEUR,
            vlans=((10, "PEDA"), (99, "GESTION")),
            ports=(
                PortLabo("GigabitEthernet0/1", "acces", 10, (), "Salle 12"),
                PortLabo("GigabitEthernet0/24", "trunk", None, (10, 99), "Lien serveur"),
            ),
        ),
    )
    sites = (
        SiteInternet("ent.test-ardoise.fr", "ent"),
        SiteInternet("gar.test-ardoise.fr", "gar"),
        SiteInternet("jeux-argent.test-ardoise.fr", "bloque", "gambling"),
        SiteInternet("actu.test-ardoise.fr", "general"),
    )
    return PlanLabo(
        uai="0330001A",
        nom_ecole="École de test du labo",
        domaine="0330001a.ecole.lan",
        vlans=vlans,
        serveur_nom="srv-ecole",
        serveur_vlan=99,
        proxy_port=8080,
        dns=(A("10.200.99.1"),),
        postes=postes,
        commutateurs=commutateurs,
        sites=sites,
        categories_bloquees=("adult", "gambling", "malware", "phishing"),
    )


@pytest.fixture(scope="session")
def labo(plan_labo: PlanLabo) -> Iterator[Labo]:
    """Start the lab once for the session; always stop it."""
    raison = _manque_prerequis()
    if raison:
        pytest.skip(raison)
    lab = Labo()
    try:
        lab.demarrer(plan_labo, progression=lambda m: print(f"labo : {m}", file=sys.stderr))
        yield lab
    finally:
        lab.arreter()
