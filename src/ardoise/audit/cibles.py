"""What the audit scans and expects, from the manifest only: the school's subnets, ports, expected devices."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.territoire import EcoleChargee, Equipement, equipements_ecole
from ardoise.inventaire.types import Etat

# Ports relevant to the findings (see comparaison.SERVICES): ssh, telnet, http(s), SMB, RDP; + the proxy port.
PORTS_AUDIT = (22, 23, 80, 139, 443, 445, 3389)
ETATS_ATTENDUS = (Etat.en_service, Etat.livre)  # devices that should answer on the school network


@dataclass(frozen=True)
class Attendu:
    """A declared device and where the manifest puts it."""

    equipement: Equipement
    commutateur: str | None = None  # declared switch port (access points)
    port: str | None = None

    @property
    def nom(self) -> str:
        return self.equipement.nom


@dataclass(frozen=True)
class Cibles:
    """The audit's scope for one school."""

    ecole: EcoleChargee
    reseaux: tuple[tuple[int, IPv4Network], ...]  # (VLAN id, subnet) to scan, manifest order
    ports: tuple[int, ...]
    declares: tuple[Attendu, ...]  # every declared device of the school (known MACs/addresses)
    attendus: frozenset[str]  # names of the devices that must answer
    passerelles: frozenset[IPv4Address]

    def liste_nmap(self) -> list[str]:
        """The nmap target list: exactly the school's subnets (nothing else is ever scanned)."""
        return [str(r) for _, r in self.reseaux]

    def vlan_de(self, adresse: IPv4Address) -> int | None:
        return next((v for v, r in self.reseaux if adresse in r), None)

    def role_vlan(self, vlan: int | None) -> str | None:
        v = self.ecole.vlan(vlan) if vlan is not None else None
        return v.role.value if v else None


def cibles(ecole: EcoleChargee, vlans: list[int] | None = None, attendus: list[str] | None = None) -> Cibles:
    """The scope of the audit of ``ecole`` (``vlans`` restricts the scan; ``attendus`` names the devices that
    must answer, default: every declared device in service or delivered, with an address or a MAC)."""
    connus = {v.id for v in ecole.modele.vlans}
    for v in vlans or []:
        if v not in connus:
            raise ErreurUsage(
                f"VLAN {v} inconnu dans {ecole.nom} ({ecole.uai}) ; VLAN déclarés : {', '.join(map(str, sorted(connus)))}"
            )
    reseaux = tuple((v.id, v.reseau) for v in ecole.modele.vlans if not vlans or v.id in vlans)
    ports = tuple(
        sorted({*PORTS_AUDIT, *([ecole.politique.proxy.port] if ecole.politique.proxy.port else [])})
    )
    bornes = {b.nom: b for b in ecole.modele.bornes_wifi}
    declares = tuple(
        Attendu(eq, bornes[eq.nom].commutateur, bornes[eq.nom].port) if eq.nom in bornes else Attendu(eq)
        for eq in equipements_ecole(ecole)
    )
    noms = {d.nom for d in declares}
    if attendus is not None:
        inconnus = sorted(set(attendus) - noms)
        if inconnus:
            raise ErreurUsage(
                f"appareil(s) attendu(s) absent(s) du manifeste de {ecole.uai} : {', '.join(inconnus)}"
            )
        choisis = frozenset(attendus)
    else:
        choisis = frozenset(
            d.nom for d in declares
            if d.equipement.etat in ETATS_ATTENDUS and (d.equipement.adresse or d.equipement.mac)
        )  # fmt: skip
    dans_perimetre = frozenset(
        n for n in choisis
        if (eq := next(d.equipement for d in declares if d.nom == n)).adresse is None
        or any(eq.adresse in r for _, r in reseaux)
    )  # fmt: skip
    return Cibles(
        ecole=ecole,
        reseaux=reseaux,
        ports=ports,
        declares=declares,
        attendus=dans_perimetre,
        passerelles=frozenset(v.passerelle for v in ecole.modele.vlans),
    )
