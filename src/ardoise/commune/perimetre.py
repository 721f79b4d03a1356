"""What belongs to one commune, and the identifiers of every other commune (for leak checks)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ardoise.inventaire.chargeur import FICHIER_TERRITOIRE
from ardoise.inventaire.territoire import EcoleChargee, Territoire, equipements_ecole
from ardoise.inventaire.yaml_sur import lire
from ardoise.profils.resolution import chaine


@dataclass(frozen=True)
class Perimetre:
    """One commune's share of the territory."""

    commune: str
    ecoles: tuple[EcoleChargee, ...]
    fichiers_ecoles: tuple[Path, ...]  # absolute source files
    hotes: frozenset[str]
    uais: frozenset[str]
    secrets: dict[str, tuple[str, ...]]  # secret name -> files referencing it (relative to the inventory)
    profils: tuple[str, ...]
    applications: frozenset[str]
    annexes: tuple[str, ...]  # other files the manifest points to, relative to the inventory (DPC APK…)


def references_coffre(donnees: Any) -> Iterator[str]:
    """Every ``{coffre: nom}`` inside plain data."""
    if isinstance(donnees, dict):
        if set(donnees) == {"coffre"} and isinstance(donnees["coffre"], str):
            yield donnees["coffre"]
            return
        for v in donnees.values():
            yield from references_coffre(v)
    elif isinstance(donnees, list):
        for v in donnees:
            yield from references_coffre(v)


def perimetre(t: Territoire, ident: str) -> Perimetre:
    """The commune ``ident`` (id or INSEE code; unknown: a French error with a suggestion)."""
    commune = t.commune(ident)
    ecoles = t.ecoles_de(commune.id)
    fichiers = tuple((t.racine.parent / e.fichier).resolve() for e in ecoles)
    secrets: dict[str, set[str]] = {}

    def noter(noms: Iterable[str], fichier: str) -> None:
        for n in noms:
            secrets.setdefault(n, set()).add(fichier)

    brut = lire(t.racine / FICHIER_TERRITOIRE).donnees
    noter(references_coffre(brut.get("politique") or {}), FICHIER_TERRITOIRE)
    for c in brut.get("communes") or []:
        if isinstance(c, dict) and c.get("id") == commune.id:
            noter(references_coffre(c.get("politique") or {}), FICHIER_TERRITOIRE)
    for f in fichiers:
        noter(references_coffre(lire(f).donnees), str(f.relative_to(t.racine.resolve())))
    profils: set[str] = set()
    applications: set[str] = set()
    for e in ecoles:
        m = e.modele
        racines = {p.profil for p in m.postes} | set(m.profils)
        for r in racines:
            if r in t.profils:
                profils.update(chaine(t.profils, r))
        for s in m.profils.values():
            applications.update(s.ajouter, s.retirer)
        applications.update(d.application for d in m.demandes)
    for p in profils:
        applications.update(t.profils[p].applications, t.profils[p].retirer)
    annexes = sorted(
        {e.politique.dpc.fichier_apk for e in ecoles if e.politique.dpc and e.politique.dpc.fichier_apk}
    )
    hotes = frozenset(eq.nom for e in ecoles for eq in equipements_ecole(e))
    return Perimetre(
        commune=commune.id, ecoles=ecoles, fichiers_ecoles=fichiers, hotes=hotes,
        uais=frozenset(e.uai for e in ecoles),
        secrets={n: tuple(sorted(f)) for n, f in sorted(secrets.items())},
        profils=tuple(sorted(profils)), applications=frozenset(a for a in applications if a in t.applications),
        annexes=tuple(str(a) for a in annexes),
    )  # fmt: skip


def jetons(t: Territoire, ecoles: Iterable[EcoleChargee], communes: Iterable[str]) -> set[str]:
    """Identifiers that name these communes and schools: ids, names, UAIs, hostnames, IPs, MACs, serials."""
    resultat: set[str] = set()
    for c in t.communes:
        if c.id in communes:
            resultat.update((c.id, c.nom, c.insee))
    for e in ecoles:
        m = e.modele
        resultat.update((e.uai, m.nom, Path(e.fichier).stem))
        for v in m.vlans:
            resultat.update((str(v.passerelle), str(v.reseau)))
        for eq in equipements_ecole(e):
            resultat.add(eq.nom)
            for valeur in (eq.adresse, eq.mac, eq.numero_serie):
                if valeur:
                    resultat.add(str(valeur))
    return {j for j in resultat if len(j) >= 4}


def jetons_etrangers(t: Territoire, p: Perimetre) -> set[str]:
    """What names the OTHER communes and nothing of this one."""
    autres = [c.id for c in t.communes if c.id != p.commune]
    etrangers = jetons(t, [e for e in t.ecoles if e.commune != p.commune], autres)
    return etrangers - jetons(t, p.ecoles, [p.commune])


def motif(textes: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of ``textes`` as a whole word (not inside a longer id)."""
    tries = sorted({x for x in textes if x}, key=len, reverse=True)
    if not tries:
        return None
    corps = "|".join(re.escape(x) for x in tries)
    return re.compile(rf"(?<![0-9A-Za-z])(?:{corps})(?![0-9A-Za-z])", re.IGNORECASE)


def nettoyer(valeur: Any, m: re.Pattern[str] | None) -> Any:
    """Plain data without what ``m`` matches: keys and list items dropped, text masked."""
    if m is None:
        return valeur
    if isinstance(valeur, dict):
        return {k: nettoyer(v, m) for k, v in valeur.items() if not (isinstance(k, str) and m.fullmatch(k))}
    if isinstance(valeur, list | tuple):
        return [nettoyer(v, m) for v in valeur if not (isinstance(v, str) and m.fullmatch(v))]
    if isinstance(valeur, str):
        return m.sub("(autre commune)", valeur)
    return valeur
