"""From a selection of the manifest to the sweep's targets, each with what its checks need to know."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ardoise.inventaire.modele import Politique
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Equipement, Territoire
from ardoise.inventaire.types import OS_LINUX, Etat, TypeEquipement

TYPES_SSH = frozenset({TypeEquipement.pc, TypeEquipement.serveur})


@dataclass(frozen=True)
class AppAttendue:
    id: str
    nom: str
    paquet: str
    flatpak: bool = False


@dataclass
class Contexte:
    """What a check knows about the device beyond its output (all from the manifest and the store)."""

    nom: str
    type: str
    os: str | None
    politique: Politique
    portable: bool = False
    applications: tuple[AppAttendue, ...] = ()
    domaine_bloque: tuple[str, str] | None = None  # (category, test domain) for the proxy fetch
    derniere_reussite: dt.datetime | None = None  # last successful workshop/maintenance run
    maintenant: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class Cible:
    nom: str
    adresse: str
    uai: str
    commune: str
    ssh: bool
    contexte: Contexte
    port: int = 22
    utilisateur: str = "technicien"


def domaine_de_test(politique: Politique) -> tuple[str, str] | None:
    """A test domain of the first blocked category that has one in the shipped UT1 sample lists."""
    from ardoise.labo.depuis_manifeste import categories_disponibles

    dispo = categories_disponibles()
    for c in politique.filtrage.categories_bloquees:
        if c in dispo:
            return c, dispo[c]
    return None


def cibles(
    t: Territoire, selection: Selection, derniers: dict[str, dt.datetime] | None = None
) -> list[Cible]:
    """The devices to check: in service (or named explicitly), with an address or a DNS name."""
    from ardoise.profils.resolution import profil_effectif

    selection = selection.verifier(t)
    if not selection.etats and not selection.noms:
        selection = Selection(selection.communes, selection.ecoles, selection.types, (Etat.en_service.value,))
    ecoles = {e.uai: e for e in t.ecoles}
    postes = {p.nom: p for e in t.ecoles for p in e.modele.postes}
    domaines: dict[str, tuple[str, str] | None] = {}
    resultat = []
    for eq in selection.equipements(t):
        ecole = ecoles[eq.uai]
        pol = ecole.politique
        ssh = eq.type in TYPES_SSH and eq.os in {o.value for o in OS_LINUX}
        apps: tuple[AppAttendue, ...] = ()
        poste = postes.get(eq.nom)
        if ssh and poste is not None and eq.type is TypeEquipement.pc:
            apps = tuple(_apps(t, a) for a in profil_effectif(t, ecole, poste).applications if a.installation)
        if eq.uai not in domaines:
            domaines[eq.uai] = domaine_de_test(pol)
        ctx = Contexte(
            nom=eq.nom, type=eq.type.value, os=eq.os, politique=pol,
            portable=bool(poste and poste.portable), applications=apps, domaine_bloque=domaines[eq.uai],
            derniere_reussite=(derniers or {}).get(eq.nom),
        )  # fmt: skip
        resultat.append(
            Cible(eq.nom, _adresse(eq, pol), eq.uai, eq.commune, ssh, ctx, utilisateur=pol.technicien.compte)
        )
    return resultat


def _apps(t: Territoire, a) -> AppAttendue:
    inst = t.applications[a.id].installation
    return AppAttendue(a.id, a.nom, a.installation, flatpak=not inst.debian)


def _adresse(eq: Equipement, pol: Politique) -> str:
    if eq.adresse is not None:
        return str(eq.adresse)
    return f"{eq.nom}.{eq.uai.lower()}.{pol.domaine}"
