"""Open the results store (migrating it to the current schema) and write runs host by host."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ardoise.erreurs import ArdoiseErreur
from ardoise.resultats.forme import ResultatHote, etat_appareil
from ardoise.resultats.modeles import (
    EtatAppareil,
    Evenement,
    Execution,
    ResultatHoteLigne,
    VerificationLigne,
    maintenant,
)
from ardoise.secrets import masquer

log = logging.getLogger(__name__)

VARIABLE_BASE = "ARDOISE_BASE"
MIGRATIONS = Path(__file__).parent / "migrations"


class ErreurMagasin(ArdoiseErreur):
    """The results store cannot be opened or written."""


def url_par_defaut() -> str:
    """``$ARDOISE_BASE``, else a SQLite file ``var/ardoise/resultats.sqlite`` under the current directory."""
    if os.environ.get(VARIABLE_BASE):
        return os.environ[VARIABLE_BASE]
    chemin = Path.cwd() / "var" / "ardoise" / "resultats.sqlite"
    return f"sqlite:///{chemin}"


def _masquer_tout(valeur: Any) -> Any:
    if isinstance(valeur, str):
        return masquer(valeur)
    if isinstance(valeur, dict):
        return {k: _masquer_tout(v) for k, v in valeur.items()}
    if isinstance(valeur, list | tuple):
        return [_masquer_tout(v) for v in valeur]
    return valeur


class Magasin:
    """The results store at ``url`` (SQLite file or PostgreSQL); the schema is migrated on open."""

    def __init__(self, url: str | None = None, migrer: bool = True) -> None:
        self.url = url or url_par_defaut()
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.moteur: Engine = create_engine(self.url, future=True, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as e:
            raise ErreurMagasin(f"base de résultats inutilisable ({_sans_mdp(self.url)}) : {e}") from None
        if self.moteur.dialect.name == "sqlite":
            event.listen(self.moteur, "connect", _pragmas_sqlite)
        self._sessions = sessionmaker(self.moteur, expire_on_commit=False)
        if migrer:
            self.migrer()

    def migrer(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent, safe if two runs start together)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.moteur.begin() as connexion:
                cfg.attributes["connection"] = connexion
                command.upgrade(cfg, "head")
        except OperationalError as e:
            if "already exists" in str(e):  # another process migrated at the same moment
                return
            raise ErreurMagasin(
                f"base de résultats inaccessible ({_sans_mdp(self.url)}) : {e.orig}"
            ) from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except OperationalError as e:
                s.rollback()
                raise ErreurMagasin(f"écriture impossible dans la base de résultats : {e.orig}") from None

    # -- runs ------------------------------------------------------------------------------------
    def commencer(
        self,
        genre: str,
        selection: dict | None = None,
        utilisateur: str | None = None,
        lot: str | None = None,
    ) -> int:
        """Record the start of a run (with the process running it); return its id.

        Runs of this machine left ``en_cours`` by a process that is gone (killed, power cut) are marked
        ``interrompu`` first.
        """
        self.constater_interruptions()
        with self.session() as s:
            ex = Execution(
                genre=genre, selection=selection or {}, utilisateur=utilisateur or _utilisateur(), lot=lot,
                resume={"processus": processus_courant()},
            )  # fmt: skip
            s.add(ex)
            s.flush()
            return ex.id

    def enregistrer(
        self, execution_id: int, r: ResultatHote, uai: str | None = None, commune: str | None = None
    ) -> None:
        """Write one host's result now (its own transaction), redacted."""
        with self.session() as s:
            ligne = ResultatHoteLigne(
                execution_id=execution_id, hote=r.hote, uai=uai, commune=commune, statut=r.statut.value,
                etat=etat_appareil(r.statut.value, {v.niveau.value for v in r.verifications}), change=r.change,
                etape=r.etape, raison=masquer(r.raison) if r.raison else None,
                diff=masquer(r.diff) if r.diff else None, duree_s=r.duree_s, details=_masquer_tout(r.details),
            )  # fmt: skip
            s.add(ligne)
            s.flush()
            for v in r.verifications:
                s.add(VerificationLigne(resultat_id=ligne.id, nom=v.nom, niveau=v.niveau.value,
                                        message=masquer(v.message), valeur=masquer(v.valeur) if v.valeur else None,
                                        mesures=dict(v.mesures)))  # fmt: skip

    def terminer(self, execution_id: int, statut: str = "termine", resume: dict | None = None) -> None:
        with self.session() as s:
            ex = s.get(Execution, execution_id)
            if ex is None:
                raise ErreurMagasin(f"exécution {execution_id} inconnue")
            ex.fin = maintenant()
            ex.statut = statut
            ex.resume = _masquer_tout(resume or {})

    def constater_interruptions(self) -> list[int]:
        """Mark ``interrompu`` the runs still ``en_cours`` whose process (on this machine) no longer exists."""
        ici = processus_courant()
        with self.session() as s:
            morts = []
            for ex in s.scalars(select(Execution).where(Execution.statut == "en_cours")):
                p = (ex.resume or {}).get("processus") or {}
                if p.get("machine") == ici["machine"] and p.get("pid") and not processus_vivant(p):
                    ex.statut = "interrompu"
                    ex.resume = {
                        **ex.resume,
                        "interruption": "processus disparu avant la fin (tué ou arrêté)",
                    }
                    morts.append(ex.id)
            return morts

    # -- device states ---------------------------------------------------------------------------
    def definir_etat(
        self,
        hote: str,
        etat: str,
        execution_id: int | None = None,
        etape: str | None = None,
        raison: str | None = None,
    ) -> None:
        with self.session() as s:
            ligne = s.get(EtatAppareil, hote) or EtatAppareil(hote=hote)
            ligne.etat, ligne.depuis, ligne.execution_id = etat, maintenant(), execution_id
            ligne.etape, ligne.raison = etape, masquer(raison) if raison else None
            s.add(ligne)

    def etats(self, hotes: list[str] | None = None) -> dict[str, dict]:
        with self.session() as s:
            req = select(EtatAppareil)
            if hotes is not None:
                req = req.where(EtatAppareil.hote.in_(hotes))
            return {
                e.hote: {"etat": e.etat, "depuis": e.depuis, "execution_id": e.execution_id,
                         "etape": e.etape, "raison": e.raison}
                for e in s.scalars(req)
            }  # fmt: skip

    # -- audit trail -----------------------------------------------------------------------------
    def journaliser(
        self,
        action: str,
        resultat: str,
        cible: str | None = None,
        commune: str | None = None,
        details: dict | None = None,
        qui: str | None = None,
    ) -> None:
        """Record an action (who/when/what) — every apply, rollback, confirmation, approval."""
        with self.session() as s:
            s.add(Evenement(qui=qui or _utilisateur(), action=action, cible=cible, commune=commune,
                            resultat=resultat, details=_masquer_tout(details or {})))  # fmt: skip

    def executions(self, genre: str | None = None, depuis: dt.datetime | None = None) -> list[Execution]:
        with self.session() as s:
            req = select(Execution).order_by(Execution.debut)
            if genre:
                req = req.where(Execution.genre == genre)
            if depuis:
                req = req.where(Execution.debut >= depuis)
            return list(s.scalars(req))

    def resultats(self, execution_id: int) -> list[ResultatHoteLigne]:
        with self.session() as s:
            return list(s.scalars(select(ResultatHoteLigne).where(ResultatHoteLigne.execution_id == execution_id)
                                  .order_by(ResultatHoteLigne.id)))  # fmt: skip


def _pragmas_sqlite(connexion: Any, _record: Any) -> None:
    curseur = connexion.cursor()
    curseur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; two writers wait
    curseur.execute("PRAGMA busy_timeout=30000")
    curseur.execute("PRAGMA foreign_keys=ON")
    curseur.execute("PRAGMA synchronous=NORMAL")
    curseur.close()


def _debut_processus(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, Linux), to tell a reused pid apart."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def processus_courant() -> dict:
    """This process, as stored with a run or a job: pid, machine, start time (a reused pid is not alive)."""
    import socket

    return {"pid": os.getpid(), "machine": socket.gethostname(), "debut": _debut_processus(os.getpid())}


def processus_vivant(p: dict) -> bool:
    debut = _debut_processus(int(p["pid"]))
    return debut is not None and (p.get("debut") is None or debut == p["debut"])


def _utilisateur() -> str:
    return (
        os.environ.get("ARDOISE_UTILISATEUR")
        or os.environ.get("SUDO_USER")
        or os.environ.get("USER")
        or "inconnu"
    )


def _sans_mdp(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "URL invalide"


def en_json(valeur: Any) -> str:
    return json.dumps(valeur, ensure_ascii=False, default=str)
