"""Which devices a workshop command works on: ``--ecole``, ``--postes`` or ``--lot FICHIER``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Equipement, Territoire
from ardoise.inventaire.types import OS_LINUX, Etat, TypeEquipement


@dataclass(frozen=True)
class Lot:
    """A workshop batch: its name and its devices (Linux PCs to prepare, others set aside with why)."""

    nom: str
    postes: tuple[Equipement, ...]
    ignores: tuple[tuple[Equipement, str], ...] = ()


def lire_fichier_lot(fichier: Path) -> tuple[str, ...]:
    """A batch file: one device name per line (``#`` comments, blank lines and commas allowed)."""
    try:
        texte = fichier.read_text(encoding="utf-8")
    except OSError as e:
        raise ErreurUsage(f"fichier de lot illisible : {fichier} ({e.strerror})") from None
    noms = [n.strip() for ligne in texte.splitlines() for n in ligne.split("#", 1)[0].split(",") if n.strip()]
    if not noms:
        raise ErreurUsage(f"le fichier de lot {fichier} ne nomme aucun appareil")
    return tuple(dict.fromkeys(noms))


def choisir(
    t: Territoire, ecole: str | None = None, postes: tuple[str, ...] = (), fichier_lot: Path | None = None
) -> Lot:
    """The batch. ``--ecole``: that school's PCs whose manifest state is ``atelier``; ``--postes`` /
    ``--lot``: exactly the named devices. Non-Linux PCs and non-PCs are set aside with the reason."""
    donnes = sum(bool(x) for x in (ecole, postes, fichier_lot))
    if donnes != 1:
        raise ErreurUsage("indiquez exactement une sélection : --ecole UAI, --postes H1,H2… ou --lot FICHIER")
    aujourdhui = dt.date.today().isoformat()
    if ecole:
        sel = Selection(ecoles=(ecole,), etats=(Etat.atelier.value,)).verifier(t)
        nom = f"{sel.ecoles[0]}-{aujourdhui}"
    else:
        noms = lire_fichier_lot(fichier_lot) if fichier_lot else postes
        sel = Selection(noms=noms).verifier(t)
        nom = fichier_lot.stem if fichier_lot else f"postes-{aujourdhui}"
    retenus, ignores = [], []
    for eq in sel.equipements(t):
        if eq.type is not TypeEquipement.pc:
            ignores.append((eq, f"{eq.type.value} : l'atelier ne prépare que les PC"))
        elif eq.os not in {o.value for o in OS_LINUX}:
            ignores.append(
                (eq, f"système {eq.os} : préparation à l'atelier non prise en charge (PC Linux seulement)")
            )
        elif not eq.adresse:
            ignores.append((eq, "aucune adresse dans le manifeste : l'atelier ne peut pas le joindre"))
        else:
            retenus.append(eq)
    if not retenus:
        raise ErreurUsage(
            "aucun PC Linux à préparer dans cette sélection"
            + (
                " (avec --ecole, seuls les appareils à l'état « atelier » du manifeste sont pris)"
                if ecole
                else ""
            )
        )
    return Lot(nom, tuple(retenus), tuple(ignores))


def restreindre(lot: Lot, noms: tuple[str, ...], raison: str) -> Lot:
    """The batch limited to ``noms`` (the others set aside with ``raison``)."""
    gardes = tuple(p for p in lot.postes if p.nom in noms)
    if not gardes:
        raise ErreurUsage(f"aucun poste du lot : tous sont {raison}")
    return Lot(lot.nom, gardes, lot.ignores + tuple((p, raison) for p in lot.postes if p.nom not in noms))
