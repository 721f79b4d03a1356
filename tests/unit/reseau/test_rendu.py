"""Rendering: golden files per platform for the example territory, byte-stable re-rendering, no secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.selection import Selection
from ardoise.reseau.diff import Preparation, comparer
from ardoise.reseau.plateformes import Perimetre, plateforme
from ardoise.reseau.rendu import cibles, rendre

RACINE = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"
REGENERER = os.environ.get("ARDOISE_REGENERER_GOLDEN") == "1"


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


def _cibles(territoire):
    return list(cibles(territoire, Selection()))


def test_every_platform_is_covered(territoire) -> None:
    plateformes = {c.commutateur.plateforme.value for c in _cibles(territoire)}
    assert plateformes == {"cisco_ios", "hp_procurve", "aruba_aoscx"}
    assert len(_cibles(territoire)) == 7


def test_golden_files_and_byte_stable_rendering(territoire) -> None:
    for cible in _cibles(territoire):
        texte = rendre(cible.ecole, cible.commutateur)
        assert texte == rendre(cible.ecole, cible.commutateur)  # byte-stable
        fichier = GOLDEN / f"{cible.nom}.{cible.commutateur.plateforme.value}.cfg"
        if REGENERER:
            fichier.write_text(texte, encoding="utf-8")
        assert fichier.read_text(encoding="utf-8") == texte, (
            f"{fichier.name} differs: ARDOISE_REGENERER_GOLDEN=1"
        )


def test_rendering_has_the_required_features(territoire) -> None:
    attendus = {
        "cisco_ios": ["hostname ", "interface Vlan99", "spanning-tree portfast", "ip dhcp snooping trust",
                      "ntp server ", "logging host ", "snmp-server user supervision ARDOISE v3 auth sha ********",
                      "username ardoise privilege 15 secret 0 ********", "banner motd ^C", "ip name-server "],
        "hp_procurve": ['hostname "', "admin-edge-port", "dhcp-snooping trust", "ntp server ", "logging ",
                        'snmpv3 user "supervision" auth sha "********"', 'password manager user-name "ardoise"',
                        "untagged 1-8", "ip dns server-address"],
        "aruba_aoscx": ["hostname ", "interface vlan 99", "spanning-tree port-type admin-edge",
                        "dhcpv4-snooping trust", "ntp server ", "snmpv3 user supervision", "user ardoise group"],
    }  # fmt: skip
    for cible in _cibles(territoire):
        texte = rendre(cible.ecole, cible.commutateur)
        for fragment in attendus[cible.commutateur.plateforme.value]:
            assert fragment in texte, (cible.nom, fragment)
        assert "public" not in texte


def test_rendering_parses_with_hier_config_and_is_its_own_fixed_point(territoire) -> None:
    for cible in _cibles(territoire):
        texte = rendre(cible.ecole, cible.commutateur)
        for perimetre in Perimetre:
            prep = Preparation(plateforme(cible.commutateur.plateforme), perimetre)
            assert comparer(prep, texte, texte).conforme


PAIRES = {"cisco_ios": ("sw-jean-jaures-1", "sw-le-bourg-1"), "hp_procurve": ("sw-jean-jaures-2", "sw-le-lac-1"),
          "aruba_aoscx": ("sw-les-tilleuls-1", "sw-les-pins-1")}  # fmt: skip


@pytest.mark.parametrize("nom_plateforme", sorted(PAIRES))
def test_circular_remediation_and_rollback(territoire, nom_plateforme: str) -> None:
    """hier_config's circular test: running + remediation = generated; generated + rollback = running."""
    from hier_config import WorkflowRemediation

    par_nom = {c.nom: c for c in _cibles(territoire)}
    a, b = (par_nom[n] for n in PAIRES[nom_plateforme])
    for perimetre in Perimetre:
        prep = Preparation(plateforme(nom_plateforme), perimetre)
        courant = prep.arbre(rendre(a.ecole, a.commutateur))
        voulu = prep.arbre(rendre(b.ecole, b.commutateur))
        flux = WorkflowRemediation(courant, voulu)
        assert flux.remediation_config.children, "the two schools must differ"
        futur = courant.future(flux.remediation_config)
        assert not list(futur.difference(voulu).all_children()), (perimetre, futur.difference(voulu))
        assert not list(voulu.difference(futur).all_children()), perimetre
        passe = voulu.future(flux.rollback_config)
        assert not list(passe.difference(courant).all_children()), perimetre
        assert not list(courant.difference(passe).all_children()), perimetre
