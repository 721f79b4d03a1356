"""The one data model every switch template renders, built in Python from the manifest.

Everything that is a decision (which ports are edge ports, which are trusted for DHCP snooping, which
VLANs are client VLANs, masks, list formats) is taken here; the templates only spell it out in their
platform's syntax. Secrets are :class:`SecretRendu` placeholders: masked unless the caller explicitly
renders for a push (``clair=True``), the only moment a clear value enters a configuration text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Interface

from ardoise.inventaire.modele import Commutateur
from ardoise.inventaire.territoire import EcoleChargee
from ardoise.inventaire.types import RoleVlan
from ardoise.reseau.plateformes import Plateforme, plateforme
from ardoise.secrets import MASQUE, Secret

ROLES_CLIENTS = frozenset(
    {RoleVlan.pedagogique, RoleVlan.administratif, RoleVlan.wifi_eleves, RoleVlan.wifi_invites}
)


class SecretRendu:
    """A vault reference inside a template: prints a mask, or the clear value when rendering for a push."""

    def __init__(self, nom: str, secret: Secret | None = None, clair: bool = False) -> None:
        self.nom = nom
        self._secret = secret
        self._clair = clair

    def __str__(self) -> str:
        if self._clair and self._secret is not None:
            return self._secret.reveler()
        return MASQUE

    __html__ = __str__


@dataclass(frozen=True)
class VlanModele:
    id: int
    nom: str
    gestion: bool
    client: bool  # DHCP snooping applies
    non_etiquetes: str  # ProCurve membership lists ("1-8,10"), empty elsewhere
    etiquetes: str


@dataclass(frozen=True)
class PortModele:
    nom: str
    acces: bool
    vlan: int  # access VLAN, or native VLAN of a trunk
    vlans: str  # allowed VLANs of a trunk, in the platform's list syntax
    description: str
    bord: bool  # spanning-tree edge (+ BPDU guard)
    desactive: bool
    montante: bool
    confiance_dhcp: bool


@dataclass(frozen=True)
class Utilisateur:
    nom: str
    mot_de_passe: SecretRendu


@dataclass(frozen=True)
class Snmp:
    utilisateur: str
    auth: SecretRendu
    priv: SecretRendu


@dataclass(frozen=True)
class ModeleCommutateur:
    nom: str
    plateforme: str
    modele: str
    uai: str
    ecole: str
    gestion_vlan: int
    gestion_interface: str  # "Vlan99", "vlan 99", "" (address inside the VLAN block)
    gestion_adresse: str
    gestion_masque: str
    gestion_prefixe: int
    passerelle: str
    domaine: str
    dns: tuple[str, ...]
    ntp: tuple[str, ...]
    syslog: tuple[str, ...]
    vlans: tuple[VlanModele, ...]
    ports: tuple[PortModele, ...]
    dhcp_snooping_vlans: str
    vlan_defaut_non_etiquetes: str  # ProCurve: managed ports left untagged in VLAN 1
    ports_bord: str  # ProCurve global "spanning-tree <ports> admin-edge-port"
    ports_confiance: str  # ProCurve global "dhcp-snooping trust <ports>"
    utilisateurs: tuple[Utilisateur, ...]
    enable: SecretRendu | None
    snmp: Snmp | None
    banniere: str

    @property
    def ports_geres(self) -> frozenset[str]:
        return frozenset(p.nom for p in self.ports)


def _cle_port(nom: str) -> tuple[object, ...]:
    return tuple(int(m) if m.isdigit() else m for m in re.split(r"(\d+)", nom))


def _plage_ports(noms: list[str]) -> str:
    """``["1", "2", "3", "10"]`` -> ``1-3,10`` (ProCurve membership syntax; ``A1-A4`` too)."""
    tries = sorted(set(noms), key=_cle_port)
    morceaux: list[str] = []
    i = 0
    while i < len(tries):
        m = re.fullmatch(r"(.*?)(\d+)", tries[i])
        j = i
        while m and j + 1 < len(tries) and tries[j + 1] == f"{m.group(1)}{int(m.group(2)) + j + 1 - i}":
            j += 1
        morceaux.append(tries[i] if j == i else f"{tries[i]}-{tries[j]}")
        i = j + 1
    return ",".join(morceaux)


def _liste_vlans(vlans: list[int], p: Plateforme) -> str:
    return p.separateur_vlans.join(str(v) for v in sorted(set(vlans)))


def construire(
    ecole: EcoleChargee,
    commutateur: Commutateur,
    secrets: dict[str, Secret] | None = None,
    clair: bool = False,
) -> ModeleCommutateur:
    """The template data of one switch; ``secrets`` (from the vault) only matter with ``clair=True``."""
    p = plateforme(commutateur.plateforme)
    secrets = secrets or {}
    politique = ecole.politique

    def secret(nom: str) -> SecretRendu:
        return SecretRendu(nom, secrets.get(nom), clair)

    vlan_gestion = ecole.vlan(commutateur.gestion.vlan)
    reseau = vlan_gestion.reseau if vlan_gestion else None
    interface = IPv4Interface(f"{commutateur.gestion.adresse}/{reseau.prefixlen if reseau else 24}")
    roles = {v.id: v.role for v in ecole.modele.vlans}
    serveurs = {v.id for v in ecole.modele.vlans if v.role is RoleVlan.serveurs}

    ports: list[PortModele] = []
    for port in commutateur.ports:
        acces = port.mode == "acces"
        montante = port.nom == commutateur.liaison_montante
        ports.append(
            PortModele(
                nom=port.nom,
                acces=acces,
                vlan=(port.vlan or 1) if acces else (port.vlan_natif or 1),
                vlans="" if acces else _liste_vlans(port.vlans, p),
                description=port.description,
                bord=port.bord if port.bord is not None else acces,
                desactive=port.desactive,
                montante=montante,
                # DHCP answers come from upstream and from the school server (DHCP service)
                confiance_dhcp=montante or (acces and port.vlan in serveurs),
            )
        )

    vlans: list[VlanModele] = []
    for v in sorted(ecole.modele.vlans, key=lambda v: v.id):
        non_etiquetes = [pt.nom for pt in ports if pt.vlan == v.id]
        etiquetes = [
            pt.nom
            for pt, src in zip(ports, commutateur.ports, strict=True)
            if not pt.acces and v.id in src.vlans and pt.vlan != v.id
        ]
        vlans.append(
            VlanModele(
                id=v.id,
                nom=v.nom,
                gestion=v.id == commutateur.gestion.vlan,
                client=v.role in ROLES_CLIENTS,
                non_etiquetes=_plage_ports(non_etiquetes) if p.plages_ports else "",
                etiquetes=_plage_ports(etiquetes) if p.plages_ports else "",
            )
        )

    snmp = None
    if politique.snmp:
        snmp = Snmp(
            politique.snmp.utilisateur, secret(politique.snmp.auth.coffre), secret(politique.snmp.priv.coffre)
        )
    ident = commutateur.identifiants
    clients = [v.id for v in ecole.modele.vlans if roles[v.id] in ROLES_CLIENTS]
    return ModeleCommutateur(
        nom=commutateur.nom,
        plateforme=p.nom,
        modele=commutateur.modele,
        uai=ecole.uai,
        ecole=ecole.nom,
        gestion_vlan=commutateur.gestion.vlan,
        gestion_interface=p.nom_interface_gestion.format(id=commutateur.gestion.vlan),
        gestion_adresse=str(interface.ip),
        gestion_masque=str(interface.netmask),
        gestion_prefixe=interface.network.prefixlen,
        passerelle=str(vlan_gestion.passerelle) if vlan_gestion else "",
        domaine=politique.domaine,
        dns=tuple(str(d) for d in politique.dns),
        ntp=tuple(politique.ntp),
        syslog=tuple(politique.syslog),
        vlans=tuple(vlans),
        ports=tuple(ports),
        dhcp_snooping_vlans=_liste_vlans(clients, p),
        vlan_defaut_non_etiquetes=_plage_ports([pt.nom for pt in ports if pt.vlan == 1])
        if p.plages_ports
        else "",
        ports_bord=_plage_ports([pt.nom for pt in ports if pt.bord]) if p.plages_ports else "",
        ports_confiance=_plage_ports([pt.nom for pt in ports if pt.confiance_dhcp]) if p.plages_ports else "",
        utilisateurs=(Utilisateur(ident.utilisateur, secret(ident.mot_de_passe.coffre)),),
        enable=secret(ident.secret_enable.coffre) if ident.secret_enable else None,
        snmp=snmp,
        banniere=politique.banniere,
    )


def references_coffre(commutateur: Commutateur, ecole: EcoleChargee) -> list[str]:
    """Every vault name a switch's configuration (and its login) needs."""
    noms = [commutateur.identifiants.mot_de_passe.coffre]
    if commutateur.identifiants.secret_enable:
        noms.append(commutateur.identifiants.secret_enable.coffre)
    if ecole.politique.snmp:
        noms += [ecole.politique.snmp.auth.coffre, ecole.politique.snmp.priv.coffre]
    return noms
