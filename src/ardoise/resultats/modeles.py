"""SQLAlchemy models of the results store (the schema itself is created by Alembic migrations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def maintenant() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Execution(Base):
    """One run: a workshop batch, a maintenance sweep, a switch push, an audit…"""

    __tablename__ = "executions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    genre: Mapped[str] = mapped_column(String(32), index=True)  # atelier, maintenance, reseau, audit…
    lot: Mapped[str | None] = mapped_column(String(128), index=True)
    debut: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant, index=True)
    fin: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    statut: Mapped[str] = mapped_column(String(16), default="en_cours")  # en_cours, termine, interrompu
    utilisateur: Mapped[str | None] = mapped_column(String(128))
    selection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resume: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resultats: Mapped[list[ResultatHoteLigne]] = relationship(back_populates="execution")


class ResultatHoteLigne(Base):
    """One host's result within a run."""

    __tablename__ = "resultats_hotes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    execution_id: Mapped[int] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    hote: Mapped[str] = mapped_column(String(128))
    uai: Mapped[str | None] = mapped_column(String(8))
    commune: Mapped[str | None] = mapped_column(String(64))
    statut: Mapped[str] = mapped_column(String(16))
    # the device's overall state after this run (see forme.etat_appareil), so reports aggregate in SQL
    etat: Mapped[str | None] = mapped_column(String(16))
    change: Mapped[bool] = mapped_column(Boolean, default=False)
    etape: Mapped[str | None] = mapped_column(String(128))
    raison: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[str | None] = mapped_column(Text)
    duree_s: Mapped[float] = mapped_column(Float, default=0.0)
    horodatage: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    execution: Mapped[Execution] = relationship(back_populates="resultats")
    verifications: Mapped[list[VerificationLigne]] = relationship(back_populates="resultat")

    __table_args__ = (
        Index("ix_resultats_hote_date", "hote", "horodatage"),
        Index("ix_resultats_uai_date", "uai", "horodatage"),
        Index("ix_resultats_commune_date", "commune", "horodatage"),
        Index("ix_resultats_execution", "execution_id"),
        # per-school and per-commune reports: trend and latest states from the index alone (PostgreSQL)
        Index("ix_resultats_uai_execution", "uai", "execution_id", "hote", "etat", "id"),
    )


class ResumeQuotidien(Base):
    """One device's maintenance passes of one day, kept after the detail is purged (retention)."""

    __tablename__ = "resumes_quotidiens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hote: Mapped[str] = mapped_column(String(128))
    jour: Mapped[dt.date] = mapped_column(Date)
    uai: Mapped[str | None] = mapped_column(String(8))
    commune: Mapped[str | None] = mapped_column(String(64))
    passages: Mapped[int] = mapped_column(Integer)
    ok: Mapped[int] = mapped_column(Integer, default=0)
    attention: Mapped[int] = mapped_column(Integer, default=0)
    critique: Mapped[int] = mapped_column(Integer, default=0)
    injoignable: Mapped[int] = mapped_column(Integer, default=0)
    dernier_etat: Mapped[str] = mapped_column(String(16))  # state at the day's last pass

    __table_args__ = (
        Index("ux_resumes_hote_jour", "hote", "jour", unique=True),
        Index("ix_resumes_uai_jour", "uai", "jour"),
    )


class VerificationLigne(Base):
    """One check's outcome for one host in one run."""

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resultat_id: Mapped[int] = mapped_column(ForeignKey("resultats_hotes.id", ondelete="CASCADE"))
    nom: Mapped[str] = mapped_column(String(64))
    niveau: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    valeur: Mapped[str | None] = mapped_column(Text)
    mesures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resultat: Mapped[ResultatHoteLigne] = relationship(back_populates="verifications")

    __table_args__ = (Index("ix_verifications_resultat", "resultat_id"), Index("ix_verifications_nom", "nom"))


class EtatAppareil(Base):
    """Where a device stands in the store (workshop: atelier → pret | echec), with why."""

    __tablename__ = "etats_appareils"
    hote: Mapped[str] = mapped_column(String(128), primary_key=True)
    etat: Mapped[str] = mapped_column(String(32))
    depuis: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    execution_id: Mapped[int | None] = mapped_column(ForeignKey("executions.id", ondelete="SET NULL"))
    etape: Mapped[str | None] = mapped_column(String(128))
    raison: Mapped[str | None] = mapped_column(Text)


