"""The loaded territory: a frozen, validated object graph every engine reads.

Built only by :func:`ardoise.inventaire.chargeur.charger`; its query helpers are the one way to
find a school, a commune or a device.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.modele import (
    Commune,
    ContratMaintenance,
    Ecole,
    Fournisseur,
    Politique,
    Syndicat,
    Vlan,
)
from ardoise.inventaire.traduction import suggestion
from ardoise.inventaire.types import Etat, TypeEquipement
from ardoise.profils.modele import Application, Profil


@dataclass(frozen=True)
class EcoleChargee:
    """One school with its commune, its source file and its effective policy."""

    modele: Ecole
    commune: str
    fichier: str  # relative to the inventory's parent directory
    politique: Politique
    provenance: dict[str, str] = field(repr=False)

    @property
    def uai(self) -> str:
        return self.modele.uai

    @property
    def nom(self) -> str:
        return self.modele.nom

    def vlan(self, vlan_id: int) -> Vlan | None:
        return next((v for v in self.modele.vlans if v.id == vlan_id), None)

    def vlan_de(self, adresse: IPv4Address) -> Vlan | None:
        return next((v for v in self.modele.vlans if adresse in v.reseau), None)


@dataclass(frozen=True)
class Equipement:
    """A flat view of any device (terminal, switch, AP, server) for listings, exports, selections."""

    nom: str
    type: TypeEquipement
    commune: str
    uai: str
    ecole: str
    modele: str
    etat: Etat
    os: str | None = None
    profil: str | None = None
    adresse: IPv4Address | None = None
    vlan: int | None = None
    mac: str | None = None
    numero_serie: str | None = None
    salle: str | None = None
    classe: str | None = None
    date_achat: dt.date | None = None
    garantie_fin: dt.date | None = None

    def en_dict(self) -> dict:
        """JSON-ready dict (stable keys, documented in README)."""
        return {
            "nom": self.nom,
            "type": self.type.value,
            "commune": self.commune,
            "uai": self.uai,
            "ecole": self.ecole,
            "modele": self.modele,
            "etat": self.etat.value,
            "os": self.os,
            "profil": self.profil,
            "adresse": str(self.adresse) if self.adresse else None,
            "vlan": self.vlan,
            "mac": self.mac,
            "numero_serie": self.numero_serie,
            "salle": self.salle,
            "classe": self.classe,
            "date_achat": self.date_achat.isoformat() if self.date_achat else None,
            "garantie_fin": self.garantie_fin.isoformat() if self.garantie_fin else None,
        }


@dataclass(frozen=True)
class Territoire:
    """The whole validated manifest."""

    racine: Path
    syndicat: Syndicat
    politique: Politique
    provenance: dict[str, str] = field(repr=False)
    communes: tuple[Commune, ...]
    fournisseurs: tuple[Fournisseur, ...]
    contrats: tuple[ContratMaintenance, ...]
    ecoles: tuple[EcoleChargee, ...]
    applications: dict[str, Application] = field(repr=False)
    profils: dict[str, Profil] = field(repr=False)
    fichier_coffre: Path
    noms_coffre: frozenset[str] = field(repr=False)
    empreinte: str = ""  # of the source files, for caches

    def ecole(self, uai: str) -> EcoleChargee:
        """The school with this UAI; a French usage error naming close UAIs otherwise."""
        uai = uai.strip().upper()
        for e in self.ecoles:
            if e.uai == uai:
                return e
        raise ErreurUsage(
            f"école « {uai} » inconnue{suggestion(uai, [e.uai for e in self.ecoles])}"
            " ; « ardoise inventaire lister --type serveur » montre les écoles"
        )

    def commune(self, ident: str) -> Commune:
        for c in self.communes:
            if c.id == ident or c.insee == ident:
                return c
        raise ErreurUsage(
            f"commune « {ident} » inconnue{suggestion(ident, [c.id for c in self.communes])} ;"
            f" communes : {', '.join(c.id for c in self.communes)}"
        )

    def ecoles_de(self, commune: str) -> tuple[EcoleChargee, ...]:
        ident = self.commune(commune).id
        return tuple(e for e in self.ecoles if e.commune == ident)

    def equipements(self) -> Iterator[Equipement]:
        """Every device of the territory, school by school, in manifest order."""
        for e in self.ecoles:
            yield from equipements_ecole(e)


def equipements_ecole(e: EcoleChargee) -> Iterator[Equipement]:
    """The flat view of every device of one school."""
    m = e.modele
    commun = {"commune": e.commune, "uai": e.uai, "ecole": e.nom}
    if m.serveur:
        s = m.serveur
        yield Equipement(
            nom=s.nom,
            type=TypeEquipement.serveur,
            modele=s.modele,
            etat=s.etat,
            os=s.os.value,
            adresse=s.adresse,
            vlan=s.vlan,
            mac=s.mac,
            numero_serie=s.numero_serie,
            date_achat=s.date_achat,
            garantie_fin=s.garantie.fin if s.garantie else None,
            **commun,
        )
    for c in m.commutateurs:
        yield Equipement(
            nom=c.nom,
            type=TypeEquipement.switch,
            modele=c.modele,
            etat=c.etat,
            os=c.plateforme.value,
            adresse=c.gestion.adresse,
            vlan=c.gestion.vlan,
            mac=c.mac,
            numero_serie=c.numero_serie,
            salle=c.salle,
            date_achat=c.date_achat,
            garantie_fin=c.garantie.fin if c.garantie else None,
            **commun,
        )
    for b in m.bornes_wifi:
        yield Equipement(
            nom=b.nom,
            type=TypeEquipement.ap,
            modele=b.modele,
            etat=b.etat,
            os=b.plateforme,
            adresse=b.adresse,
            vlan=b.vlan,
            mac=b.mac,
            numero_serie=b.numero_serie,
            salle=b.salle,
            date_achat=b.date_achat,
            garantie_fin=b.garantie.fin if b.garantie else None,
            **commun,
        )
    for p in m.postes:
        vlan = p.vlan
        if vlan is None and p.adresse is not None:
            v = e.vlan_de(p.adresse)
            vlan = v.id if v else None
        yield Equipement(
            nom=p.nom,
            type=TypeEquipement(p.type.value),
            modele=p.modele,
            etat=p.etat,
            os=p.os.value,
            profil=p.profil,
            adresse=p.adresse,
            vlan=vlan,
            mac=p.mac,
            numero_serie=p.numero_serie,
            salle=p.salle,
            classe=p.classe,
            date_achat=p.date_achat,
            garantie_fin=p.garantie.fin if p.garantie else None,
            **commun,
        )
