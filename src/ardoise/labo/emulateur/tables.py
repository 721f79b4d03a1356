"""MAC address table and ARP table of an emulated switch: a STAND-IN fed by the lab.

fake-switches has no forwarding plane, so an emulated switch cannot learn MAC addresses from
traffic. The lab knows its wiring (which PC's veth stands for which switch port, in which VLAN,
see :mod:`ardoise.labo.commutateurs`) and writes it to the switch's ``fichier_macs`` (JSON)::

    {"macs": [{"mac": "02:a0:0b:10:00:02", "vlan": 10, "port": "GigabitEthernet1/0/1"}],
     "arp": [{"ip": "10.11.99.1", "mac": "…", "vlan": 99, "port": "GigabitEthernet1/0/24"}]}

The file is read at every ``show``, so a fault that moves a PC (or plugs a rogue host in) shows up
at once. The layouts below are those ntc-templates parses for each platform.

Port link state (``show interfaces status`` / ``show interfaces brief`` / ``show interface``) is fed the
same way: ``"actifs": [{"port": "GigabitEthernet1/0/11", "vlan": 10}]`` lists the ports with something
plugged in, including ports the manifest does not declare (the emulator only knows declared ports: the
others of the real box are listed only when something is plugged into them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ardoise.labo.emulateur.commun import cle_naturelle

MACS_CPU_CISCO = ["0100.0ccc.cccc", "0100.0ccc.cccd", "0180.c200.0000", "0180.c200.0001"]


def lire(fichier: Path | None) -> dict[str, list[dict]]:
    """The fed tables (empty when the lab wrote none, or the file is being replaced)."""
    vide: dict[str, list[dict]] = {"macs": [], "arp": [], "actifs": []}
    if fichier is None:
        return vide
    try:
        donnees = json.loads(Path(fichier).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return vide
    return {k: list(donnees.get(k, [])) for k in vide}


def _hex(mac: str) -> str:
    return mac.replace(":", "").replace("-", "").replace(".", "").lower()


PREFIXES_CISCO = {"GigabitEthernet": "Gi", "FastEthernet": "Fa", "TenGigabitEthernet": "Te",
                  "TwoGigabitEthernet": "Tw", "FortyGigabitEthernet": "Fo", "Ethernet": "Et"}  # fmt: skip


def court_cisco(nom: str) -> str:
    """IOS short interface name: ``GigabitEthernet1/0/11`` -> ``Gi1/0/11``."""
    m = re.fullmatch(r"([A-Za-z-]+)\s*([\d/.:]+)", nom)
    if not m:
        return nom
    return PREFIXES_CISCO.get(m.group(1), m.group(1)[:2]) + m.group(2)


@dataclass(frozen=True)
class PortConnu:
    """A port the emulator knows (from its configuration)."""

    nom: str
    description: str = ""
    vlan: str = "1"  # access VLAN, or "trunk"
    desactive: bool = False


def ports_connus(switch) -> list[PortConnu]:  # noqa: ANN001 (fake-switches SwitchConfiguration)
    """The emulator's physical ports as :class:`PortConnu`."""
    r = []
    for port in switch.get_physical_ports():
        tronc = port.mode == "trunk" or (port.access_vlan is None and bool(port.trunk_vlans))
        r.append(PortConnu(port.name, port.description or "", "trunk" if tronc else str(port.access_vlan or 1),
                           bool(port.shutdown)))  # fmt: skip
    return r


def etats_ports(connus: list[PortConnu], fichier: Path | None) -> list[tuple[PortConnu, bool]]:
    """Every known port and every fed active port, natural order, with its link state (up or not)."""
    actifs = {str(e["port"]): e for e in lire(fichier)["actifs"]}
    noms = {p.nom for p in connus}
    autres = [PortConnu(n, "", str(e.get("vlan") or 1)) for n, e in actifs.items() if n not in noms]
    tous = sorted([*connus, *autres], key=lambda p: cle_naturelle(p.nom))
    return [(p, p.nom in actifs and not p.desactive) for p in tous]


def cisco_status(connus: list[PortConnu], fichier: Path | None) -> list[str]:
    """``show interfaces status`` (Catalyst layout)."""
    lignes = ["", "Port      Name               Status       Vlan       Duplex  Speed Type"]
    for p, actif in etats_ports(connus, fichier):
        etat = "disabled" if p.desactive else ("connected" if actif else "notconnect")
        duplex, vitesse = ("a-full", "a-1000") if actif else ("auto", "auto")
        lignes.append(f"{court_cisco(p.nom):<9} {p.description[:18]:<18} {etat:<12} {p.vlan:<10} {duplex:>6} "
                      f"{vitesse:>6} 10/100/1000BaseTX")  # fmt: skip
    return [*lignes, ""]


def procurve_brief(connus: list[PortConnu], fichier: Path | None) -> list[str]:
    """``show interfaces brief`` (ProCurve layout)."""
    lignes = ["", " Status and Counters - Port Status", "",
              "                  | Intrusion                           MDI   Flow  Bcast",
              "  Port  Type      | Alert     Enabled Status Mode       Mode  Ctrl  Limit",
              "  ----- --------- + --------- ------- ------ ---------- ----- ----- ------"]  # fmt: skip
    for p, actif in etats_ports(connus, fichier):
        lignes.append(f"  {p.nom:<5} 100/1000T | No        {'No' if p.desactive else 'Yes':<7} "
                      f"{'Up' if actif else 'Down':<6} 1000FDx    {'MDIX' if actif else 'Auto':<5} off   0")  # fmt: skip
    return [*lignes, ""]