class Evenement(Base):
    """An action taken (who, when, what, on what, result): applies, rollbacks, approvals, logins…"""

    __tablename__ = "evenements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    horodatage: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant, index=True)
    qui: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    cible: Mapped[str | None] = mapped_column(String(128), index=True)
    commune: Mapped[str | None] = mapped_column(String(64), index=True)
    resultat: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Incident(Base):
    """A device incident (parc): symptom, warranty or maintenance route, supplier reference, dates."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appareil: Mapped[str] = mapped_column(String(128), index=True)  # hostname when opened
    numero_serie: Mapped[str | None] = mapped_column(String(128), index=True)  # the hardware
    type: Mapped[str | None] = mapped_column(String(16))
    commune: Mapped[str | None] = mapped_column(String(64), index=True)
    uai: Mapped[str | None] = mapped_column(String(8))
    symptome: Mapped[str] = mapped_column(Text)
    voie: Mapped[str] = mapped_column(String(16))  # garantie, maintenance, hors_couverture
    fournisseur: Mapped[str | None] = mapped_column(String(128))
    contrat: Mapped[str | None] = mapped_column(String(64))
    niveau: Mapped[str | None] = mapped_column(String(128))
    reference: Mapped[str | None] = mapped_column(String(128))  # the supplier's case number
    statut: Mapped[str] = mapped_column(String(16), default="ouvert", index=True)  # ouvert, en_cours, clos
    ouvert_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant, index=True)
    maj_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    clos_le: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)
    ouvert_par: Mapped[str | None] = mapped_column(String(128))
    glpi_id: Mapped[int | None] = mapped_column(Integer)
    suivi: Mapped[list[Any]] = mapped_column(default=list)  # [{date, qui, texte}]


class Pret(Base):
    """A device lent to a teacher (for a trial) until a date, and its return."""

    __tablename__ = "prets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appareil: Mapped[str] = mapped_column(String(128), index=True)
    numero_serie: Mapped[str | None] = mapped_column(String(128))
    commune: Mapped[str | None] = mapped_column(String(64), index=True)
    uai: Mapped[str | None] = mapped_column(String(8))
    emprunteur: Mapped[str] = mapped_column(String(256))
    debut: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    jusqu_au: Mapped[dt.date] = mapped_column(Date)
    retour_le: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    etat_avant: Mapped[str] = mapped_column(String(32))  # the manifest state restored on return
    par: Mapped[str | None] = mapped_column(String(128))


class Echange(Base):
    """A spare swap: the spare hardware took over a hostname, the broken one went to repair."""

    __tablename__ = "echanges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    horodatage: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant, index=True)
    poste: Mapped[str] = mapped_column(String(128), index=True)  # the hostname kept in service
    spare: Mapped[str] = mapped_column(String(128), index=True)  # the pool name the broken one now carries
    serie_en_panne: Mapped[str | None] = mapped_column(String(128))
    serie_spare: Mapped[str | None] = mapped_column(String(128))
    commune: Mapped[str | None] = mapped_column(String(64), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    par: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UtilisateurConsole(Base):
    """A console account: argon2 hash, one role, the communes it is scoped to, active or disabled."""

    __tablename__ = "console_utilisateurs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifiant: Mapped[str] = mapped_column(String(64), unique=True)
    nom: Mapped[str | None] = mapped_column(String(128))
    hachage: Mapped[str] = mapped_column(String(256))  # argon2id, never the password
    role: Mapped[str] = mapped_column(String(32))
    communes: Mapped[list[Any]] = mapped_column(default=list)  # commune names; "*" = every commune
    actif: Mapped[bool] = mapped_column(Boolean, default=True)
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    cree_par: Mapped[str | None] = mapped_column(String(128))
    modifie_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    derniere_connexion: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SessionConsole(Base):
    """A server-side console session; only the SHA-256 of the cookie token is stored."""

    __tablename__ = "console_sessions"
    empreinte: Mapped[str] = mapped_column(String(64), primary_key=True)
    utilisateur_id: Mapped[int] = mapped_column(ForeignKey("console_utilisateurs.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    vu_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    adresse: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_console_sessions_utilisateur", "utilisateur_id"),)


class TentativeConnexion(Base):
    """Failed-login counter for one key (account name or client address), for login throttling."""

    __tablename__ = "console_tentatives"
    cle: Mapped[str] = mapped_column(String(200), primary_key=True)
    echecs: Mapped[int] = mapped_column(Integer, default=0)
    premier_echec: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant)
    bloque_jusqu_a: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TacheConsole(Base):
    """An action launched from the console and run in the background (sweep, audit, manifest edit)."""

    __tablename__ = "console_taches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    genre: Mapped[str] = mapped_column(String(32))
    commune: Mapped[str] = mapped_column(String(64), index=True)
    uai: Mapped[str | None] = mapped_column(String(8))
    cible: Mapped[str | None] = mapped_column(String(128))
    qui: Mapped[str] = mapped_column(String(128))
    statut: Mapped[str] = mapped_column(
        String(16), default="en_attente"
    )  # en_attente, en_cours, termine, echec
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=maintenant, index=True)
    fin: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    execution_id: Mapped[int | None] = mapped_column(ForeignKey("executions.id", ondelete="SET NULL"))
    attendus: Mapped[int] = mapped_column(Integer, default=0)  # hosts expected, for the progress bar
    message: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
