"""Reading maintenance history back from the results store (reports, Nagios, the last-pass check)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Execution, ResultatHoteLigne, VerificationLigne

GENRE = "maintenance"
GENRES_REUSSITE = ("maintenance", "atelier")


@dataclass
class LigneHote:
    execution_id: int
    debut: dt.datetime
    hote: str
    uai: str | None
    commune: str | None
    statut: str
    etape: str | None
    raison: str | None
    horodatage: dt.datetime
    verifications: list[dict] = field(default_factory=list)

    def en_dict(self) -> dict:
        return {
            "execution": self.execution_id, "debut_execution": self.debut.isoformat(), "hote": self.hote,
            "uai": self.uai, "commune": self.commune, "statut": self.statut, "etape": self.etape,
            "raison": self.raison, "horodatage": self.horodatage.isoformat(), "verifications": self.verifications,
        }  # fmt: skip


def _utc(d: dt.datetime) -> dt.datetime:
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def dernieres_reussites(magasin: Magasin, hotes: list[str]) -> dict[str, dt.datetime]:
    """Host → time of its last successful workshop or maintenance pass."""
    if not hotes:
        return {}
    with magasin.session() as s:
        req = (
            select(ResultatHoteLigne.hote, func.max(ResultatHoteLigne.horodatage))
            .join(Execution, Execution.id == ResultatHoteLigne.execution_id)
            .where(Execution.genre.in_(GENRES_REUSSITE), ResultatHoteLigne.statut == "ok",
                   ResultatHoteLigne.hote.in_(hotes))
            .group_by(ResultatHoteLigne.hote)
        )  # fmt: skip
        return {h: _utc(d) for h, d in s.execute(req)}


def lignes(
    magasin: Magasin,
    uai: list[str] | None = None,
    communes: list[str] | None = None,
    depuis: dt.datetime | None = None,
    hotes: list[str] | None = None,
) -> list[LigneHote]:
    """Every host result of maintenance runs matching the filters, oldest first, with their checks."""
    with magasin.session() as s:
        req = (
            select(ResultatHoteLigne, Execution.debut)
            .join(Execution, Execution.id == ResultatHoteLigne.execution_id)
            .where(Execution.genre == GENRE)
            .order_by(Execution.debut, ResultatHoteLigne.id)
        )
        if uai:
            req = req.where(ResultatHoteLigne.uai.in_(uai))
        if communes:
            req = req.where(ResultatHoteLigne.commune.in_(communes))
        if hotes:
            req = req.where(ResultatHoteLigne.hote.in_(hotes))
        if depuis:
            req = req.where(Execution.debut >= depuis)
        resultat: dict[int, LigneHote] = {}
        for r, debut in s.execute(req):
            resultat[r.id] = LigneHote(r.execution_id, _utc(debut), r.hote, r.uai, r.commune, r.statut, r.etape,
                                       r.raison, _utc(r.horodatage))  # fmt: skip
        ids = list(resultat)
        for i in range(0, len(ids), 500):
            tranche = ids[i : i + 500]
            for v in s.scalars(
                select(VerificationLigne)
                .where(VerificationLigne.resultat_id.in_(tranche))
                .order_by(VerificationLigne.id)
            ):
                resultat[v.resultat_id].verifications.append(
                    {
                        "nom": v.nom,
                        "niveau": v.niveau,
                        "message": v.message,
                        "valeur": v.valeur,
                        "mesures": v.mesures,
                    }
                )
        return list(resultat.values())


def derniers_etats(lignes_: list[LigneHote]) -> dict[str, LigneHote]:
    """Host → its latest result among ``lignes_``."""
    resultat: dict[str, LigneHote] = {}
    for ligne in lignes_:
        resultat[ligne.hote] = ligne
    return resultat
