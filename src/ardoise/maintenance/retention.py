"""Retention of maintenance results: beyond N days, one summary line per device and day, the detail deleted.

The policy (``ardoise maintenance purger --garder N``):

- maintenance results older than N whole days (UTC) are summarised per device and day in
  ``resumes_quotidiens`` (passes, how many OK / ATTENTION / CRITIQUE / injoignable, state at the
  day's last pass), then their detail (the result, its checks) is deleted;
- each device keeps its latest result and its latest successful one whatever their age, so the
  "latest state" of a report and the last-pass age of Nagios stay exact;
- runs left without any result are deleted; workshop, network and audit runs are never touched
  (they are the record of what was changed on a device);
- the reports draw the summarised days from the summaries (one trend point per day);
- idempotent: a second purge with the same N adds and deletes nothing.

The filtering logs a school must keep for one year are not in this store: they stay on the school
server (squid/e2guardian) with their own rotation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, insert, literal, or_, select

from ardoise.maintenance.historique import GENRE
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Execution, ResultatHoteLigne, ResumeQuotidien, VerificationLigne

R, E, Q, V = ResultatHoteLigne, Execution, ResumeQuotidien, VerificationLigne


@dataclass
class BilanPurge:
    limite: dt.datetime
    resumes: int  # daily summary lines added
    resultats: int  # device results deleted
    verifications: int  # check lines deleted
    executions: int  # empty runs deleted

    def en_lignes(self) -> list[dict[str, Any]]:
        return [
            {"element": "détail conservé à partir du", "valeur": f"{self.limite:%d/%m/%Y} (UTC)"},
            {"element": "résumés quotidiens ajoutés", "valeur": self.resumes},
            {"element": "résultats supprimés", "valeur": self.resultats},
            {"element": "vérifications supprimées", "valeur": self.verifications},
            {"element": "exécutions vides supprimées", "valeur": self.executions},
        ]


def limite(garder_jours: int, maintenant: dt.datetime | None = None) -> dt.datetime:
    """Midnight UTC ``garder_jours`` days before today: the oldest instant whose detail is kept."""
    jour = (maintenant or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date() - dt.timedelta(days=garder_jours)
    return dt.datetime.combine(jour, dt.time(), dt.UTC)


def _jour(dialecte: str):
    """The UTC day of a result, in SQL."""
    if dialecte == "postgresql":
        return func.date(func.timezone("UTC", R.horodatage))
    return func.date(R.horodatage)  # SQLite stores UTC wall time as text


def _conserves():
    """Ids every purge keeps: each device's latest result and its latest successful one."""
    dernier = func.row_number().over(partition_by=(R.uai, R.hote), order_by=(E.debut.desc(), R.id.desc()))
    reussi = func.row_number().over(
        partition_by=(R.uai, R.hote, R.statut == "ok"), order_by=(E.debut.desc(), R.id.desc())
    )
    rangs = (
        select(R.id.label("id"), R.statut.label("statut"), dernier.label("d"), reussi.label("r"))
        .join(E, E.id == R.execution_id)
        .where(E.genre == GENRE)
        .subquery()
    )
    return select(rangs.c.id).where(or_(rangs.c.d == 1, and_(rangs.c.r == 1, rangs.c.statut == "ok")))


def purger(magasin: Magasin, garder_jours: int, maintenant: dt.datetime | None = None) -> BilanPurge:
    """Apply the retention policy in one transaction (see the module docstring)."""
    if garder_jours < 1:
        raise ValueError("garder_jours doit valoir au moins 1")
    borne = limite(garder_jours, maintenant)
    jour = _jour(magasin.moteur.dialect.name)
    anciens = select(R.id).join(E, E.id == R.execution_id).where(E.genre == GENRE, R.horodatage < borne)
    with magasin.session() as s:
        # 1. one summary per device and day, for days not summarised yet
        dernier = func.row_number().over(
            partition_by=(R.hote, jour), order_by=(R.horodatage.desc(), R.id.desc())
        )
        rangs = (
            select(R.hote, R.uai, R.commune, R.etat, jour.label("jour"), dernier.label("rang"))
            .join(E, E.id == R.execution_id)
            .where(E.genre == GENRE, R.horodatage < borne)
            .subquery()
        )
        c = rangs.c

        def nombre(etat: str):
            return func.sum(case((func.coalesce(c.etat, "OK") == etat, 1), else_=0))

        par_jour = (
            select(
                c.hote, c.jour, func.max(c.uai), func.max(c.commune), func.count(), nombre("OK"),
                nombre("ATTENTION"), nombre("CRITIQUE"), nombre("injoignable"),
                func.coalesce(func.max(case((c.rang == 1, c.etat), else_=None)), literal("OK")),
            )
            .where(~exists().where(Q.hote == c.hote, Q.jour == c.jour))
            .group_by(c.hote, c.jour)
        )  # fmt: skip
        colonnes = ["hote", "jour", "uai", "commune", "passages", "ok", "attention", "critique", "injoignable",
                    "dernier_etat"]  # fmt: skip
        avant = s.scalar(select(func.count()).select_from(Q))
        s.execute(insert(Q).from_select(colonnes, par_jour))
        resumes = s.scalar(select(func.count()).select_from(Q)) - avant  # rowcount is -1 on some drivers
        # 2. the detail: checks, then results, except what every device keeps
        cible = anciens.where(R.id.not_in(_conserves()))
        verifications = s.execute(delete(V).where(V.resultat_id.in_(cible))).rowcount
        resultats = s.execute(delete(R).where(R.id.in_(cible))).rowcount
        # 3. maintenance runs left empty
        vides = delete(E).where(E.genre == GENRE, E.debut < borne, ~exists().where(R.execution_id == E.id))
        executions = s.execute(vides).rowcount
    return BilanPurge(borne, resumes, resultats, verifications, executions)
