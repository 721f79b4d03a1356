"""Copy one commune's history between two results stores (SQLAlchemy, never a raw file copy).

The same copier serves both directions: exporting (rows of one commune, into a new store) and
importing (every row of an exported store, merged into the territory's). Ids are renumbered in the
target; a row already present (same natural key: run start, host and time, incident opening…) is
never copied twice, so an import can be re-run and a history that was never purged is not doubled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import (
    Echange,
    EtatAppareil,
    Evenement,
    Execution,
    Incident,
    Pret,
    ResultatHoteLigne,
    ResumeQuotidien,
    VerificationLigne,
)

TABLES = ("executions", "resultats", "verifications", "etats", "evenements", "incidents", "prets", "echanges",
          "resumes")  # fmt: skip


@dataclass(frozen=True)
class Portee:
    """Which rows are the commune's: its id, its hostnames and its UAIs."""

    commune: str
    hotes: frozenset[str]
    uais: frozenset[str]


def _temps(d: dt.datetime | None) -> str | None:
    if d is None:
        return None
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d.isoformat()


def _colonnes(obj: Any, sans: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in sans}


def compter(magasin: Magasin) -> dict[str, int]:
    """Rows per table (the import's dry run shows what an export holds)."""
    modeles = (
        Execution,
        ResultatHoteLigne,
        VerificationLigne,
        EtatAppareil,
        Evenement,
        Incident,
        Pret,
        Echange,
        ResumeQuotidien,
    )
    with magasin.session() as s:
        return {nom: len(s.scalars(select(m)).all()) for nom, m in zip(TABLES, modeles, strict=True)}


def copier(
    source: Magasin,
    cible: Magasin,
    portee: Portee | None = None,
    nettoyer: Callable[[Any], Any] = lambda v: v,
) -> dict[str, int]:
    """Copy the rows of ``portee`` (every row when None) from ``source`` into ``cible``; rows added per table."""
    ajoutes = dict.fromkeys(TABLES, 0)
    with source.session() as s, cible.session() as c:
        # -- runs and their per-host results ---------------------------------------------------
        req = select(ResultatHoteLigne).order_by(ResultatHoteLigne.id)
        if portee is not None:
            req = req.where(or_(ResultatHoteLigne.commune == portee.commune,
                                ResultatHoteLigne.uai.in_(portee.uais), ResultatHoteLigne.hote.in_(portee.hotes)))  # fmt: skip
        resultats = list(s.scalars(req))
        ids_ex = {r.execution_id for r in resultats}
        executions = [e for e in s.scalars(select(Execution).order_by(Execution.id))
                      if e.id in ids_ex or portee is None or _selection_de(e, portee)]  # fmt: skip
        existantes = {
            (e.genre, e.lot, _temps(e.debut), e.utilisateur): e.id for e in c.scalars(select(Execution))
        }
        carte_ex: dict[int, int] = {}
        for e in executions:
            cle = (e.genre, nettoyer(e.lot), _temps(e.debut), e.utilisateur)
            if cle in existantes:
                carte_ex[e.id] = existantes[cle]
                continue
            champs = _colonnes(e)
            champs.update(lot=nettoyer(e.lot), selection=nettoyer(e.selection), resume=nettoyer(e.resume))
            nouvelle = Execution(**champs)
            c.add(nouvelle)
            c.flush()
            carte_ex[e.id] = nouvelle.id
            ajoutes["executions"] += 1
        deja = {(r.execution_id, r.hote, _temps(r.horodatage))
                for r in c.scalars(select(ResultatHoteLigne).where(ResultatHoteLigne.execution_id.in_(set(carte_ex.values()))))}  # fmt: skip
        for r in resultats:
            ex = carte_ex[r.execution_id]
            if (ex, r.hote, _temps(r.horodatage)) in deja:
                continue
            champs = _colonnes(r)
            champs.update(execution_id=ex, details=nettoyer(r.details))
            ligne = ResultatHoteLigne(**champs)
            c.add(ligne)
            c.flush()
            ajoutes["resultats"] += 1
            for v in s.scalars(select(VerificationLigne).where(VerificationLigne.resultat_id == r.id)
                               .order_by(VerificationLigne.id)):  # fmt: skip
                c.add(VerificationLigne(**{**_colonnes(v), "resultat_id": ligne.id}))
                ajoutes["verifications"] += 1
        # -- device states: the most recent wins ------------------------------------------------
        req_etats = select(EtatAppareil)
        if portee is not None:
            req_etats = req_etats.where(EtatAppareil.hote.in_(portee.hotes))
        for etat in s.scalars(req_etats):
            actuel = c.get(EtatAppareil, etat.hote)
            if actuel is not None and (_temps(actuel.depuis) or "") >= (_temps(etat.depuis) or ""):
                continue
            champs = _colonnes(etat, sans=())
            champs["execution_id"] = carte_ex.get(etat.execution_id) if etat.execution_id else None
            if actuel is None:
                c.add(EtatAppareil(**champs))
            else:
                for k, v in champs.items():
                    setattr(actuel, k, v)
            ajoutes["etats"] += 1
        # -- audit trail, incidents, loans, swaps -----------------------------------------------
        ajoutes["evenements"] += _simples(s, c, Evenement, portee, nettoyer,
                                          lambda x: (_temps(x.horodatage), x.action, x.cible, x.qui))  # fmt: skip
        carte_inc = _incidents(s, c, portee, nettoyer, ajoutes)
        ajoutes["prets"] += _simples(s, c, Pret, portee, nettoyer, lambda x: (x.appareil, _temps(x.debut)))
        ajoutes["echanges"] += _simples(
            s, c, Echange, portee, nettoyer, lambda x: (x.poste, _temps(x.horodatage)),
            lambda champs: champs.update(incident_id=carte_inc.get(champs["incident_id"])),
        )  # fmt: skip
        # -- daily summaries left by the retention policy (maintenance purger) --------------------
        ajoutes["resumes"] += _simples(s, c, ResumeQuotidien, portee, nettoyer, lambda x: (x.hote, x.jour))
    return ajoutes


