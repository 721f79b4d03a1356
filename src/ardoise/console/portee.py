"""THE query layer of the console: every page and every action reads through a :class:`Portee`.

A ``Portee`` is one user's view of the manifest and the results store: it only ever returns schools,
devices, runs, results, jobs, requests and accounts of the user's communes. An object outside them is
reported exactly like an object that does not exist (:class:`Introuvable`, HTTP 404), and the refusal is
journaled; an action the role may not take is :class:`Interdit` (HTTP 403). Routes never filter by
themselves: scoping lives here and only here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import case, func, or_, select

from ardoise.console.comptes import TOUTES, Compte, Role
from ardoise.erreurs import ArdoiseErreur
from ardoise.inventaire.modele import Commune, DemandeApplication, Poste
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import EcoleChargee, Equipement, Territoire, equipements_ecole
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import (
    Execution,
    Incident,
    ResultatHoteLigne,
    TacheConsole,
    UtilisateurConsole,
    VerificationLigne,
)

log = logging.getLogger(__name__)

GENRE_AUDIT = "audit"


class Introuvable(ArdoiseErreur):
    """Unknown, or outside the user's communes (the two are not told apart): HTTP 404."""


class Interdit(ArdoiseErreur):
    """The user's role may not do this: HTTP 403."""


@dataclass
class ResumeExecution:
    id: int
    genre: str
    lot: str | None
    debut: dt.datetime
    fin: dt.datetime | None
    statut: str
    hotes: int  # results within the user's communes
    echecs: int


@dataclass
class Constat:
    """An audit finding (a non-OK check, or a failed host) of the school's latest audit run."""

    hote: str
    niveau: str
    nom: str
    message: str


@dataclass
class HistoriqueAppareil:
    resultats: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)


def _utc(d: dt.datetime | None) -> dt.datetime | None:
    return d if d is None or d.tzinfo else d.replace(tzinfo=dt.UTC)


