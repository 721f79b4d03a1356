"""A device's effective profile: profile chain + school overrides + approved teacher requests.

Every value says where it came from (``profil:pc-eleve``, ``ecole:0331101T``, ``demande:d-12``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.modele import Poste
from ardoise.inventaire.traduction import suggestion
from ardoise.inventaire.types import STATUTS_ACCORDES
from ardoise.profils.modele import ParametresProfil, Profil

if TYPE_CHECKING:
    from ardoise.inventaire.territoire import EcoleChargee, Territoire


class CycleProfils(ValueError):
    """A profile inherits from itself, directly or not."""


@dataclass(frozen=True)
class AppEffective:
    id: str
    nom: str
    source: str
    installation: str | None  # the install reference for the device's OS (None: not for this OS)


@dataclass(frozen=True)
class ProfilEffectif:
    poste: str
    profil: str
    chaine: tuple[str, ...]  # root first
    applications: tuple[AppEffective, ...]
    parametres: dict[str, tuple[Any, str]]  # name → (value, source)

    def en_dict(self) -> dict:
        return {
            "poste": self.poste,
            "profil": self.profil,
            "chaine": list(self.chaine),
            "applications": [a.__dict__ for a in self.applications],
            "parametres": {k: {"valeur": v, "source": s} for k, (v, s) in self.parametres.items()},
        }


def chaine(profils: dict[str, Profil], ident: str) -> list[str]:
    """The inheritance chain of ``ident``, root first; raises CycleProfils or KeyError."""
    vus: list[str] = []
    courant: str | None = ident
    while courant is not None:
        if courant in vus:
            raise CycleProfils(" → ".join([*vus, courant]))
        vus.append(courant)
        courant = profils[courant].herite_de
    return list(reversed(vus))


def types_profil(profils: dict[str, Profil], ident: str) -> list[str]:
    """The device types a profile is for: its own, or its nearest ancestor's."""
    for nom in reversed(chaine(profils, ident)):
        if profils[nom].types:
            return [t.value for t in profils[nom].types]
    return []


def applications_de(territoire: Territoire, ecole: EcoleChargee, poste: Poste) -> dict[str, str]:
    """App id → source for a device (no OS filtering; used by validation for licences)."""
    apps: dict[str, str] = {}
    for nom in chaine(territoire.profils, poste.profil):
        p = territoire.profils[nom]
        for a in p.applications:
            apps[a] = f"profil:{nom}"
        for a in p.retirer:
            apps.pop(a, None)
    for nom in chaine(territoire.profils, poste.profil):  # a school override of pc-eleve also applies
        surcharge = ecole.modele.profils.get(nom)  # to the profiles inheriting from it
        if surcharge:
            for a in surcharge.ajouter:
                apps[a] = f"ecole:{ecole.uai}"
            for a in surcharge.retirer:
                apps.pop(a, None)
    if poste.classe:
        for d in ecole.modele.demandes:
            if d.classe == poste.classe and d.statut in STATUTS_ACCORDES:
                apps.setdefault(d.application, f"demande:{d.id} ({d.enseignant})")
    return apps


def resoudre(territoire: Territoire, nom_poste: str) -> ProfilEffectif:
    """The effective profile of the device named ``nom_poste``."""
    for ecole in territoire.ecoles:
        for poste in ecole.modele.postes:
            if poste.nom == nom_poste:
                return profil_effectif(territoire, ecole, poste)
    noms = [p.nom for e in territoire.ecoles for p in e.modele.postes]
    raise ErreurUsage(f"poste « {nom_poste} » inconnu{suggestion(nom_poste, noms)}")


def profil_effectif(territoire: Territoire, ecole: EcoleChargee, poste: Poste) -> ProfilEffectif:
    noms = chaine(territoire.profils, poste.profil)
    parametres: dict[str, tuple[Any, str]] = {}
    for nom in noms:
        for cle, valeur in territoire.profils[nom].parametres.model_dump(exclude_none=True).items():
            parametres[cle] = (valeur, f"profil:{nom}")
    for cle in ParametresProfil.model_fields:
        parametres.setdefault(cle, (None, "defaut"))
    if parametres["page_accueil"][0] is None:
        nav = ecole.politique.navigateur.page_accueil
        parametres["page_accueil"] = (
            nav or ecole.politique.ent.url,
            f"politique:{ecole.provenance.get('navigateur.page_accueil' if nav else 'ent.url', 'defaut')}",
        )
    apps = []
    for ident, source in applications_de(territoire, ecole, poste).items():
        app = territoire.applications[ident]
        apps.append(AppEffective(ident, app.nom, source, app.installation.pour_os(poste.os)))
    return ProfilEffectif(poste.nom, poste.profil, tuple(noms), tuple(apps), parametres)
