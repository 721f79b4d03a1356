"""Group defaults: territory → commune → school, the nearest level wins, with provenance."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ardoise.inventaire.modele import Politique
from ardoise.inventaire.traduction import chemin_erreur, regle, traduire
from ardoise.inventaire.yaml_sur import DocumentYaml

DEFAUT = "defaut"


@dataclass(frozen=True)
class Niveau:
    """One level of defaults: its name (``territoire``, ``commune:x``, ``ecole:UAI``) and its data."""

    nom: str
    donnees: dict
    document: DocumentYaml | None
    prefixe: tuple  # where the ``politique`` mapping sits in ``document``


def fusionner(base: dict, dessus: dict) -> dict:
    """Deep-merge ``dessus`` over ``base``: mappings merge key by key, anything else replaces."""
    resultat = dict(base)
    for cle, valeur in dessus.items():
        if isinstance(valeur, dict) and isinstance(resultat.get(cle), dict):
            resultat[cle] = fusionner(resultat[cle], valeur)
        else:
            resultat[cle] = valeur
    return resultat


def _feuilles(donnees: dict, prefixe: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    for cle, valeur in donnees.items():
        if isinstance(valeur, dict) and valeur and set(valeur) != {"coffre"}:  # a vault ref is a leaf
            yield from _feuilles(valeur, prefixe + (cle,))
        else:
            yield prefixe + (cle,), valeur


def _contient(donnees: Any, chemin: tuple) -> int:
    """How many leading steps of ``chemin`` exist in ``donnees``."""
    n = 0
    for etape in chemin:
        if isinstance(donnees, dict) and etape in donnees:
            donnees = donnees[etape]
        elif isinstance(donnees, list) and isinstance(etape, int) and 0 <= etape < len(donnees):
            donnees = donnees[etape]
        else:
            break
        n += 1
    return n


@dataclass(frozen=True)
class ErreurPolitique:
    niveau: Niveau
    position: tuple[int, int]
    message: str
    correction: str
    regle: str


def resoudre(niveaux: list[Niveau]) -> tuple[Politique | None, dict[str, str], list[ErreurPolitique]]:
    """Merge the levels (farthest first) and validate the result.

    Returns the policy (None if invalid), the provenance of every leaf (``"proxy.port" → level``)
    and the errors, each attributed to the nearest level that holds the offending key.
    """
    fusion: dict = {}
    provenance: dict[str, str] = {}
    for niveau in niveaux:
        fusion = fusionner(fusion, niveau.donnees)
        for chemin, _ in _feuilles(niveau.donnees):
            nom = ".".join(str(c) for c in chemin)
            for existant in [k for k in provenance if k.startswith(nom + ".")]:
                del provenance[existant]
            provenance[nom] = niveau.nom
    try:
        politique = Politique.model_validate(fusion)
    except ValidationError as e:
        erreurs = []
        for err in e.errors(include_url=False):
            loc = chemin_erreur(err)
            # the nearest level holding the longest part of the path is the culprit
            niveau = max(reversed(niveaux), key=lambda n: _contient(n.donnees, loc))
            message, correction, a_cle = traduire(err, Politique)
            position = (
                niveau.document.position(niveau.prefixe + loc, cle=a_cle) if niveau.document else (1, 1)
            )
            erreurs.append(ErreurPolitique(niveau, position, message, correction, regle(err)))
        return None, provenance, erreurs
    for chemin, _ in _feuilles(politique.model_dump(mode="python")):
        nom = ".".join(str(c) for c in chemin)
        if nom not in provenance and not any(nom.startswith(k + ".") for k in provenance):
            provenance[nom] = DEFAUT
    return politique, provenance, []
