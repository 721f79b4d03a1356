"""Discovery: nmap on the school's subnets, read from its XML output through python-nmap (never its text).

One nmap run: ARP discovery on the subnets the technician's machine is plugged into (ICMP/TCP pings
elsewhere), then a SYN scan of a short list of ports on the hosts that answered, ``-T4`` with a host
timeout. The XML is kept as evidence with the report.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

from ardoise.audit.cibles import Cibles
from ardoise.erreurs import ErreurConnexion, ErreurUsage

log = logging.getLogger(__name__)

DELAI_HOTE = "15s"


@dataclass(frozen=True)
class HoteVu:
    """One host nmap found up."""

    ip: IPv4Address
    mac: str | None  # lower case aa:bb:…, only for hosts on a subnet the scanner is plugged into
    fournisseur: str | None  # the MAC's vendor, from nmap's OUI table
    ports: tuple[int, ...] = ()  # open TCP ports among those scanned
    local: bool = False  # the scanning machine itself


@dataclass
class Decouverte:
    hotes: list[HoteVu]
    commande: list[str]
    duree_s: float
    xml: str = field(repr=False)


def commande_nmap(c: Cibles, sortie: Path) -> list[str]:
    """The nmap command line (the targets are exactly :meth:`Cibles.liste_nmap`)."""
    ports = ",".join(str(p) for p in c.ports)
    return [
        "nmap", "-n", "-sS", "-PR", "-PE", "-PS22,80,443", "-p", ports, "-T4", "--max-retries", "1",
        "--host-timeout", DELAI_HOTE, "--reason", "-oX", str(sortie), *c.liste_nmap(),
    ]  # fmt: skip


def lire_xml(xml: str) -> list[HoteVu]:
    """Hosts up in an nmap XML report (python-nmap's parser)."""
    import nmap

    try:
        resultat = nmap.PortScanner().analyse_nmap_xml_scan(nmap_xml_output=xml)
    except nmap.PortScannerError as e:
        raise ErreurConnexion(f"sortie XML de nmap illisible : {e}") from None
    hotes = []
    for ip, h in resultat.get("scan", {}).items():
        if h.get("status", {}).get("state") != "up":
            continue
        mac = (h.get("addresses", {}).get("mac") or "").lower() or None
        vendeurs = {k.lower(): v for k, v in (h.get("vendor") or {}).items()}
        ouverts = tuple(sorted(p for p, d in (h.get("tcp") or {}).items() if d.get("state") == "open"))
        local = h.get("status", {}).get("reason") == "localhost-response"
        hotes.append(HoteVu(IPv4Address(ip), mac, vendeurs.get(mac or ""), ouverts, local))
    return sorted(hotes, key=lambda h: h.ip)


def scanner(c: Cibles, dossier: Path) -> Decouverte:
    """Run nmap on the school's subnets; the XML lands in ``dossier/nmap.xml``."""
    if shutil.which("nmap") is None:
        raise ErreurUsage("nmap est absent de ce poste : installez-le (apt install nmap)")
    dossier.mkdir(parents=True, exist_ok=True)
    xml = dossier / "nmap.xml"
    cmd = commande_nmap(c, xml)
    debut = time.monotonic()
    log.info("découverte : nmap sur %s", ", ".join(c.liste_nmap()))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    duree = time.monotonic() - debut
    if r.returncode != 0 or not xml.exists():
        raise ErreurConnexion(f"nmap a échoué (code {r.returncode}) : {r.stderr.strip()[-300:]}")
    texte = xml.read_text(encoding="utf-8", errors="replace")
    return Decouverte(lire_xml(texte), cmd, duree, texte)


def adresses_locales() -> set[IPv4Address]:
    """This machine's IPv4 addresses (never reported as discovered hosts)."""
    r = subprocess.run(["ip", "-j", "-4", "addr", "show"], capture_output=True, text=True, check=False)
    try:
        liens = json.loads(r.stdout or "[]")
    except ValueError:
        return set()
    return {IPv4Address(a["local"]) for lien in liens for a in lien.get("addr_info", []) if a.get("local")}
