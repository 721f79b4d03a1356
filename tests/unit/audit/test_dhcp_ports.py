"""DHCP offers and switch port states against the manifest: a real lab offer (nmap XML), then what the
audit says of a second server, of a wrong router, of a silent VLAN, and of a port up but undeclared."""

from __future__ import annotations

from pathlib import Path

import pytest

from ardoise.audit import dhcp
from ardoise.audit.cibles import cibles
from ardoise.audit.commutateurs import EntreeMac, PortActif, Tables
from ardoise.audit.comparaison import ports_non_declares
from ardoise.audit.constat import Gravite
from ardoise.inventaire.chargeur import charger

RACINE = Path(__file__).resolve().parents[3]
XML = RACINE / "tests" / "fixtures" / "audit" / "dhcp-vlan10.xml"  # the lab's dnsmasq, heard from ard-tech


@pytest.fixture(scope="module")
def ecole():
    return charger(RACINE / "inventaire").ecole("0331101T")


def test_the_lab_offer_matches_the_manifest(ecole) -> None:
    offres = dhcp.lire_xml(XML.read_text(), 10)
    assert [(o.serveur, o.routeur, o.dns, o.domaine) for o in offres] == [
        ("10.11.10.1", ["10.11.10.1"], ["10.11.50.10"], "0331101t.ecoles.coteaux.example")
    ]
    assert dhcp.comparer(ecole, dhcp.Sondage(offres, testes=[10])) == []


def test_rogue_server_wrong_router_and_silent_vlan(ecole) -> None:
    bonne = dhcp.lire_xml(XML.read_text(), 10)[0]
    pirate = dhcp.Offre(10, "vlan10", "10.11.10.253", "10.11.10.128", ["10.11.10.253"], ["10.11.10.253"])
    mauvais_routeur = dhcp.Offre(20, "vlan20", "10.11.20.1", "10.11.20.120", ["10.11.20.254"], ["10.11.50.10"],
                                 "0331101t.ecoles.coteaux.example", "255.255.255.0")  # fmt: skip
    s = dhcp.Sondage([bonne, pirate, mauvais_routeur], testes=[10, 20, 30])
    trouves = {(k.code, k.sujet): k.gravite for k in dhcp.comparer(ecole, s)}
    assert trouves == {
        ("dhcp-pirate", "10:10.11.10.253"): Gravite.critique,  # pupil VLAN
        ("dhcp-different", "20:routeur"): Gravite.moyenne,
        ("dhcp-absent", "30:absent"): Gravite.haute,
    }


def test_only_vlans_with_a_dhcp_range_and_an_interface_are_asked(ecole, monkeypatch) -> None:
    from ipaddress import IPv4Address

    monkeypatch.setattr(dhcp, "interfaces_locales", lambda: {IPv4Address("10.11.50.254"): "vlan50"})
    s = dhcp.sonder(ecole)  # VLAN 50 has no DHCP range; 10-40 have one but no interface here
    assert s.testes == [] and sorted(s.non_testes) == [10, 20, 30, 40] and not s.commandes


def test_a_port_up_but_undeclared_is_reported(ecole) -> None:
    mac = "b8:27:eb:5c:0f:42"
    tables = Tables(
        macs=[EntreeMac("sw-jean-jaures-1", "Gi1/0/11", 10, mac), EntreeMac("sw-jean-jaures-1", "Gi1/0/1", 10, "02:00:00:00:00:01")],
        actifs=[PortActif("sw-jean-jaures-1", "Gi1/0/1"), PortActif("sw-jean-jaures-1", "Gi1/0/11"),
                PortActif("sw-jean-jaures-2", "1")],
    )  # fmt: skip
    constats = ports_non_declares(cibles(ecole), tables)
    assert [(k.code, k.sujet, k.gravite) for k in constats] == [
        ("port-non-declare", "sw-jean-jaures-1 Gi1/0/11", Gravite.moyenne)
    ]
    assert mac in constats[0].preuve and "02:00:00:00:00:01" not in constats[0].preuve
