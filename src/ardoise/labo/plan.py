"""What the lab builds, as plain data derived from one school's manifest.

The lab code (namespaces, hosts, services, emulators) only ever reads a ``PlanLabo``; the
translation from the manifest model lives in :func:`ardoise.labo.depuis_manifeste.plan_depuis_ecole`.
Nothing in the lab is hard-coded per school.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network


@dataclass(frozen=True)
class VlanLabo:
    """One VLAN of the school: one Linux bridge in the school server namespace."""

    id: int
    nom: str
    role: str  # pedagogique / administratif / wifi-eleves / wifi-invites / gestion / serveurs
    reseau: IPv4Network
    passerelle: IPv4Address  # held by the school server namespace, which routes between VLANs
    dhcp_debut: IPv4Address | None = None
    dhcp_fin: IPv4Address | None = None


@dataclass(frozen=True)
class PosteLabo:
    """A Debian 12 PC of the school, booted with systemd in its own namespace."""

    nom: str  # hostname from the manifest
    vlan: int
    adresse: IPv4Address
    mac: str  # as in the manifest, lower case aa:bb:cc:dd:ee:ff


@dataclass(frozen=True)
class PortLabo:
    nom: str
    mode: str  # "acces" or "trunk"
    vlan: int | None = None  # access VLAN
    vlans: tuple[int, ...] = ()  # trunk allowed VLANs
    description: str = ""


@dataclass(frozen=True)
class CommutateurLabo:
    """A switch emulator listening on the switch's management address."""

    nom: str
    plateforme: str  # cisco_ios / hp_procurve / aruba_aoscx
    adresse: IPv4Address
    port_ssh: int
    vlan_gestion: int
    utilisateur: str
    mot_de_passe: str = field(repr=False)  # from the vault; never printed
    vlans: tuple[tuple[int, str], ...] = ()  # (id, name) the emulator starts with
    ports: tuple[PortLabo, ...] = ()
    mac: str | None = None  # the manifest's MAC, given to the emulator's namespace interface


@dataclass(frozen=True)
class SiteInternet:
    """A test domain served by the lab's "internet" namespace."""

    domaine: str
    role: str  # ent / gar / bloque / general
    categorie: str | None = None  # UT1 category when role == "bloque"


@dataclass(frozen=True)
class PlanLabo:
    """Everything the lab needs to build one school."""

    uai: str
    nom_ecole: str
    domaine: str  # the lab's DNS domain for the school, e.g. "0331234x.ecole.lan"
    vlans: tuple[VlanLabo, ...]
    serveur_nom: str
    serveur_vlan: int  # VLAN whose gateway address is also the server's own service address
    proxy_port: int  # the port pupils' browsers use (e2guardian listens there)
    dns: tuple[IPv4Address, ...]
    postes: tuple[PosteLabo, ...]
    commutateurs: tuple[CommutateurLabo, ...]
    sites: tuple[SiteInternet, ...]
    categories_bloquees: tuple[str, ...]
    technicien: str = "technicien"  # account with sudo on every lab PC
    # the school server's own address (manifest ``serveur.adresse``) when it differs from the
    # gateway of ``serveur_vlan``: the lab adds it to that bridge, DNS and the proxy listen there too
    serveur_adresse: IPv4Address | None = None
    serveur_mac: str | None = None  # the manifest's server MAC, given to the server VLAN's bridge

    def vlan(self, vlan_id: int) -> VlanLabo:
        for v in self.vlans:
            if v.id == vlan_id:
                return v
        raise KeyError(vlan_id)
