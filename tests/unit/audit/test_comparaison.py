"""The audit's comparison logic on a real nmap XML report produced in the lab (rogue host plugged into the
pupil VLAN, pc-jean-jaures-03 re-patched into VLAN 20), against the example territory's manifest."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from ardoise.audit.cibles import cibles
from ardoise.audit.commutateurs import EntreeMac, Tables, cle_port
from ardoise.audit.comparaison import comparer
from ardoise.audit.constat import Gravite
from ardoise.audit.decouverte import commande_nmap, lire_xml
from ardoise.inventaire.chargeur import charger

RACINE = Path(__file__).resolve().parents[3]
XML = RACINE / "tests" / "fixtures" / "audit" / "nmap-labo-intrus-vlan.xml"
LABO = ["pc-jean-jaures-03", "pc-jean-jaures-04", "pc-jean-jaures-05", "srv-jean-jaures", "sw-jean-jaures-1",
        "sw-jean-jaures-2"]  # fmt: skip
TECHNICIEN = {IPv4Address(f"10.11.{v}.254") for v in (10, 20, 30, 40, 50, 99)}  # the scanning machine's legs


@pytest.fixture(scope="module")
def ecole():
    return charger(RACINE / "inventaire").ecole("0331101T")


def test_target_list_is_exactly_the_school_subnets(ecole, tmp_path: Path) -> None:
    c = cibles(ecole)
    reseaux = [str(v.reseau) for v in ecole.modele.vlans]
    assert c.liste_nmap() == reseaux
    cmd = commande_nmap(c, tmp_path / "x.xml")
    assert cmd[-len(reseaux) :] == reseaux
    assert not [
        a for a in cmd[1 : -len(reseaux)] if "/" in a and a != str(tmp_path / "x.xml")
    ]  # no other target
    assert cibles(ecole, vlans=[10]).liste_nmap() == ["10.11.10.0/24"]


def test_real_xml_rogue_host_and_wrong_vlan(ecole) -> None:
    hotes = lire_xml(XML.read_text())
    assert all(any(h.ip in IPv4Network(r) for r in cibles(ecole).liste_nmap()) for h in hotes)
    vus, constats = comparer(cibles(ecole, attendus=LABO), hotes, locales=TECHNICIEN)
    par_code = {(k.code, k.sujet): k for k in constats}
    intrus = par_code[("hote-inconnu", "b8:27:eb:5c:0f:42")]
    assert intrus.gravite is Gravite.haute  # pupil VLAN (critique on admin/servers/management VLANs)
    assert "Raspberry Pi Foundation" in intrus.preuve and "10.11.10.253" in intrus.preuve
    deplace = par_code[("mauvais-vlan", "pc-jean-jaures-03")]
    assert deplace.gravite is Gravite.haute and "VLAN 20 au lieu de 10" in deplace.titre
    assert set(par_code) == {("hote-inconnu", "b8:27:eb:5c:0f:42"), ("mauvais-vlan", "pc-jean-jaures-03")}
    hote_intrus = next(h for h in vus if h.mac == "b8:27:eb:5c:0f:42")
    details = hote_intrus.details()
    assert details["declare"] is False and details["fournisseur"] == "Raspberry Pi Foundation"
    assert {"mac", "nom", "modele", "os", "ip", "vlan", "port", "fournisseur"} <= set(details)


def test_declared_pc_missing_and_switch_evidence(ecole) -> None:
    hotes = [h for h in lire_xml(XML.read_text()) if h.ip != IPv4Address("10.11.10.13")]  # pc-04 silent
    tables = Tables(macs=[EntreeMac("sw-jean-jaures-1", "Gi1/0/4", 10, "b8:27:eb:5c:0f:42"),
                          EntreeMac("sw-jean-jaures-1", "Gi1/0/2", 10, "02:a0:0b:10:00:03")])  # fmt: skip
    _, constats = comparer(cibles(ecole, attendus=LABO), hotes, tables, locales=TECHNICIEN)
    absent = next(k for k in constats if k.code == "hote-absent")  # the switch has not aged its MAC out yet
    assert (absent.sujet, absent.gravite) == ("pc-jean-jaures-04", Gravite.moyenne)
    assert "encore dans la table de sw-jean-jaures-1 (port Gi1/0/2)" in absent.preuve
    intrus = next(k for k in constats if k.code == "hote-inconnu")
    assert "port Gi1/0/4 de sw-jean-jaures-1" in intrus.preuve


def test_unknown_host_on_guest_wifi_is_not_a_finding(ecole) -> None:
    c = cibles(ecole, attendus=[])
    invite = EntreeMac("sw-jean-jaures-1", "GigabitEthernet1/0/21", 40, "3c:22:fb:00:00:01")
    _, constats = comparer(c, [], Tables(macs=[invite]))
    assert constats == []
    admin = EntreeMac("sw-jean-jaures-1", "GigabitEthernet1/0/9", 20, "3c:22:fb:00:00:02")
    _, constats = comparer(c, [], Tables(macs=[admin]))
    assert [(k.code, k.gravite) for k in constats] == [("hote-inconnu", Gravite.critique)]


def test_port_names_compare_across_spellings() -> None:
    assert cle_port("Gi1/0/1") == cle_port("GigabitEthernet1/0/1")
    assert cle_port("Gi1/0/1") != cle_port("Gi1/0/10")
    assert cle_port("1/1/3") == cle_port("1/1/3")
