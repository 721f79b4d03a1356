"""Incidents per device: open, update, close, list; routed to the warranty or the maintenance contract.

Stored in the results store (``incidents``), journaled (who/when/what), and pushed to GLPI when a
connector is given. An incident names the hostname AND the serial number: after a spare swap the
hostname belongs to other hardware, the history follows both.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import or_, select

from ardoise.erreurs import ArdoiseErreur, ErreurUsage
from ardoise.inventaire.territoire import Equipement, Territoire
from ardoise.parc.garanties import acheminer
from ardoise.parc.glpi import STATUT_EN_ATTENTE, STATUT_EN_COURS, ConnecteurGlpi
from ardoise.resultats.magasin import Magasin, _utilisateur
from ardoise.resultats.modeles import Echange, Incident, Pret, maintenant
from ardoise.secrets import masquer

log = logging.getLogger(__name__)

STATUTS = ("ouvert", "en_cours", "en_attente", "clos")
_STATUTS_GLPI = {"en_cours": STATUT_EN_COURS, "en_attente": STATUT_EN_ATTENTE}


def en_dict(i: Incident) -> dict:
    return {
        "id": i.id, "appareil": i.appareil, "numero_serie": i.numero_serie, "type": i.type,
        "commune": i.commune, "uai": i.uai, "symptome": i.symptome, "voie": i.voie,
        "fournisseur": i.fournisseur, "contrat": i.contrat, "niveau": i.niveau, "reference": i.reference,
        "statut": i.statut, "ouvert_le": _date(i.ouvert_le), "maj_le": _date(i.maj_le),
        "clos_le": _date(i.clos_le), "resolution": i.resolution, "ouvert_par": i.ouvert_par,
        "glpi_id": i.glpi_id, "suivi": list(i.suivi or []),
    }  # fmt: skip


def _date(d: dt.datetime | None) -> str | None:
    return d.isoformat(timespec="seconds") if d else None


def _note(texte: str, qui: str | None = None) -> dict:
    return {"date": _date(maintenant()), "qui": qui or _utilisateur(), "texte": masquer(texte)}


def ouvrir(
    magasin: Magasin,
    t: Territoire,
    eq: Equipement,
    symptome: str,
    reference: str | None = None,
    jour: dt.date | None = None,
    glpi: ConnecteurGlpi | None = None,
    garantie=None,
) -> tuple[dict, list[str]]:
    """Open an incident on ``eq``; return it and the warnings (a GLPI push that failed).

    ``garantie``: the hardware's warranty when ``eq`` is not (or no longer) the manifest's entry.
    """
    if not symptome.strip():
        raise ErreurUsage("décrivez la panne avec --symptome")
    a = acheminer(t, eq, jour, garantie)
    with magasin.session() as s:
        i = Incident(appareil=eq.nom, numero_serie=eq.numero_serie, type=eq.type.value, commune=eq.commune,
                     uai=eq.uai, symptome=masquer(symptome.strip()), voie=a.voie.value,
                     fournisseur=a.nom_fournisseur, contrat=a.contrat, niveau=a.niveau, reference=reference,
                     statut="ouvert", ouvert_par=_utilisateur(), suivi=[])  # fmt: skip
        s.add(i)
        s.flush()
        ident = i.id
    avertissements = []
    if glpi is not None:
        titre = f"[Ardoise] {eq.nom} : {symptome.strip()[:120]}"
        contenu = (
            f"Appareil : {eq.nom} ({eq.type.value}, {eq.modele}, n° de série {eq.numero_serie})\n"
            f"École : {eq.ecole} ({eq.uai}), commune : {eq.commune}\n"
            f"Symptôme : {symptome.strip()}\n"
            f"Prise en charge : {a.voie.libelle}"
            + (f" — {a.nom_fournisseur}" if a.nom_fournisseur else "")
            + (f", {a.niveau}" if a.niveau else "")
            + (f" (contrat {a.contrat})" if a.contrat else "")
            + f"\nIncident Ardoise n° {ident}"
        )
        try:
            with glpi as g:
                glpi_id = g.creer_ticket(titre, masquer(contenu))
            _modifier(magasin, ident, glpi_id=glpi_id)
        except ArdoiseErreur as e:
            avertissements.append(f"incident enregistré mais pas envoyé à GLPI : {e}")
    magasin.journaliser("parc.incident.ouvrir", "ok", cible=eq.nom, commune=eq.commune,
                        details={"incident": ident, "voie": a.voie.value, "symptome": symptome.strip()})  # fmt: skip
    return lire(magasin, ident), avertissements


def _modifier(magasin: Magasin, ident: int, **champs) -> Incident:
    with magasin.session() as s:
        i = s.get(Incident, ident)
        if i is None:
            raise ErreurUsage(f"incident n° {ident} inconnu ; « ardoise parc incident lister » les montre")
        for k, v in champs.items():
            setattr(i, k, v)
        return i


def lire(magasin: Magasin, ident: int) -> dict:
    with magasin.session() as s:
        i = s.get(Incident, ident)
        if i is None:
            raise ErreurUsage(f"incident n° {ident} inconnu ; « ardoise parc incident lister » les montre")
        return en_dict(i)


def mettre_a_jour(
    magasin: Magasin,
    ident: int,
    note: str | None = None,
    reference: str | None = None,
    statut: str | None = None,
    glpi: ConnecteurGlpi | None = None,
) -> tuple[dict, list[str]]:
    """Add a follow-up note, the supplier's reference or a new status (not ``clos``: see :func:`clore`)."""
    if statut is not None and statut not in STATUTS[:-1]:
        raise ErreurUsage(
            f"statut « {statut} » invalide ; statuts : {', '.join(STATUTS[:-1])} (clore : « parc incident clore »)"
        )
    actuel = lire(magasin, ident)
    if actuel["statut"] == "clos":
        raise ErreurUsage(f"l'incident n° {ident} est clos ; ouvrez-en un nouveau")
    suivi = list(actuel["suivi"])
    textes = []
    if reference:
        textes.append(f"référence fournisseur : {reference}")
    if statut:
        textes.append(f"statut : {statut}")
    if note:
        textes.append(note)
    if not textes:
        raise ErreurUsage("rien à mettre à jour : donnez --note, --reference ou --statut")
    suivi.append(_note(" ; ".join(textes)))
    champs = {"suivi": suivi, "maj_le": maintenant()}
    if reference:
        champs["reference"] = reference
    if statut:
        champs["statut"] = statut
    _modifier(magasin, ident, **champs)
    avertissements = []
    if glpi is not None and actuel["glpi_id"]:
        try:
            with glpi as g:
                g.mettre_a_jour(
                    actuel["glpi_id"], _STATUTS_GLPI.get(statut or ""), masquer(" ; ".join(textes))
                )
        except ArdoiseErreur as e:
            avertissements.append(f"mise à jour enregistrée mais pas envoyée à GLPI : {e}")
    magasin.journaliser("parc.incident.maj", "ok", cible=actuel["appareil"], commune=actuel["commune"],
                        details={"incident": ident, "statut": statut, "reference": reference})  # fmt: skip
    return lire(magasin, ident), avertissements


