"""Validation problems: one shape for every rule, printed as ``fichier:ligne:colonne: …``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Probleme:
    """One problem in the manifest, with its location and a French fix."""

    fichier: str
    ligne: int
    colonne: int
    gravite: str  # "erreur" | "avertissement"
    message: str
    correction: str
    regle: str  # stable rule id, e.g. "ip-hors-vlan"

    def texte(self) -> str:
        """``fichier:ligne:colonne: erreur: message`` then the ``correction :`` line."""
        return (
            f"{self.fichier}:{self.ligne}:{self.colonne}: {self.gravite}: {self.message}\n"
            f"    correction : {self.correction}"
        )

    def en_dict(self) -> dict:
        return asdict(self)


class Problemes:
    """Collects problems while loading; files are shown relative to the inventory root."""

    def __init__(self, racine: Path) -> None:
        self.racine = racine
        self._liste: list[Probleme] = []

    def nom(self, chemin: Path) -> str:
        try:
            return str(chemin.resolve().relative_to(self.racine.resolve().parent))
        except ValueError:
            return str(chemin)

    def ajouter(
        self,
        chemin: Path,
        position: tuple[int, int],
        message: str,
        correction: str,
        regle: str,
        gravite: str = "erreur",
    ) -> None:
        self._liste.append(
            Probleme(self.nom(chemin), position[0], position[1], gravite, message, correction, regle)
        )

    @property
    def erreurs(self) -> list[Probleme]:
        return [p for p in self._liste if p.gravite == "erreur"]

    def tries(self) -> list[Probleme]:
        return sorted(set(self._liste))
