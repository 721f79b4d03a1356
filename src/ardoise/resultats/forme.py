"""The one result shape every action returns per host (workshop, maintenance, switch push, tablets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class StatutHote(StrEnum):
    ok = "ok"
    echec = "echec"
    injoignable = "injoignable"
    refuse = "refuse"  # authentication or host key refused
    ignore = "ignore"


class Niveau(StrEnum):
    """Status of one check (Nagios order: OK < ATTENTION < CRITIQUE; INCONNU apart)."""

    OK = "OK"
    ATTENTION = "ATTENTION"
    CRITIQUE = "CRITIQUE"
    INCONNU = "INCONNU"


@dataclass
class Verification:
    """The outcome of one check on one host."""

    nom: str
    libelle: str
    niveau: Niveau
    message: str
    valeur: str | None = None
    mesures: dict[str, float] = field(default_factory=dict)  # perfdata


@dataclass
class ResultatHote:
    """What happened on one host: changed / failed / step / reason / diff / duration, and checks."""

    hote: str
    statut: StatutHote
    change: bool = False
    etape: str | None = None  # the failed step, when failed
    raison: str | None = None  # French, already redacted
    diff: str | None = None
    duree_s: float = 0.0
    verifications: list[Verification] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def echoue(self) -> bool:
        return self.statut is not StatutHote.ok and self.statut is not StatutHote.ignore


ETATS = ("OK", "ATTENTION", "CRITIQUE", "injoignable")


def etat_appareil(statut: str, niveaux: list[str] | set[str]) -> str:
    """A device's overall state after a run: ``injoignable`` unless reached, else its worst check.

    INCONNU checks count as OK here (the report's rule); the state is stored with each result
    (``resultats_hotes.etat``) so reports count states in SQL.
    """
    if statut != StatutHote.ok.value:
        return "injoignable"
    for n in ("CRITIQUE", "ATTENTION"):
        if n in niveaux:
            return n
    return "OK"
