"""SQLAlchemy models of the results store (the schema itself is created by Alembic migrations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
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