def _selection_de(e: Execution, p: Portee) -> bool:
    """A run without host results that was launched for this commune or its schools only."""
    sel = e.selection or {}
    communes, ecoles = sel.get("communes") or [], sel.get("ecoles") or []
    return bool(communes or ecoles) and set(communes) <= {p.commune} and set(ecoles) <= p.uais


def _filtre(modele: Any, p: Portee):
    if modele is Evenement:
        uais = [Evenement.cible.like(f"{u}/%") for u in p.uais]
        return or_(Evenement.commune == p.commune, Evenement.cible.in_(p.hotes | p.uais), *uais)
    if modele is Echange:
        return or_(Echange.commune == p.commune, Echange.poste.in_(p.hotes))
    if modele is ResumeQuotidien:
        return or_(ResumeQuotidien.commune == p.commune, ResumeQuotidien.uai.in_(p.uais),
                   ResumeQuotidien.hote.in_(p.hotes))  # fmt: skip
    return or_(modele.commune == p.commune, modele.appareil.in_(p.hotes))


def _simples(
    s: Session, c: Session, modele: Any, portee: Portee | None, nettoyer: Callable[[Any], Any],
    cle: Callable[[Any], tuple], ajuster: Callable[[dict], None] | None = None,
) -> int:  # fmt: skip
    req = select(modele).order_by(modele.id)
    if portee is not None:
        req = req.where(_filtre(modele, portee))
    presents = {cle(x) for x in c.scalars(select(modele))}
    n = 0
    for x in s.scalars(req):
        if cle(x) in presents:
            continue
        champs = {k: nettoyer(v) if k == "details" else v for k, v in _colonnes(x).items()}
        if ajuster:
            ajuster(champs)
        c.add(modele(**champs))
        n += 1
    c.flush()
    return n


def _incidents(s: Session, c: Session, portee: Portee | None, nettoyer: Callable[[Any], Any],
               ajoutes: dict[str, int]) -> dict[int, int]:  # fmt: skip
    req = select(Incident).order_by(Incident.id)
    if portee is not None:
        req = req.where(_filtre(Incident, portee))
    presents = {(x.appareil, _temps(x.ouvert_le), x.symptome): x.id for x in c.scalars(select(Incident))}
    carte: dict[int, int] = {}
    for x in s.scalars(req):
        cle = (x.appareil, _temps(x.ouvert_le), x.symptome)
        if cle in presents:
            carte[x.id] = presents[cle]
            continue
        champs = _colonnes(x)
        champs["suivi"] = nettoyer(x.suivi)
        nouveau = Incident(**champs)
        c.add(nouveau)
        c.flush()
        carte[x.id] = nouveau.id
        ajoutes["incidents"] += 1
    return carte


def compacter_sqlite(magasin: Magasin) -> None:
    """Leave a single self-contained SQLite file: WAL folded back, free pages dropped."""
    if magasin.moteur.dialect.name != "sqlite":
        return
    with magasin.moteur.connect() as connexion:
        connexion.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connexion.exec_driver_sql("PRAGMA journal_mode=DELETE")
        connexion.exec_driver_sql("VACUUM")
    magasin.moteur.dispose()
