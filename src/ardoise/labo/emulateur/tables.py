"""MAC address table and ARP table of an emulated switch: a STAND-IN fed by the lab.

fake-switches has no forwarding plane, so an emulated switch cannot learn MAC addresses from
traffic. The lab knows its wiring (which PC's veth stands for which switch port, in which VLAN,
see :mod:`ardoise.labo.commutateurs`) and writes it to the switch's ``fichier_macs`` (JSON)::

    {"macs": [{"mac": "02:a0:0b:10:00:02", "vlan": 10, "port": "GigabitEthernet1/0/1"}],
     "arp": [{"ip": "10.11.99.1", "mac": "…", "vlan": 99, "port": "GigabitEthernet1/0/24"}]}

The file is read at every ``show``, so a fault that moves a PC (or plugs a rogue host in) shows up
at once. The layouts below are those ntc-templates parses for each platform.
"""

from __future__ import annotations

import json
from pathlib import Path

from ardoise.labo.emulateur.commun import cle_naturelle

MACS_CPU_CISCO = ["0100.0ccc.cccc", "0100.0ccc.cccd", "0180.c200.0000", "0180.c200.0001"]


def lire(fichier: Path | None) -> dict[str, list[dict]]:
    """The fed tables (empty when the lab wrote none, or the file is being replaced)."""
    if fichier is None:
        return {"macs": [], "arp": []}
    try:
        donnees = json.loads(Path(fichier).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"macs": [], "arp": []}
    return {"macs": list(donnees.get("macs", [])), "arp": list(donnees.get("arp", []))}


def _hex(mac: str) -> str:
    return mac.replace(":", "").replace("-", "").replace(".", "").lower()


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
        port = court.get(e["port"], e["port"])
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