class Portee:
    """One user's scoped view of the manifest (``t``) and the results store (``magasin``)."""

    def __init__(self, compte: Compte, t: Territoire, magasin: Magasin) -> None:
        self.compte = compte
        self.t = t
        self.magasin = magasin
        ids = {c.id for c in t.communes}
        self._communes = frozenset(ids if compte.toutes_communes else ids & set(compte.communes))

    # -- refusals --------------------------------------------------------------------------------
    def _refus(self, quoi: str, commune: str | None = None, interdit: bool = False) -> ArdoiseErreur:
        self.magasin.journaliser("console.acces_refuse", "interdit" if interdit else "introuvable", cible=quoi[:128],
                                 commune=commune, qui=self.compte.identifiant)  # fmt: skip
        log.warning("console : accès refusé à %s pour « %s »", quoi, self.compte.identifiant)
        if interdit:
            return Interdit("votre rôle ne permet pas cette action")
        return Introuvable("introuvable (ou hors de vos communes)")

    # -- manifest --------------------------------------------------------------------------------
    @property
    def ids_communes(self) -> frozenset[str]:
        return self._communes

    def voit(self, commune: str | None) -> bool:
        return commune is not None and commune in self._communes

    def communes(self) -> list[Commune]:
        return [c for c in self.t.communes if c.id in self._communes]

    def commune(self, ident: str) -> Commune:
        for c in self.t.communes:
            if (c.id == ident or c.insee == ident) and c.id in self._communes:
                return c
        raise self._refus(f"commune:{ident}")

    def ecoles(self, commune: str | None = None) -> list[EcoleChargee]:
        return [
            e
            for e in self.t.ecoles
            if e.commune in self._communes and (commune is None or e.commune == commune)
        ]

    def ecole(self, uai: str) -> EcoleChargee:
        uai = uai.strip().upper()
        for e in self.t.ecoles:
            if e.uai == uai and e.commune in self._communes:
                return e
        raise self._refus(f"ecole:{uai}")

    def appareils(self, uai: str) -> list[Equipement]:
        return list(equipements_ecole(self.ecole(uai)))

    def appareil(self, nom: str) -> Equipement:
        for e in self.ecoles():
            for eq in equipements_ecole(e):
                if eq.nom == nom:
                    return eq
        raise self._refus(f"appareil:{nom}")

    def poste(self, nom: str) -> tuple[Equipement, Poste]:
        eq = self.appareil(nom)
        for p in self.t.ecole(eq.uai).modele.postes:
            if p.nom == nom:
                return eq, p
        raise self._refus(f"poste:{nom}", eq.commune)

    def demandes(self, uai: str) -> list[DemandeApplication]:
        return list(self.ecole(uai).modele.demandes)

    def demande(self, uai: str, ident: str) -> tuple[EcoleChargee, DemandeApplication]:
        e = self.ecole(uai)
        for d in e.modele.demandes:
            if d.id == ident:
                return e, d
        raise self._refus(f"demande:{uai}/{ident}", e.commune)

    def wifi(self, uai: str) -> list[dict]:
        from ardoise.reseau import wifi

        e = self.ecole(uai)
        coupes = wifi.ssids_coupes(self.magasin, e)
        return [{"ssid": w.ssid, "vlan": w.vlan, "coupable": w.coupable, "coupe": w.ssid in coupes,
                 "horaires": h["horaires"]}
                for w, h in zip(e.modele.wifi, wifi.resume_horaires(e), strict=True)]  # fmt: skip

    def ssid(self, uai: str, nom: str) -> tuple[EcoleChargee, str]:
        e = self.ecole(uai)
        if not any(w.ssid == nom for w in e.modele.wifi):
            raise self._refus(f"ssid:{uai}/{nom}", e.commune)
        return e, nom

    # -- rights ----------------------------------------------------------------------------------
    def autoriser_action(self, commune: str, quoi: str) -> None:
        """Raise unless the user may act on ``commune`` (it must already be one of theirs)."""
        if commune not in self._communes:
            raise self._refus(quoi, commune)
        if not self.compte.role.agit:
            raise self._refus(quoi, commune, interdit=True)

    # -- store: maintenance, audit, workshop ---------------------------------------------------------
    def maintenance(self, uais: list[str]):
        """The maintenance report data (the CLI's) for these schools, each checked against the scope."""
        from ardoise.maintenance import rapport

        ecoles = tuple(self.ecole(u).uai for u in uais)
        return rapport.construire(self.t, Selection(ecoles=ecoles), self.magasin)

    def maintenance_commune(self, commune: str):
        from ardoise.maintenance import rapport

        c = self.commune(commune)
        return rapport.construire(self.t, Selection(communes=(c.id,)), self.magasin)

    def constats_audit(self, uai: str) -> tuple[ResumeExecution | None, list[Constat]]:
        """Findings of the latest audit run that covered this school."""
        e = self.ecole(uai)
        with self.magasin.session() as s:
            ex_id = s.scalar(
                select(func.max(Execution.id)).join(ResultatHoteLigne, ResultatHoteLigne.execution_id == Execution.id)
                .where(Execution.genre == GENRE_AUDIT, ResultatHoteLigne.uai == e.uai)
            )  # fmt: skip
            if ex_id is None:
                return None, []
            constats = []
            for r in s.scalars(select(ResultatHoteLigne).where(ResultatHoteLigne.execution_id == ex_id,
                                                               ResultatHoteLigne.uai == e.uai)):  # fmt: skip
                if r.statut != "ok":
                    constats.append(Constat(r.hote, r.statut, r.etape or "", r.raison or ""))
                for v in s.scalars(select(VerificationLigne).where(VerificationLigne.resultat_id == r.id)):
                    if v.niveau != "OK":
                        constats.append(Constat(r.hote, v.niveau, v.nom, v.message))
        return self._resumes([ex_id])[0], constats

    def fiche(self, uai: str):
        """The delivery sheet data (the workshop's), or None when no device of the school went through it."""
        from ardoise.atelier.fiche import donnees_fiche
        from ardoise.erreurs import ErreurUsage

        e = self.ecole(uai)
        try:
            return donnees_fiche(self.t, e.uai, self.magasin)
        except ErreurUsage:
            return None

    def historique(self, nom: str) -> HistoriqueAppareil:
        eq = self.appareil(nom)
        h = HistoriqueAppareil()
        with self.magasin.session() as s:
            req = (select(ResultatHoteLigne, Execution.genre).join(Execution)
                   .where(ResultatHoteLigne.hote == eq.nom, ResultatHoteLigne.commune.in_(self._communes))
                   .order_by(ResultatHoteLigne.id.desc()).limit(30))  # fmt: skip
            for r, genre in s.execute(req):
                h.resultats.append({"execution": r.execution_id, "genre": genre, "date": _utc(r.horodatage),
                                    "statut": r.statut, "raison": r.raison or "", "etape": r.etape or ""})  # fmt: skip
            criteres = [Incident.appareil == eq.nom]
            if eq.numero_serie:
                criteres.append(Incident.numero_serie == eq.numero_serie)
            for i in s.scalars(select(Incident).where(or_(*criteres), Incident.commune.in_(self._communes))
                               .order_by(Incident.ouvert_le.desc())):  # fmt: skip
                h.incidents.append({"id": i.id, "date": _utc(i.ouvert_le), "statut": i.statut,
                                    "symptome": i.symptome, "voie": i.voie, "clos_le": _utc(i.clos_le)})  # fmt: skip
        return h

    # -- runs and jobs ---------------------------------------------------------------------------
    def _resumes(self, ids: list[int]) -> list[ResumeExecution]:
        if not ids:
            return []
        with self.magasin.session() as s:
            comptes = dict(
                (i, (n, e)) for i, n, e in s.execute(
                    select(ResultatHoteLigne.execution_id, func.count(),
                           func.sum(case((ResultatHoteLigne.statut.in_(("ok", "ignore")), 0), else_=1)))
                    .where(ResultatHoteLigne.execution_id.in_(ids), ResultatHoteLigne.commune.in_(self._communes))
                    .group_by(ResultatHoteLigne.execution_id))
            )  # fmt: skip
            return [
                ResumeExecution(x.id, x.genre, x.lot, _utc(x.debut), _utc(x.fin), x.statut,
                                comptes.get(x.id, (0, 0))[0], int(comptes.get(x.id, (0, 0))[1] or 0))
                for x in s.scalars(select(Execution).where(Execution.id.in_(ids)).order_by(Execution.id.desc()))
            ]  # fmt: skip

    def _ids_visibles(self, s, limite: int) -> list[int]:
        par_resultats = select(ResultatHoteLigne.execution_id).where(
            ResultatHoteLigne.commune.in_(self._communes)
        )
        par_taches = select(TacheConsole.execution_id).where(TacheConsole.commune.in_(self._communes),
                                                             TacheConsole.execution_id.is_not(None))  # fmt: skip
        req = select(Execution.id).where(or_(Execution.id.in_(par_resultats), Execution.id.in_(par_taches)))
        return list(s.scalars(req.order_by(Execution.id.desc()).limit(limite)))

    def executions(self, limite: int = 50) -> list[ResumeExecution]:
        with self.magasin.session() as s:
            ids = self._ids_visibles(s, limite)
        return self._resumes(ids)

    def execution(self, ident: int) -> tuple[ResumeExecution, list[dict]]:
        with self.magasin.session() as s:
            visible = s.scalar(
                select(func.count()).select_from(ResultatHoteLigne)
                .where(ResultatHoteLigne.execution_id == ident, ResultatHoteLigne.commune.in_(self._communes))
            ) or s.scalar(select(func.count()).select_from(TacheConsole)
                          .where(TacheConsole.execution_id == ident, TacheConsole.commune.in_(self._communes)))  # fmt: skip
            if not visible:
                raise self._refus(f"execution:{ident}")
            lignes = []
            for r in s.scalars(select(ResultatHoteLigne).where(ResultatHoteLigne.execution_id == ident,
                                                               ResultatHoteLigne.commune.in_(self._communes))
                               .order_by(ResultatHoteLigne.id)):  # fmt: skip
                pires = [v.niveau for v in s.scalars(select(VerificationLigne)
                                                     .where(VerificationLigne.resultat_id == r.id))]  # fmt: skip
                niveau = next((n for n in ("CRITIQUE", "ATTENTION") if n in pires), "OK" if pires else "")
                lignes.append({"hote": r.hote, "uai": r.uai, "statut": r.statut, "raison": r.raison or "",
                               "niveau": niveau, "date": _utc(r.horodatage), "duree": r.duree_s})  # fmt: skip
        return self._resumes([ident])[0], lignes

    def taches(self, limite: int = 50) -> list[TacheConsole]:
        with self.magasin.session() as s:
            return list(s.scalars(select(TacheConsole).where(TacheConsole.commune.in_(self._communes))
                                  .order_by(TacheConsole.id.desc()).limit(limite)))  # fmt: skip

    def tache(self, ident: int) -> TacheConsole:
        with self.magasin.session() as s:
            t = s.get(TacheConsole, ident)
            if t is None or t.commune not in self._communes:
                raise self._refus(f"tache:{ident}")
            return t

    def avancement(self, ident: int) -> dict:
        """A job's progress: hosts done so far in its run (read from the store as they are written)."""
        t = self.tache(ident)
        faits = echecs = 0
        if t.execution_id is not None:
            with self.magasin.session() as s:
                for statut, n in s.execute(
                    select(ResultatHoteLigne.statut, func.count())
                    .where(ResultatHoteLigne.execution_id == t.execution_id,
                           ResultatHoteLigne.commune.in_(self._communes))
                    .group_by(ResultatHoteLigne.statut)):  # fmt: skip
                    faits += n
                    echecs += n if statut not in ("ok", "ignore") else 0
        return {"id": t.id, "statut": t.statut, "faits": faits, "attendus": t.attendus, "echecs": echecs,
                "message": t.message or "", "execution": t.execution_id, "fini": t.statut in ("termine", "echec")}  # fmt: skip

    # -- accounts --------------------------------------------------------------------------------
    def _gere(self, communes: list[str]) -> bool:
        """Whether the user may manage an account scoped to ``communes`` (all of them must be theirs)."""
        if self.compte.role is Role.admin_syndicat:
            return True
        if self.compte.role is not Role.admin_commune:
            return False
        return bool(communes) and TOUTES not in communes and set(communes) <= self._communes

    def comptes(self) -> list[UtilisateurConsole]:
        if not self.compte.role.gere_comptes:
            raise self._refus("comptes", interdit=True)
        with self.magasin.session() as s:
            tous = s.scalars(select(UtilisateurConsole).order_by(UtilisateurConsole.identifiant))
            return [u for u in tous if self._gere(list(u.communes))]

    def compte_gere(self, identifiant: str) -> UtilisateurConsole:
        """An account the user manages (its current communes = the source of any change)."""
        if not self.compte.role.gere_comptes:
            raise self._refus(f"compte:{identifiant}", interdit=True)
        with self.magasin.session() as s:
            u = s.scalars(
                select(UtilisateurConsole).where(UtilisateurConsole.identifiant == identifiant)
            ).first()
        if u is None or not self._gere(list(u.communes)):
            raise self._refus(f"compte:{identifiant}")
        return u

    def autoriser_compte(self, role: str, communes: list[str]) -> None:
        """The destination of an account creation or move must be within the user's reach too."""
        if not self.compte.role.gere_comptes:
            raise self._refus("comptes", interdit=True)
        syndicat = role in (Role.admin_syndicat.value, Role.technicien_syndicat.value)
        if self.compte.role is not Role.admin_syndicat and (syndicat or not self._gere(communes)):
            raise self._refus(f"compte-vers:{','.join(communes) or role}", interdit=True)
