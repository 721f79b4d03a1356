"""Reading maintenance history back from the results store (reports, Nagios, the last-pass check)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, func, select

from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Execution, ResultatHoteLigne, ResumeQuotidien, VerificationLigne

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


def _verifications(s, par_id: dict[int, LigneHote]) -> None:
    """Attach their checks to ``par_id``'s results (columns only: no ORM object per check)."""
    V = VerificationLigne
    ids = list(par_id)
    for i in range(0, len(ids), 1000):
        req = (
            select(V.resultat_id, V.nom, V.niveau, V.message, V.valeur, V.mesures)
            .where(V.resultat_id.in_(ids[i : i + 1000]))
            .order_by(V.id)
        )
        for rid, nom, niveau, message, valeur, mesures in s.execute(req):
            par_id[rid].verifications.append(
                {"nom": nom, "niveau": niveau, "message": message, "valeur": valeur, "mesures": mesures}
            )


def derniers(magasin: Magasin, uai: list[str], depuis: dt.datetime | None = None) -> list[LigneHote]:
    """The latest maintenance result of every device of these schools (latest run first, then latest write).

    One ranked query over the ``(uai, execution_id, hote, etat, id)`` index, then the checks of those
    results only: the cost follows the number of devices, not the length of the history.
    """
    if not uai:
        return []
    req = requete_derniers(uai, depuis)
    with magasin.session() as s:
        par_id = {
            rid: LigneHote(ex, _utc(debut), hote, u, commune, statut, etape, raison, _utc(h))
            for rid, ex, debut, hote, u, commune, statut, etape, raison, h in s.execute(req)
        }
        _verifications(s, par_id)
    return list(par_id.values())


def requete_derniers(uai: list[str], depuis: dt.datetime | None = None) -> Select:
    """The query of :func:`derniers` (exposed so tests can EXPLAIN it)."""
    R, E = ResultatHoteLigne, Execution
    rang = func.row_number().over(partition_by=(R.uai, R.hote), order_by=(E.debut.desc(), R.id.desc()))
    classes = select(R.id.label("id"), rang.label("rang")).join(E, E.id == R.execution_id)
    classes = classes.where(E.genre == GENRE, R.uai.in_(uai))
    if depuis:
        classes = classes.where(E.debut >= depuis)
    sous = classes.subquery()
    return (
        select(
            R.id, R.execution_id, E.debut, R.hote, R.uai, R.commune, R.statut, R.etape, R.raison, R.horodatage
        )
        .join(E, E.id == R.execution_id)
        .join(sous, sous.c.id == R.id)
        .where(sous.c.rang == 1)
        .order_by(R.uai, R.hote)
    )


def comptes_par_execution(
    magasin: Magasin, uai: list[str], depuis: dt.datetime | None = None
) -> list[tuple[str, int, dt.datetime, str, int]]:
    """(uai, run, run start, device state, devices) for every maintenance run of these schools (in SQL)."""
    if not uai:
        return []
    with magasin.session() as s:
        return [
            (u, ex, _utc(d), etat or "OK", n) for u, ex, d, etat, n in s.execute(requete_comptes(uai, depuis))
        ]


def requete_comptes(uai: list[str], depuis: dt.datetime | None = None) -> Select:
    """The query of :func:`comptes_par_execution` (exposed so tests can EXPLAIN it)."""
    R, E = ResultatHoteLigne, Execution
    req = (
        select(R.uai, R.execution_id, E.debut, R.etat, func.count())
        .join(E, E.id == R.execution_id)
        .where(E.genre == GENRE, R.uai.in_(uai))
        .group_by(R.uai, R.execution_id, E.debut, R.etat)
    )
    if depuis:
        req = req.where(E.debut >= depuis)
    return req


def comptes_par_jour(
    magasin: Magasin, uai: list[str], depuis: dt.datetime | None = None
) -> list[tuple[str, dt.date, str, int]]:
    """(uai, day, state at the day's last pass, devices) from the daily summaries left by the retention."""
    if not uai:
        return []
    Q = ResumeQuotidien
    req = select(Q.uai, Q.jour, Q.dernier_etat, func.count()).where(Q.uai.in_(uai))
    if depuis:
        req = req.where(Q.jour >= depuis.date())
    with magasin.session() as s:
        return [tuple(r) for r in s.execute(req.group_by(Q.uai, Q.jour, Q.dernier_etat))]


def derniers_etats(lignes_: list[LigneHote]) -> dict[str, LigneHote]:
    """Host → its latest result among ``lignes_``."""
    resultat: dict[str, LigneHote] = {}
    for ligne in lignes_:
        resultat[ligne.hote] = ligne
    return resultat
