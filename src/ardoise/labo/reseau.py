"""Network namespaces and links of the lab (everything named with the ``ard-`` prefix).

Topology::

    root ns  ard-ctl 198.51.100.253/30 ──veth── ctl0 198.51.100.254/30  ard-srv (school server)
             routes: school subnets only                   br<vlan> = VLAN gateway, ip_forward=1
                                                           inet0 198.51.100.1/29 ──veth── eth0 198.51.100.2/29  ard-net
    ard-pc<i>  eth0 (plan MAC/address) ──veth── pc<i> in br<vlan>      default via the VLAN gateway
    ard-sw<i>  eth0 (management address) ──veth── sw<i> in br<vlan gestion>

Only the ``ard-ctl`` link and the routes through it live in the root namespace; eth0 and the
root default route are never touched.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from ardoise.labo.erreurs import LaboErreur
from ardoise.labo.plan import PlanLabo
from ardoise.labo.systeme import executer

log = logging.getLogger(__name__)

PREFIXE = "ard-"
NS_SERVEUR = "ard-srv"
NS_INTERNET = "ard-net"
LIEN_RACINE = "ard-ctl"
LIEN_SERVEUR_CTL = "ctl0"
LIEN_SERVEUR_INTERNET = "inet0"
ADRESSE_RACINE = IPv4Interface("198.51.100.253/30")
ADRESSE_SERVEUR_CTL = IPv4Interface("198.51.100.254/30")
ADRESSE_SERVEUR_INTERNET = IPv4Interface("198.51.100.1/29")
ADRESSE_INTERNET = IPv4Interface("198.51.100.2/29")
# The ENT (and GAR) sites of the fake internet answer on their own address, so a fault can cut
# them alone (see pannes.couper_ent) while every other site stays reachable.
ADRESSE_ENT = IPv4Interface("198.51.100.3/29")
NS_TECHNICIEN = "ard-tech"
TABLE_TECHNICIEN = 1000  # + VLAN id: the policy-routing table of each technician leg
ROLES_ELEVES = ("pedagogique", "wifi-eleves")


def ns_poste(index: int) -> str:
    """Namespace of the index-th PC of the plan (1-based)."""
    return f"{PREFIXE}pc{index}"


def ns_commutateur(index: int) -> str:
    """Namespace of the index-th switch emulator (1-based)."""
    return f"{PREFIXE}sw{index}"


def pont(vlan_id: int) -> str:
    """Bridge name of a VLAN inside the server namespace."""
    return f"br{vlan_id}"


@dataclass(frozen=True)
class Interface:
    """One end host plugged into a VLAN bridge: its namespace and server-side veth."""

    ns: str
    lien_serveur: str
    adresse: IPv4Interface
    passerelle: IPv4Address
    mac: str | None = None


def ip(*args: str, ns: str | None = None, verifier: bool = True) -> str:
    """Run ``ip`` (optionally ``ip -n ns``) and return stdout."""
    prefixe = ["ip", "-n", ns] if ns else ["ip"]
    return executer([*prefixe, *args], verifier=verifier).stdout


def sysctl(ns: str, cle: str, valeur: str) -> None:
    executer(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{cle}={valeur}"])


def namespaces_labo() -> list[str]:
    """Lab namespaces currently present (``ip netns list``)."""
    noms = [ligne.split()[0] for ligne in ip("netns", "list").splitlines() if ligne.strip()]
    return [n for n in noms if n.startswith(PREFIXE)]


def liens_racine_labo() -> list[str]:
    """Lab links currently present in the root namespace."""
    liens = []
    for ligne in ip("-o", "link", "show").splitlines():
        nom = ligne.split(":", 2)[1].strip().split("@")[0]
        if nom.startswith(PREFIXE):
            liens.append(nom)
    return liens


def verifier_plan(plan: PlanLabo) -> None:
    """Refuse a plan whose subnets overlap a route of the root namespace (other than the lab's)."""
    existantes = []
    for ligne in ip("-4", "route", "show", "table", "main").splitlines():
        champs = ligne.split()
        if not champs or champs[0] == "default" or f"dev {LIEN_RACINE}" in ligne:
            continue
        try:
            existantes.append(IPv4Network(champs[0], strict=False))
        except ValueError:
            continue
    reserve = IPv4Network("198.51.100.0/24")
    for v in plan.vlans:
        if v.reseau.overlaps(reserve):
            raise LaboErreur(
                f"le réseau {v.reseau} du VLAN {v.id} chevauche le réseau réservé au labo {reserve}"
            )
        for r in existantes:
            if v.reseau.overlaps(r):
                raise LaboErreur(
                    f"le réseau {v.reseau} du VLAN {v.id} chevauche une route de la machine ({r}) : "
                    "le labo refuse de la masquer"
                )


ETC_NETNS = Path("/etc/netns")


def creer_namespace(ns: str, dns: str = "127.0.0.1") -> None:
    """Create ``ns`` with lo up, no IPv6, and a resolv.conf that ``ip netns exec`` bind-mounts."""
    # The machine's resolver is unreachable from namespaces (each lookup would cost ~10 s).
    (ETC_NETNS / ns).mkdir(parents=True, exist_ok=True)
    (ETC_NETNS / ns / "resolv.conf").write_text(f"nameserver {dns}\noptions timeout:1 attempts:1\n")
    ip("netns", "add", ns)
    ip("link", "set", "lo", "up", ns=ns)
    sysctl(ns, "net.ipv6.conf.all.disable_ipv6", "1")
    sysctl(ns, "net.ipv6.conf.default.disable_ipv6", "1")


def creer_coeur(plan: PlanLabo) -> None:
    """Server namespace with its bridges, internet namespace, root veth and root routes."""
    verifier_plan(plan)
    creer_namespace(NS_SERVEUR)
    creer_namespace(NS_INTERNET)
    sysctl(NS_SERVEUR, "net.ipv4.ip_forward", "1")
    for v in plan.vlans:
        br = pont(v.id)
        ip("link", "add", br, "type", "bridge", ns=NS_SERVEUR)
        ip("addr", "add", f"{v.passerelle}/{v.reseau.prefixlen}", "dev", br, ns=NS_SERVEUR)
        if plan.serveur_adresse and v.id == plan.serveur_vlan and plan.serveur_adresse != v.passerelle:
            ip("addr", "add", f"{plan.serveur_adresse}/{v.reseau.prefixlen}", "dev", br, ns=NS_SERVEUR)
        if plan.serveur_mac and v.id == plan.serveur_vlan:
            ip("link", "set", br, "address", plan.serveur_mac, ns=NS_SERVEUR)
        ip("link", "set", br, "up", ns=NS_SERVEUR)
    # server <-> internet
    ip(
        "link", "add", LIEN_SERVEUR_INTERNET, "type", "veth", "peer", "name", "eth0", "netns", NS_INTERNET,
        ns=NS_SERVEUR,
    )  # fmt: skip
    ip("addr", "add", str(ADRESSE_SERVEUR_INTERNET), "dev", LIEN_SERVEUR_INTERNET, ns=NS_SERVEUR)
    ip("link", "set", LIEN_SERVEUR_INTERNET, "up", ns=NS_SERVEUR)
    ip("addr", "add", str(ADRESSE_INTERNET), "dev", "eth0", ns=NS_INTERNET)
    ip("addr", "add", str(ADRESSE_ENT), "dev", "eth0", ns=NS_INTERNET)
    ip("link", "set", "eth0", "up", ns=NS_INTERNET)
    ip("route", "add", "default", "via", str(ADRESSE_INTERNET.ip), ns=NS_SERVEUR)
    # root <-> server (control machine reaches the school subnets, nothing else)
    ip(
        "link", "add", LIEN_SERVEUR_CTL, "type", "veth", "peer", "name", LIEN_RACINE, "netns", "1",
        ns=NS_SERVEUR,
    )  # fmt: skip
    ip("addr", "add", str(ADRESSE_SERVEUR_CTL), "dev", LIEN_SERVEUR_CTL, ns=NS_SERVEUR)
    ip("link", "set", LIEN_SERVEUR_CTL, "up", ns=NS_SERVEUR)
    ip("addr", "add", str(ADRESSE_RACINE), "dev", LIEN_RACINE)
    ip("link", "set", LIEN_RACINE, "up")
    for v in plan.vlans:
        ip("route", "replace", str(v.reseau), "via", str(ADRESSE_SERVEUR_CTL.ip), "dev", LIEN_RACINE)


def brancher(
    ns: str,
    lien_serveur: str,
    vlan_id: int,
    adresse: IPv4Interface | None,
    passerelle: IPv4Address | None,
    mac: str | None = None,
    dns: str = "127.0.0.1",
) -> None:
    """Create namespace ``ns`` with an ``eth0`` plugged into the VLAN's bridge.

    With an address: configure it and a default route via ``passerelle``; without (a DHCP client
    test), the link is only brought up.
    """
    creer_namespace(ns, dns)
    ip("link", "add", lien_serveur, "type", "veth", "peer", "name", "eth0", "netns", ns, ns=NS_SERVEUR)
    ip("link", "set", lien_serveur, "master", pont(vlan_id), "up", ns=NS_SERVEUR)
    if mac:
        ip("link", "set", "eth0", "address", mac, ns=ns)
    if adresse:
        ip("addr", "add", str(adresse), "dev", "eth0", ns=ns)
    ip("link", "set", "eth0", "up", ns=ns)
    if passerelle:
        ip("route", "add", "default", "via", str(passerelle), ns=ns)


def brancher_poste(plan: PlanLabo, index: int) -> str:
    """Namespace of PC number ``index`` (1-based) with the plan's MAC, address and gateway."""
    poste = plan.postes[index - 1]
    v = plan.vlan(poste.vlan)
    if poste.adresse not in v.reseau:
        raise LaboErreur(f"le poste {poste.nom} ({poste.adresse}) n'est pas dans le réseau {v.reseau}")
    ns = ns_poste(index)
    adresse = IPv4Interface(f"{poste.adresse}/{v.reseau.prefixlen}")
    brancher(
        ns, f"pc{index}", v.id, adresse, v.passerelle, poste.mac, str(plan.vlan(plan.serveur_vlan).passerelle)
    )
    return ns


def brancher_commutateur(plan: PlanLabo, index: int) -> str:
    """Namespace of switch number ``index`` on its management VLAN bridge."""
    sw = plan.commutateurs[index - 1]
    v = plan.vlan(sw.vlan_gestion)
    ns = ns_commutateur(index)
    dns = str(plan.vlan(plan.serveur_vlan).passerelle)
    brancher(
        ns,
        f"sw{index}",
        v.id,
        IPv4Interface(f"{sw.adresse}/{v.reseau.prefixlen}"),
        v.passerelle,
        sw.mac,
        dns=dns,
    )
    return ns


def adresse_technicien(reseau_vlan: IPv4Network) -> IPv4Interface:
    """The technician machine's address on one VLAN: the subnet's last host address."""
    return IPv4Interface(f"{list(reseau_vlan.hosts())[-1]}/{reseau_vlan.prefixlen}")


def brancher_technicien(plan: PlanLabo) -> str:
    """The « poste technicien »: a namespace plugged into every VLAN, as a laptop on a trunk port.

    One leg ``vlan<id>`` per VLAN (server side ``tech<id>`` in that VLAN's bridge), holding the subnet's
    last address; traffic sourced from a leg's address leaves through that VLAN's gateway (one routing
    table per leg), so a test bound to the pupil VLAN address is seen by the server as a pupil's.
    """
    ns = NS_TECHNICIEN
    creer_namespace(ns, str(plan.vlan(plan.serveur_vlan).passerelle))
    sysctl(ns, "net.ipv4.conf.all.rp_filter", "0")
    sysctl(ns, "net.ipv4.conf.default.rp_filter", "0")
    for v in plan.vlans:
        jambe, lien = f"vlan{v.id}", f"tech{v.id}"
        adresse = adresse_technicien(v.reseau)
        ip("link", "add", lien, "type", "veth", "peer", "name", jambe, "netns", ns, ns=NS_SERVEUR)
        ip("link", "set", lien, "master", pont(v.id), "up", ns=NS_SERVEUR)
        ip("addr", "add", str(adresse), "dev", jambe, ns=ns)
        ip("link", "set", jambe, "up", ns=ns)
        table = str(TABLE_TECHNICIEN + v.id)
        ip("route", "add", str(v.reseau), "dev", jambe, "table", table, ns=ns)
        ip("route", "add", "default", "via", str(v.passerelle), "dev", jambe, "table", table, ns=ns)
        ip("rule", "add", "from", str(adresse.ip), "lookup", table, ns=ns)
    ip("route", "add", "default", "via", str(plan.vlan(plan.serveur_vlan).passerelle), ns=ns)
    return ns


def lien_poste(index: int) -> str:
    """Server-side veth of PC ``index`` (set it down to cut the PC off)."""
    return f"pc{index}"


def nettoyer() -> list[str]:
    """Delete every lab namespace and root link; return what was removed."""
    retires = []
    for ns in namespaces_labo():
        ip("netns", "del", ns, verifier=False)
        retires.append(ns)
    for dossier in ETC_NETNS.glob(f"{PREFIXE}*"):
        shutil.rmtree(dossier, ignore_errors=True)
    for lien in liens_racine_labo():
        ip("link", "del", lien, verifier=False)
        retires.append(lien)
    return retires
