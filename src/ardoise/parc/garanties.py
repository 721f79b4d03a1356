"""Manufacturer warranty vs maintenance contract: which one covers a device on a given day.

A warranty is carried by each device (``garantie: {fournisseur, fin, niveau}``); a maintenance
contract is a territory agreement (``contrats_maintenance``) covering device types in some
communes for a period. People mix them up; an incident goes to:

1. the manufacturer warranty while it runs (it costs nothing),
2. else the maintenance contract covering the device's type and commune on that day,
3. else nobody: the repair is a quote paid by the commune (``hors_couverture``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from ardoise.inventaire.territoire import Equipement, Territoire

LIBELLES_VOIES = {
    "garantie": "garantie constructeur",
    "maintenance": "contrat de maintenance",
    "hors_couverture": "hors garantie et hors contrat (devis)",
}


class Voie(StrEnum):
    garantie = "garantie"
    maintenance = "maintenance"
    hors_couverture = "hors_couverture"

    @property
    def libelle(self) -> str:
        return LIBELLES_VOIES[self.value]


@dataclass(frozen=True)
class Acheminement:
    """Where an incident on a device goes, and why."""

    voie: Voie
    fournisseur: str | None  # supplier id or name
    nom_fournisseur: str | None
    niveau: str | None
    contrat: str | None = None
    fin: dt.date | None = None  # end of the warranty or contract that applies
    garantie_fin: dt.date | None = None  # the device's warranty end, even when expired

    def en_dict(self) -> dict:
        return {
            "voie": self.voie.value,
            "libelle": self.voie.libelle,
            "fournisseur": self.nom_fournisseur or self.fournisseur,
            "niveau": self.niveau,
            "contrat": self.contrat,
            "fin": self.fin.isoformat() if self.fin else None,
        }


def _nom_fournisseur(t: Territoire, ident: str | None) -> str | None:
    if ident is None:
        return None
    return next((f.nom for f in t.fournisseurs if f.id == ident), ident)


def garantie_de(t: Territoire, eq: Equipement):
    """The device's own ``garantie`` model (the flat view keeps only its end date)."""
    m = t.ecole(eq.uai).modele
    objets = list(m.postes) + list(m.commutateurs) + list(m.bornes_wifi) + ([m.serveur] if m.serveur else [])
    for o in objets:
        if o.nom == eq.nom:
            return o.garantie
    return None


def acheminer(t: Territoire, eq: Equipement, jour: dt.date | None = None, garantie=None) -> Acheminement:
    """Route an incident on ``eq`` on ``jour`` (default: today)."""
    jour = jour or dt.date.today()
    g = garantie if garantie is not None else garantie_de(t, eq)
    if g is not None and g.fin >= jour:
        return Acheminement(Voie.garantie, g.fournisseur, _nom_fournisseur(t, g.fournisseur), g.niveau,
                            fin=g.fin, garantie_fin=g.fin)  # fmt: skip
    for c in t.contrats:
        if eq.type not in c.types or (c.communes and eq.commune not in c.communes):
            continue
        if c.debut <= jour <= c.fin:
            return Acheminement(Voie.maintenance, c.fournisseur, _nom_fournisseur(t, c.fournisseur), c.niveau,
                                contrat=c.id, fin=c.fin, garantie_fin=g.fin if g else None)  # fmt: skip
    return Acheminement(Voie.hors_couverture, None, None, None, garantie_fin=g.fin if g else None)


def lignes_garanties(
    t: Territoire,
    equipements: list[Equipement],
    expirant_avant: dt.date | None = None,
    jour: dt.date | None = None,
) -> list[dict]:
    """One row per device: warranty, its end, days left, and the route an incident would take today."""
    jour = jour or dt.date.today()
    lignes = []
    for eq in equipements:
        g = garantie_de(t, eq)
        if expirant_avant is not None and (g is None or g.fin >= expirant_avant):
            continue
        a = acheminer(t, eq, jour, g)
        lignes.append({
            "nom": eq.nom, "type": eq.type.value, "commune": eq.commune, "uai": eq.uai,
            "garantie_fournisseur": _nom_fournisseur(t, g.fournisseur) if g else None,
            "garantie_fin": g.fin.isoformat() if g else None,
            "garantie_niveau": g.niveau if g else None,
            "jours_restants": (g.fin - jour).days if g else None,
            "voie": a.voie.value, "couverture": a.voie.libelle, "contrat": a.contrat,
            "intervenant": a.nom_fournisseur, "niveau": a.niveau,
        })  # fmt: skip
    lignes.sort(key=lambda x: (x["garantie_fin"] or "9999", x["nom"]))
    return lignes
