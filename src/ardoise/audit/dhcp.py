"""DHCP answers on each school VLAN, compared with the manifest.

nmap's ``broadcast-dhcp-discover`` script (a DISCOVER with the broadcast flag from a random client MAC; it
never requests, so no lease is taken) runs on this machine's interface in each VLAN whose manifest declares
a DHCP range, all VLANs at once; every OFFER heard during the wait is read from nmap's XML output (never its
text). The comparison is pure: offers in, findings out.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

from ardoise.audit.constat import Constat, Gravite
from ardoise.inventaire.territoire import EcoleChargee

log = logging.getLogger(__name__)

ATTENTE_S = 5  # real servers check an address is free (ping) before offering: dnsmasq waits 3 s
SCRIPT = "broadcast-dhcp-discover"
ROLES_ELEVES = ("pedagogique", "wifi-eleves")


@dataclass(frozen=True)
class Offre:
    """One DHCPOFFER heard on a VLAN."""

    vlan: int
    interface: str
    serveur: str | None  # option 54, server identifier
    adresse: str | None  # yiaddr, the address offered
    routeur: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    domaine: str | None = None
    masque: str | None = None

    def en_dict(self) -> dict:
        return asdict(self)

    def resume(self) -> str:
        return (f"serveur {self.serveur or '?'} offre {self.adresse or '?'} (masque {self.masque or '?'}), "
                f"routeur {', '.join(self.routeur) or 'aucun'}, DNS {', '.join(self.dns) or 'aucun'}, "
                f"domaine {self.domaine or 'aucun'}")  # fmt: skip


@dataclass
class Sondage:
    """What was asked and heard: offers per VLAN, VLANs not tested (no interface here) and why."""

    offres: list[Offre] = field(default_factory=list)
    testes: list[int] = field(default_factory=list)
    non_testes: dict[int, str] = field(default_factory=dict)
    duree_s: float = 0.0
    commandes: list[list[str]] = field(default_factory=list)

    def en_dict(self) -> dict:
        return {"offres": [o.en_dict() for o in self.offres], "vlans_testes": self.testes,
                "vlans_non_testes": {str(k): v for k, v in self.non_testes.items()},
                "duree_s": round(self.duree_s, 1), "commandes": self.commandes}  # fmt: skip


def interfaces_locales() -> dict[IPv4Address, str]:
    """This machine's IPv4 addresses and the interface holding each."""
    r = subprocess.run(["ip", "-j", "-4", "addr", "show"], capture_output=True, text=True, check=False)
    try:
        liens = json.loads(r.stdout or "[]")
    except ValueError:
        return {}
    return {IPv4Address(a["local"]): lien["ifname"] for lien in liens for a in lien.get("addr_info", [])
            if a.get("local")}  # fmt: skip


def commande(interface: str, attente: float = ATTENTE_S) -> list[str]:
    return ["nmap", "-n", "--script", SCRIPT, "--script-args",
            f"{SCRIPT}.timeout={attente:g}s,{SCRIPT}.mac=random", "-e", interface, "-oX", "-"]  # fmt: skip


def _liste(elem: ET.Element) -> list[str]:
    """An option's value: one ``elem`` (``a, b`` when nmap joined several) or a ``table`` of them."""
    if elem.tag == "table":
        return [e.text.strip() for e in elem.iter("elem") if e.text and e.text.strip()]
    return [x.strip() for x in (elem.text or "").split(",") if x.strip()]


def lire_xml(xml: str, vlan: int) -> list[Offre]:
    """The offers in the XML of one ``broadcast-dhcp-discover`` run."""
    try:
        racine = ET.fromstring(xml)
    except ET.ParseError as e:
        log.warning("sortie XML de nmap illisible (DHCP, VLAN %d) : %s", vlan, e)
        return []
    offres = []
    for script in racine.iter("script"):
        if script.get("id") != SCRIPT:
            continue
        for reponse in script.findall("table"):
            champs = {e.get("key"): _liste(e) for e in reponse}
            if "DHCPOFFER" not in champs.get("DHCP Message Type", []):
                continue
            un = {k: v[0] for k, v in champs.items() if v}
            offres.append(Offre(
                vlan, un.get("Interface", ""), un.get("Server Identifier"), un.get("IP Offered"),
                champs.get("Router", []), champs.get("Domain Name Server", []), un.get("Domain Name"),
                un.get("Subnet Mask"),
            ))  # fmt: skip
    return offres


