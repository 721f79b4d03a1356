"""A finding of the audit: what is wrong, how bad, the evidence, and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from ardoise.resultats.forme import Niveau


class Gravite(StrEnum):
    critique = "critique"
    haute = "haute"
    moyenne = "moyenne"
    basse = "basse"

    @property
    def rang(self) -> int:
        return list(Gravite).index(self)

    @property
    def niveau(self) -> Niveau:
        """The results store's level (Nagios order)."""
        return Niveau.CRITIQUE if self in (Gravite.critique, Gravite.haute) else Niveau.ATTENTION


@dataclass(frozen=True)
class Constat:
    """One finding. ``sujet`` (a MAC, a host, a category…) with ``code`` identifies it across audits."""

    code: str  # stable id: hote-inconnu, hote-absent, mauvais-vlan, …
    gravite: Gravite
    titre: str  # one French sentence a head of school can read
    preuve: str  # the technical evidence (addresses, ports, command output)
    quoi_faire: str
    sujet: str
    partie: str = "reseau"  # reseau / filtrage / debit
    hote: str = ""  # the store row it is recorded under (a device, « filtrage », « debit »)

    @property
    def cle(self) -> str:
        return f"{self.code}:{self.sujet}"

    def en_dict(self) -> dict:
        d = asdict(self)
        d["gravite"] = self.gravite.value
        d["cle"] = self.cle
        return d


def trier(constats: list[Constat]) -> list[Constat]:
    return sorted(constats, key=lambda c: (c.gravite.rang, c.partie, c.code, c.sujet))
