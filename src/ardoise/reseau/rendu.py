"""Render intended switch configurations from the manifest with the Jinja2 templates of ``reseau/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from ardoise.inventaire.modele import Commutateur
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.types import Etat
from ardoise.reseau.modele import ModeleCommutateur, construire
from ardoise.reseau.plateformes import plateforme
from ardoise.secrets import Secret

VARIABLE_GABARITS = "ARDOISE_GABARITS_RESEAU"


def dossier_gabarits() -> Path:
    """``$ARDOISE_GABARITS_RESEAU``, else ``reseau/`` at the root of the project."""
    if os.environ.get(VARIABLE_GABARITS):
        return Path(os.environ[VARIABLE_GABARITS])
    return Path(__file__).resolve().parents[3] / "reseau"


@lru_cache(maxsize=4)
def _environnement(dossier: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(dossier)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def rendre_modele(modele: ModeleCommutateur) -> str:
    gabarit = _environnement(dossier_gabarits()).get_template(plateforme(modele.plateforme).gabarit)
    return gabarit.render(c=modele)


def rendre(
    ecole: EcoleChargee,
    commutateur: Commutateur,
    secrets: dict[str, Secret] | None = None,
    clair: bool = False,
) -> str:
    """The intended configuration; secrets masked unless ``clair`` (push time only)."""
    return rendre_modele(construire(ecole, commutateur, secrets, clair))


@dataclass(frozen=True)
class Cible:
    """One switch to work on, with its school."""

    ecole: EcoleChargee
    commutateur: Commutateur

    @property
    def nom(self) -> str:
        return self.commutateur.nom


def cibles(
    t: Territoire, selection: Selection, noms: tuple[str, ...] = (), tous_etats: bool = False
) -> Iterator[Cible]:
    """The switches of the selection, in manifest order (in service only unless ``tous_etats``)."""
    for ecole in selection.ecoles_de(t):
        for c in ecole.modele.commutateurs:
            if noms and c.nom not in noms:
                continue
            if not tous_etats and c.etat is not Etat.en_service:
                continue
            yield Cible(ecole, c)