def sonder(
    ecole: EcoleChargee,
    vlans: list[int] | None = None,
    attente: float = ATTENTE_S,
    dossier: Path | None = None,
) -> Sondage:
    """DISCOVER on every declared VLAN with a DHCP range where this machine has an interface, in parallel;
    each run's XML is kept as evidence in ``dossier`` (``dhcp-vlan<id>.xml``) when given."""
    s = Sondage()
    locales = interfaces_locales()
    a_tester: list[tuple[int, str]] = []
    for v in ecole.modele.vlans:
        if v.dhcp is None or (vlans and v.id not in vlans):
            continue
        interface = next((i for a, i in sorted(locales.items()) if a in v.reseau), None)
        if interface is None:
            s.non_testes[v.id] = f"ce poste n'a pas d'adresse dans {v.reseau}"
        else:
            a_tester.append((v.id, interface))
    if not a_tester:
        return s
    if shutil.which("nmap") is None:
        s.non_testes.update({v: "nmap absent de ce poste" for v, _ in a_tester})
        return s

    def un(vlan: int, interface: str) -> list[Offre]:
        cmd = commande(interface, attente)
        s.commandes.append(cmd)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=attente + 60, check=False)
        if r.returncode != 0:
            s.non_testes[vlan] = f"nmap a échoué (code {r.returncode}) : {r.stderr.strip()[-200:]}"
            return []
        if dossier is not None:
            dossier.mkdir(parents=True, exist_ok=True)
            (dossier / f"dhcp-vlan{vlan}.xml").write_text(r.stdout, encoding="utf-8")
        return lire_xml(r.stdout, vlan)

    debut = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(a_tester)) as pool:
        for (vlan, _), offres in zip(a_tester, pool.map(lambda x: un(*x), a_tester), strict=True):
            s.offres += offres
            if vlan not in s.non_testes:
                s.testes.append(vlan)
    s.duree_s = time.monotonic() - debut
    return s


def serveurs_attendus(ecole: EcoleChargee) -> set[str]:
    """Who may answer DHCP: the school server, or a VLAN gateway (router serving DHCP or relaying it)."""
    attendus = {str(v.passerelle) for v in ecole.modele.vlans}
    if ecole.modele.serveur and ecole.modele.serveur.adresse:
        attendus.add(str(ecole.modele.serveur.adresse))
    return attendus


def comparer(ecole: EcoleChargee, s: Sondage) -> list[Constat]:
    """Offers against the manifest: rogue servers, missing answers, wrong router/DNS/domain/address."""
    attendus = serveurs_attendus(ecole)
    domaine = f"{ecole.uai.lower()}.{ecole.politique.domaine}"
    dns = [str(d) for d in ecole.politique.dns]
    constats: list[Constat] = []

    def constat(code: str, gravite: Gravite, titre: str, preuve: str, quoi: str, sujet: str) -> None:
        constats.append(Constat(code, gravite, titre, preuve, quoi, sujet, hote="dhcp"))

    for vlan in s.testes:
        v = ecole.vlan(vlan)
        assert v is not None and v.dhcp is not None
        offres = [o for o in s.offres if o.vlan == vlan]
        eleves = v.role.value in ROLES_ELEVES
        legitimes = [o for o in offres if o.serveur in attendus]
        for serveur in sorted({o.serveur or "?" for o in offres if o.serveur not in attendus}):
            o = next(o for o in offres if (o.serveur or "?") == serveur)
            constat("dhcp-pirate", Gravite.critique if eleves else Gravite.haute,
                    f"Un serveur DHCP non prévu distribue des adresses sur le VLAN {vlan} ({v.nom}).",
                    f"sur {o.interface} : {o.resume()} ; serveurs attendus : {', '.join(sorted(attendus))}",
                    "trouver et débrancher l'appareil (box, routeur Wi-Fi, PC avec partage de connexion) ; "
                    "activer la protection DHCP (dhcp-snooping) sur les commutateurs", f"{vlan}:{serveur}")  # fmt: skip
        if not legitimes:
            constat("dhcp-absent", Gravite.haute,
                    f"Le serveur DHCP de l'école ne répond pas sur le VLAN {vlan} ({v.nom}).",
                    f"aucune offre d'un serveur attendu ({', '.join(sorted(attendus))}) en {ATTENTE_S} s ; "
                    f"manifeste : plage {v.dhcp.debut}-{v.dhcp.fin}",
                    "vérifier le service DHCP du serveur (ou le relais DHCP du routeur) pour ce VLAN",
                    f"{vlan}:absent")  # fmt: skip
        for o in legitimes:
            ecarts = []
            if o.routeur[:1] != [str(v.passerelle)]:
                ecarts.append(("routeur", ", ".join(o.routeur) or "aucun", str(v.passerelle)))
            if dns and o.dns != dns:
                ecarts.append(("DNS", ", ".join(o.dns) or "aucun", ", ".join(dns)))
            if o.domaine and o.domaine.rstrip(".") != domaine:
                ecarts.append(("domaine", o.domaine, domaine))
            try:
                adresse = IPv4Address(o.adresse or "")
                dans_plage = v.dhcp.debut <= adresse <= v.dhcp.fin
            except ValueError:
                dans_plage = False
            if not dans_plage:
                ecarts.append(("adresse offerte", o.adresse or "aucune", f"{v.dhcp.debut}-{v.dhcp.fin}"))
            if o.masque and o.masque != str(v.reseau.netmask):
                ecarts.append(("masque", o.masque, str(v.reseau.netmask)))
            for quoi, obtenu, attendu in ecarts:
                constat("dhcp-different", Gravite.moyenne,
                        f"Le DHCP du VLAN {vlan} ({v.nom}) ne distribue pas le bon {quoi}.",
                        f"serveur {o.serveur} : {quoi} {obtenu} ; manifeste : {attendu}",
                        f"corriger la configuration DHCP du VLAN {vlan} ({quoi}) sur le serveur de l'école",
                        f"{vlan}:{quoi}")  # fmt: skip
    return constats