def aoscx_interfaces(connus: list[PortConnu], fichier: Path | None) -> list[str]:
    """``show interface`` (AOS-CX layout, one block per interface)."""
    lignes = [""]
    for p, actif in etats_ports(connus, fichier):
        lignes += [f"Interface {p.nom} is {'up' if actif else 'down'}",
                   f" Admin state is {'down' if p.desactive else 'up'}"]  # fmt: skip
        if not actif:
            lignes.append(" State information: Administratively down" if p.desactive else
                          " State information: Waiting for link")  # fmt: skip
        lignes += [f" Link state: {'up' if actif else 'down'}", f" Link transitions: {1 if actif else 0}",
                   f" Description: {p.description}", " MTU 1500", " Type 1GbT",
                   " Full-duplex" if actif else " Auto-duplex", " qos trust none",
                   f" Speed {'1000' if actif else '0'} Mb/s", " Auto-negotiation is on", " Flow-control: off",
                   " Error-control: off"]  # fmt: skip
        if p.vlan == "trunk":
            lignes += [" VLAN Mode: native-untagged", " Native VLAN: 1"]
        else:
            lignes += [" VLAN Mode: access", f" Access VLAN: {p.vlan}"]
        lignes.append("")
    return lignes


def cisco_point(mac: str) -> str:
    h = _hex(mac)
    return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"


def procurve_tiret(mac: str) -> str:
    h = _hex(mac)
    return f"{h[0:6]}-{h[6:12]}"


def _tries(entrees: list[dict]) -> list[dict]:
    return sorted(entrees, key=lambda e: (int(e.get("vlan") or 0), cle_naturelle(str(e.get("port", "")))))


def cisco_mac(fichier: Path | None, court: dict[str, str]) -> list[str]:
    """``show mac address-table`` (Catalyst layout); ``court`` maps port names to IOS short names."""
    entrees = _tries(lire(fichier)["macs"])
    lignes = ["          Mac Address Table", "-------------------------------------------", "",
              "Vlan    Mac Address       Type        Ports", "----    -----------       --------    -----"]  # fmt: skip
    lignes += [f" All    {mac}    STATIC      CPU" for mac in MACS_CPU_CISCO]
    for e in entrees:
        port = court.get(e["port"]) or court_cisco(e["port"])
        lignes.append(f" {int(e['vlan']):>3}    {cisco_point(e['mac'])}    DYNAMIC     {port}")
    return [*lignes, f"Total Mac Addresses for this criterion: {len(MACS_CPU_CISCO) + len(entrees)}"]


def cisco_arp(fichier: Path | None) -> list[str]:
    """``show ip arp``."""
    lignes = ["Protocol  Address          Age (min)  Hardware Addr   Type   Interface"]
    for e in lire(fichier)["arp"]:
        lignes.append(f"Internet  {e['ip']:<16} {0:>5}      {cisco_point(e['mac'])}  ARPA   Vlan{e['vlan']}")
    return lignes


def procurve_mac(fichier: Path | None) -> list[str]:
    """``show mac-address`` (ProCurve layout)."""
    lignes = ["", " Status and Counters - Port Address Table", "", "  MAC Address   Port  VLAN",
              "  ------------- ----- ----"]  # fmt: skip
    for e in _tries(lire(fichier)["macs"]):
        lignes.append(f"  {procurve_tiret(e['mac'])} {e['port']:<5} {int(e['vlan'])}")
    return [*lignes, ""]


def procurve_arp(fichier: Path | None) -> list[str]:
    """``show arp``."""
    lignes = ["", " IP ARP table", "", "  IP Address       MAC Address       Type    Port",
              "  ---------------  ----------------- ------- ----"]  # fmt: skip
    for e in lire(fichier)["arp"]:
        lignes.append(f"  {e['ip']:<16} {procurve_tiret(e['mac']):<17} dynamic {e.get('port', '')}")
    return [*lignes, ""]


def aoscx_mac(fichier: Path | None) -> list[str]:
    """``show mac-address-table`` (AOS-CX layout)."""
    entrees = _tries(lire(fichier)["macs"])
    lignes = ["MAC age-time            : 300 seconds", f"Number of MAC addresses : {len(entrees)}", "",
              "MAC Address          VLAN     Type                      Port",
              "--------------------------------------------------------------"]  # fmt: skip
    for e in entrees:
        mac = ":".join(_hex(e["mac"])[i : i + 2] for i in range(0, 12, 2))
        lignes.append(f"{mac}    {int(e['vlan']):<8} {'dynamic':<25} {e['port']}")
    return lignes


def aoscx_arp(fichier: Path | None) -> list[str]:
    """``show arp all-vrfs``."""
    lignes = ["IPv4 Address     MAC                Port         Physical Port                State     VRF",
              "-" * 94]  # fmt: skip
    arp = lire(fichier)["arp"]
    for e in arp:
        mac = ":".join(_hex(e["mac"])[i : i + 2] for i in range(0, 12, 2))
        lignes.append(f"{e['ip']:<16} {mac}  vlan{e['vlan']:<8} {e.get('port', ''):<28} reachable default")
    return [*lignes, "", f"Total Number Of ARP Entries Listed: {len(arp)}.", "-" * 94]