def clore(
    magasin: Magasin, ident: int, resolution: str, glpi: ConnecteurGlpi | None = None
) -> tuple[dict, list[str]]:
    if not resolution.strip():
        raise ErreurUsage("dites comment la panne a été résolue avec --resolution")
    actuel = lire(magasin, ident)
    if actuel["statut"] == "clos":
        raise ErreurUsage(f"l'incident n° {ident} est déjà clos")
    suivi = list(actuel["suivi"]) + [_note(f"clos : {resolution.strip()}")]
    _modifier(magasin, ident, statut="clos", clos_le=maintenant(), maj_le=maintenant(),
              resolution=masquer(resolution.strip()), suivi=suivi)  # fmt: skip
    avertissements = []
    if glpi is not None and actuel["glpi_id"]:
        try:
            with glpi as g:
                g.clore(actuel["glpi_id"], masquer(resolution.strip()))
        except ArdoiseErreur as e:
            avertissements.append(f"clôture enregistrée mais pas envoyée à GLPI : {e}")
    magasin.journaliser("parc.incident.clore", "ok", cible=actuel["appareil"], commune=actuel["commune"],
                        details={"incident": ident})  # fmt: skip
    return lire(magasin, ident), avertissements


def lister(
    magasin: Magasin,
    communes: tuple[str, ...] = (),
    appareil: str | None = None,
    numero_serie: str | None = None,
    ouverts_seulement: bool = False,
) -> list[dict]:
    with magasin.session() as s:
        req = select(Incident).order_by(Incident.ouvert_le, Incident.id)
        if communes:
            req = req.where(Incident.commune.in_(communes))
        if appareil and numero_serie:
            req = req.where(or_(Incident.appareil == appareil, Incident.numero_serie == numero_serie))
        elif appareil:
            req = req.where(Incident.appareil == appareil)
        if ouverts_seulement:
            req = req.where(Incident.statut != "clos")
        return [en_dict(i) for i in s.scalars(req)]


def compter_par_serie(magasin: Magasin, depuis: dt.datetime) -> dict[str, int]:
    """Incidents opened since ``depuis``, per serial number (one query, for the renewal plan)."""
    from sqlalchemy import func

    with magasin.session() as s:
        req = (
            select(Incident.numero_serie, func.count())
            .where(Incident.ouvert_le >= depuis, Incident.numero_serie.is_not(None))
            .group_by(Incident.numero_serie)
        )
        return {serie: n for serie, n in s.execute(req)}


def historique(magasin: Magasin, eq: Equipement) -> list[dict]:
    """Everything the store knows of this hostname and this hardware: incidents, swaps, loans."""
    evenements = []
    for i in lister(magasin, appareil=eq.nom, numero_serie=eq.numero_serie):
        materiel = (
            "" if i["numero_serie"] == eq.numero_serie else f" (autre matériel : n° {i['numero_serie']})"
        )
        evenements.append({"date": i["ouvert_le"], "quoi": "incident",
                           "detail": f"n° {i['id']} {i['statut']} — {i['symptome']} — {i['voie']}{materiel}"})  # fmt: skip
        if i["clos_le"]:
            evenements.append({"date": i["clos_le"], "quoi": "incident clos",
                               "detail": f"n° {i['id']} — {i['resolution']}"})  # fmt: skip
    with magasin.session() as s:
        for e in s.scalars(select(Echange).where(or_(
                Echange.poste == eq.nom, Echange.spare == eq.nom,
                Echange.serie_en_panne == eq.numero_serie, Echange.serie_spare == eq.numero_serie))):  # fmt: skip
            evenements.append({"date": _date(e.horodatage), "quoi": "échange (spare)",
                               "detail": f"{e.poste} : n° {e.serie_en_panne} remplacé par le spare n° {e.serie_spare}"
                                         f" (ex-{e.spare}) par {e.par}"})  # fmt: skip
        for p in s.scalars(select(Pret).where(Pret.appareil == eq.nom)):
            evenements.append({"date": _date(p.debut), "quoi": "prêt",
                               "detail": f"à {p.emprunteur} jusqu'au {p.jusqu_au.isoformat()}"})  # fmt: skip
            if p.retour_le:
                evenements.append(
                    {"date": _date(p.retour_le), "quoi": "retour de prêt", "detail": p.emprunteur}
                )
    evenements.sort(key=lambda x: x["date"] or "")
    return evenements
