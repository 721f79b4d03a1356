"""Platform differences, as data (the way hier_config's drivers are data).

One :class:`Plateforme` per switch family: its netmiko driver, its hier_config platform, its show
commands and the ntc-templates behind them, how it writes lists, which lines carry secrets, which lines
Ardoise never manages, and the two perimeters (``complet``: the whole generated config;
``commutation``: hostname, VLANs and physical ports only, what the lab's emulators implement).
The lifecycle (application.py) and the templates read these fields; neither tests a platform name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from hier_config import MatchRule, Platform, get_hconfig_driver
from hier_config.models import IdempotentCommandsRule
from hier_config.platforms.driver_base import HConfigDriverBase


class Perimetre(StrEnum):
    """What part of the configuration Ardoise compares and pushes."""

    complet = "complet"
    commutation = "commutation"


@dataclass(frozen=True)
class LigneSecrete:
    """A configuration line holding a secret: compared on ``prefixe`` only, shown with a mask.

    ``motif`` is a regex on the stripped line whose group 1 is the stable part (user name…); the rest
    (clear password, hash, key) is never compared, printed, logged nor stored.
    """

    motif: str

    def prefixe(self, ligne: str) -> str | None:
        m = re.match(self.motif, ligne)
        return m.group(1) if m else None


@dataclass(frozen=True)
class Plateforme:
    nom: str
    netmiko: str
    hier_config: Platform
    gabarit: str
    show_running: str
    show_vlans: str  # parsed with ntc-templates (TextFSM)
    sauver: tuple[str, ...]  # netmiko save_config() is used when empty
    erreur: str  # regex of the device's "invalid command" answer, raises during a push
    fin_config: str | None  # sent at the end of a configuration set (AOS-CX: "exit" to leave contexts)
    plages_ports: bool  # ProCurve-style membership lists "1-8,10" (VLAN-centric syntax)
    separateur_vlans: str  # in a VLAN list: "10,20" (IOS, AOS-CX) or "10 20" (ProCurve dhcp-snooping)
    nom_interface_gestion: str  # "Vlan{id}" / "vlan {id}" / "" (ProCurve: address inside the VLAN)
    interface_virtuelle: str  # regex on an "interface …" line that is not a physical port
    lignes_secretes: tuple[LigneSecrete, ...]
    invisibles: tuple[str, ...]  # lines the device never shows back (cannot be compared)
    ignorees: tuple[
        str, ...
    ]  # regexes on a line path "parent > child": never managed, whatever the perimeter
    commutation: tuple[str, ...]  # regexes on a top-level line: what the "commutation" perimeter keeps
    commutation_ignorees: tuple[str, ...] = ()  # path regexes also left out in "commutation"
    # extra hier_config idempotent rules (lineage of regexes): a new value replaces the old one, no "no …"
    idempotentes: tuple[tuple[str, ...], ...] = ((r"^hostname ",),)
    vlans_textfsm: dict[str, str] = field(default_factory=dict)  # field names in the parsed rows
    show_macs: str = ""  # MAC address table, parsed with ntc-templates (used by the audit)
    show_arp: str = ""  # ARP table, parsed with ntc-templates (used by the audit)
    show_ports: str = ""  # each port's link state, parsed with ntc-templates (used by the audit)
    # regexes (multiline) a COMPLETE running config always matches: a read missing one was cut short
    marqueurs_running: tuple[str, ...] = (r"^hostname ",)


PLATEFORMES: dict[str, Plateforme] = {
    "cisco_ios": Plateforme(
        nom="cisco_ios",
        netmiko="cisco_ios",
        hier_config=Platform.CISCO_IOS,
        gabarit="cisco_ios.j2",
        show_running="show running-config",
        show_vlans="show vlan brief",
        sauver=(),
        erreur=r"% Invalid input|% Incomplete command|% Ambiguous command",
        fin_config=None,
        plages_ports=False,
        separateur_vlans=",",
        nom_interface_gestion="Vlan{id}",
        interface_virtuelle=r"^interface (Vlan|Loopback|Port-channel)",
        lignes_secretes=(
            LigneSecrete(r"^(username \S+ privilege \d+ secret)\b"),
            LigneSecrete(r"^(username \S+ secret)\b"),
            LigneSecrete(r"^(enable secret)\b"),
            LigneSecrete(r"^(snmp-server user \S+ \S+ v3)\b"),
        ),
        # IOS never prints SNMPv3 users in the running config (RFC 3414 keys are localised)
        invisibles=(r"^snmp-server user ",),
        ignorees=(
            r"^version ",
            r"^no service pad$",
            r"^end$",
            r"^vlan 1$",
            r"^Building configuration",
            r"^Current configuration",
        ),  # fmt: skip
        commutation=(r"^hostname ", r"^vlan \d+$", r"^interface (?!Vlan|Loopback|Port-channel)"),
        commutation_ignorees=(r"^interface \S+ > (spanning-tree|ip dhcp snooping)",),
        idempotentes=((r"^hostname ",), (r"^vlan ", r"^name ")),
        vlans_textfsm={"id": "vlan_id", "nom": "vlan_name"},
        show_macs="show mac address-table",
        show_arp="show ip arp",
        show_ports="show interfaces status",
        marqueurs_running=(r"^hostname ", r"^end\s*$"),  # IOS ends every running config with "end"
    ),
    "hp_procurve": Plateforme(
        nom="hp_procurve",
        netmiko="hp_procurve",
        hier_config=Platform.HP_PROCURVE,
        gabarit="hp_procurve.j2",
        show_running="show running-config",
        show_vlans="show vlans",
        sauver=("write memory",),
        erreur=r"Invalid input|Module not present|Ambiguous input",
        fin_config=None,
        plages_ports=True,
        separateur_vlans=" ",
        nom_interface_gestion="",
        interface_virtuelle=r"^interface (Trk|loopback)",
        lignes_secretes=(
            LigneSecrete(r'^(password (manager|operator) user-name "?[^" ]+"?)'),
            LigneSecrete(r'^(snmpv3 user "?[^" ]+"?)'),
        ),
        invisibles=(),
        ignorees=(r"^;", r"^module \d+ type", r"^Running configuration", r"^vlan 1 > ", r"^vlan 1$"),
        commutation=(r"^hostname ", r"^vlan \d+$", r"^interface (?!Trk|loopback)"),
        commutation_ignorees=(r"^vlan \d+ > (no )?ip address", r"^vlan \d+ > dhcp-snooping"),
        idempotentes=(
            (r"^hostname ",),
            (r"^vlan ", r"^name "),
            (r"^vlan ", r"^(no )?ip address"),
            (r"^banner motd",),
        ),  # fmt: skip
        vlans_textfsm={"id": "vlan_id", "nom": "vlan_name"},
        show_macs="show mac-address",
        show_arp="show arp",
        show_ports="show interfaces brief",
    ),
    "aruba_aoscx": Plateforme(
        nom="aruba_aoscx",
        netmiko="aruba_aoscx",
        hier_config=Platform.ARUBA_AOSCX,
        gabarit="aruba_aoscx.j2",
        show_running="show running-config",
        show_vlans="show vlan",
        sauver=("write memory",),
        erreur=r"% Invalid input|% Ambiguous|cannot be deleted|not found",
        fin_config="end",
        plages_ports=False,
        separateur_vlans=",",
        nom_interface_gestion="vlan {id}",
        interface_virtuelle=r"^interface (vlan|mgmt|loopback|lag)",
        lignes_secretes=(
            LigneSecrete(r"^(user \S+ group \S+ password)\b"),
            LigneSecrete(r"^(snmpv3 user \S+)\b"),
        ),
        invisibles=(),
        ignorees=(
            r"^!",
            r"^Current configuration",
            r"^vlan 1$",
            r"^ssh server vrf",
            r"^https-server vrf",
            r"^interface mgmt",
        ),  # fmt: skip
        commutation=(r"^hostname ", r"^vlan \d+$", r"^interface \d+/\d+/\d+$"),
        commutation_ignorees=(
            r"^interface \S+ > (spanning-tree|dhcpv4-snooping)",
            r"^vlan \d+ > dhcpv4-snooping",
        ),  # fmt: skip
        idempotentes=((r"^hostname ",), (r"^vlan ", r"^name "), (r"^interface ", r"^description ")),
        vlans_textfsm={"id": "vlan_id", "nom": "vlan_name"},
        show_macs="show mac-address-table",
        show_arp="show arp all-vrfs",
        show_ports="show interface",
    ),
}


@lru_cache(maxsize=8)
def pilote(nom: str) -> HConfigDriverBase:
    """hier_config's driver for the platform, with Ardoise's extra idempotent rules."""
    p = PLATEFORMES[nom]
    driver = get_hconfig_driver(p.hier_config)
    for lignee in p.idempotentes:
        regle = IdempotentCommandsRule(match_rules=tuple(MatchRule(re_search=m) for m in lignee))
        driver.rules.idempotent_commands.append(regle)
    return driver


def plateforme(nom: str) -> Plateforme:
    from ardoise.erreurs import ErreurUsage

    try:
        return PLATEFORMES[str(nom)]
    except KeyError:
        raise ErreurUsage(
            f"plateforme « {nom} » non prise en charge ; plateformes : {', '.join(PLATEFORMES)}"
        ) from None
