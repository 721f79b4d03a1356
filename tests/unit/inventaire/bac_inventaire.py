"""Helpers for the inventory tests: a private copy of the example territory to break on purpose.

Tests edit one file with plain text replacements (so line numbers stay predictable), run
:func:`ardoise.inventaire.chargeur.valider` and look problems up by rule, file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ardoise.inventaire.chargeur import valider
from ardoise.inventaire.problemes import Probleme
from ardoise.inventaire.territoire import Territoire

DEPOT = Path(__file__).resolve().parents[3]

# Paths as the loader prints them: relative to the inventory's parent directory.
TERRITOIRE = "inventaire/territoire.yml"
COFFRE = "inventaire/coffre.yml"
CATALOGUE = "profils_terminaux/catalogue.yml"
JEAN_JAURES = "inventaire/communes/bellerive/ecoles/0331101t-jean-jaures.yml"
TILLEULS = "inventaire/communes/bellerive/ecoles/0331102u-les-tilleuls.yml"
LES_PINS = "inventaire/communes/castelnau/ecoles/0333301j-les-pins.yml"


def profil(nom: str) -> str:
    return f"profils_terminaux/profils/{nom}.yml"


@dataclass
class Bac:
    """A sandbox holding ``inventaire/`` and ``profils_terminaux/`` side by side."""

    racine: Path

    @property
    def inventaire(self) -> Path:
        return self.racine / "inventaire"

    def chemin(self, fichier: str) -> Path:
        return self.racine / fichier

    def lire(self, fichier: str) -> str:
        return self.chemin(fichier).read_text(encoding="utf-8")

    def ecrire(self, fichier: str, texte: str | bytes) -> Path:
        p = self.chemin(fichier)
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(texte, bytes):
            p.write_bytes(texte)
        else:
            p.write_text(texte, encoding="utf-8")
        return p

    def remplacer(self, fichier: str, ancien: str, nouveau: str) -> None:
        """Replace the single occurrence of ``ancien`` (the test fails if it is absent or repeated)."""
        texte = self.lire(fichier)
        n = texte.count(ancien)
        assert n == 1, f"{ancien!r} apparaît {n} fois dans {fichier}"
        self.ecrire(fichier, texte.replace(ancien, nouveau))

    def ligne(self, fichier: str, fragment: str, apres: str | None = None) -> int:
        """1-based line of the first line containing ``fragment`` (after the line holding ``apres``)."""
        lignes = self.lire(fichier).splitlines()
        debut = 0
        if apres is not None:
            debut = next(i for i, t in enumerate(lignes) if apres in t) + 1
        for i in range(debut, len(lignes)):
            if fragment in lignes[i]:
                return i + 1
        raise AssertionError(f"{fragment!r} introuvable dans {fichier}")

    def colonne(self, fichier: str, fragment: str, apres: str | None = None) -> int:
        """1-based column of ``fragment`` on the line :meth:`ligne` finds."""
        n = self.ligne(fichier, fragment, apres)
        return self.lire(fichier).splitlines()[n - 1].index(fragment) + 1

    def valider(self) -> tuple[Territoire | None, list[Probleme]]:
        return valider(self.inventaire)


def problemes_de(
    problemes: list[Probleme], regle: str | None = None, fichier: str | None = None
) -> list[Probleme]:
    return [
        p
        for p in problemes
        if (regle is None or p.regle == regle) and (fichier is None or p.fichier == fichier)
    ]


def unique(problemes: list[Probleme], regle: str | None = None, fichier: str | None = None) -> Probleme:
    """The one problem of ``regle`` (in ``fichier``); fails showing every problem otherwise."""
    trouves = problemes_de(problemes, regle, fichier)
    assert len(trouves) == 1, "\n".join(p.texte() + f"  [{p.regle}]" for p in problemes) or "aucun problème"
    return trouves[0]
