"""The switches' MAC address tables and ARP tables, read over SSH (netmiko) and parsed by ntc-templates.

Connections reuse :mod:`ardoise.reseau.connexion` (access override file, vault credentials, French
errors); the show commands are platform data (:mod:`ardoise.reseau.plateformes`).
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

from ardoise.erreurs import ArdoiseErreur
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.reseau.connexion import Session
from ardoise.reseau.execution import Contexte
from ardoise.reseau.rendu import Cible

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntreeMac:
    commutateur: str
    port: str
    vlan: int
    mac: str  # aa:bb:cc:dd:ee:ff


@dataclass(frozen=True)
class PortActif:
    """A port whose link is up (``show interfaces status`` and its equivalents)."""

    commutateur: str
    port: str


ETATS_ACTIFS = ("connected", "up")  # IOS « connected », ProCurve « Up », AOS-CX « up »


@dataclass
class Tables:
    macs: list[EntreeMac] = field(default_factory=list)
    arp: dict[IPv4Address, str] = field(default_factory=dict)
    actifs: list[PortActif] = field(default_factory=list)
    erreurs: dict[str, str] = field(default_factory=dict)  # switch -> French reason


def normaliser_mac(texte: str) -> str | None:
    h = re.sub(r"[^0-9a-fA-F]", "", texte or "").lower()
    return ":".join(h[i : i + 2] for i in range(0, 12, 2)) if len(h) == 12 else None


def cle_port(nom: str) -> tuple[str, str]:
    """``Gi1/0/1`` and ``GigabitEthernet1/0/1`` compare equal; ``1/1/1`` and ``1`` as they are."""
    m = re.fullmatch(r"([A-Za-z-]*)\s*([\d/.:]+)", nom.strip())
    if not m:
        return ("", nom.strip().lower())
    return (m.group(1)[:2].lower(), m.group(2))


def _champ(ligne: dict, *noms: str) -> str:
    for n in noms:
        v = ligne.get(n)
        if isinstance(v, list):
            v = v[0] if v else ""
        if v:
            return str(v)
    return ""


def lire_un(ctx: Contexte, cible: Cible) -> tuple[list[EntreeMac], dict[IPv4Address, str], list[PortActif]]:
    acces = ctx.acces(cible)
    p = acces.plateforme
    macs, arp, actifs = [], {}, []
    with Session(acces, ctx.delai, ctx.delai_lecture) as s:
        for ligne in s.commande(p.show_macs, textfsm=True) if p.show_macs else []:
            if not isinstance(ligne, dict):
                continue
            mac = normaliser_mac(_champ(ligne, "destination_address", "mac_address"))
            port = _champ(ligne, "destination_port", "port")
            vlan = _champ(ligne, "vlan_id")
            if mac and vlan.isdigit() and port and port.upper() != "CPU":
                macs.append(EntreeMac(cible.nom, port, int(vlan), mac))
        for ligne in s.commande(p.show_arp, textfsm=True) if p.show_arp else []:
            if isinstance(ligne, dict):
                mac = normaliser_mac(_champ(ligne, "mac_address"))
                try:
                    ip = IPv4Address(_champ(ligne, "ip_address"))
                except ValueError:
                    continue
                if mac:
                    arp[ip] = mac
        for ligne in s.commande(p.show_ports, textfsm=True) if p.show_ports else []:
            if isinstance(ligne, dict) and _champ(ligne, "status", "link_status").lower() in ETATS_ACTIFS:
                actifs.append(PortActif(cible.nom, _champ(ligne, "port", "interface")))
    return macs, arp, actifs


def lire_tables(t: Territoire, ecole: EcoleChargee, fichier_acces: Path | None = None) -> Tables:
    """Every switch of the school, in parallel; an unreachable switch is reported, never fatal."""
    cibles = [Cible(ecole, c) for c in ecole.modele.commutateurs]
    tables = Tables()
    if not cibles:
        return tables
    ctx = Contexte(t, fichier_acces=fichier_acces, delai=8.0, delai_lecture=15.0)
    ctx.charger_secrets(cibles)

    def une(c: Cible) -> tuple[str, tuple | str]:
        try:
            return c.nom, lire_un(ctx, c)
        except ArdoiseErreur as e:
            return c.nom, str(e)

    with ThreadPoolExecutor(max_workers=min(8, len(cibles))) as pool:
        for nom, r in pool.map(une, cibles):
            if isinstance(r, str):
                tables.erreurs[nom] = r
            else:
                tables.macs += r[0]
                tables.arp.update(r[1])
                tables.actifs += r[2]
    return tables
