"""Finding a device of the manifest by name, with a French message when it does not exist."""

from __future__ import annotations

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.modele import Poste
from ardoise.inventaire.territoire import Equipement, Territoire, equipements_ecole
from ardoise.inventaire.traduction import suggestion


def trouver(t: Territoire, nom: str) -> Equipement:
    """The device named ``nom`` (flat view)."""
    noms = []
    for e in t.ecoles:
        for eq in equipements_ecole(e):
            if eq.nom == nom:
                return eq
            noms.append(eq.nom)
    raise ErreurUsage(
        f"appareil « {nom} » inconnu{suggestion(nom, noms)} ; « ardoise inventaire lister » les montre"
    )


def poste(t: Territoire, nom: str) -> tuple[Equipement, Poste]:
    """A terminal (PC, tablet, iPad, ENI) by name: its flat view and its manifest model."""
    eq = trouver(t, nom)
    for p in t.ecole(eq.uai).modele.postes:
        if p.nom == nom:
            return eq, p
    raise ErreurUsage(f"« {nom} » est un {eq.type.value}, pas un poste (PC, tablette, iPad ou ENI)")
