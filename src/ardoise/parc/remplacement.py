"""Spare swap: a spare from the commune's reserve takes over a broken terminal's identity.

The two manifest entries exchange their HARDWARE fields (model, serial number, MAC, purchase date,
warranty, asset tag, laptop flag) and keep their identity (hostname, school, room, class, profile,
OS, VLAN, address): so the spare hardware now answers to the broken device's hostname, in its room,
with its profile and app set, and the broken hardware goes to repair under the spare's pool name,
in state ``en_panne``, with an incident open on its serial number. The hostname kept in service is
set to ``atelier`` until the workshop has prepared (or verified) the spare.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import subprocess
from pathlib import Path

from ardoise.cles_hote import nom_known_hosts
from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.modele import Poste
from ardoise.inventaire.territoire import Equipement, Territoire
from ardoise.inventaire.types import Etat
from ardoise.parc.appareils import poste
from ardoise.parc.edition import ORDRE_POSTE, Edition, copie, fichier_ecole, mettre
from ardoise.parc.glpi import ConnecteurGlpi
from ardoise.parc.incidents import ouvrir
from ardoise.profils.resolution import types_profil
from ardoise.resultats.magasin import Magasin, _utilisateur
from ardoise.resultats.modeles import Echange

log = logging.getLogger(__name__)

CHAMPS_MATERIEL = ("modele", "numero_serie", "mac", "date_achat", "garantie", "inventaire", "portable")
ETATS_REMPLACABLES = frozenset({Etat.en_service, Etat.livre, Etat.en_panne, Etat.prete, Etat.atelier})


@dataclasses.dataclass
class Remplacement:
    poste: str
    spare: str
    serie_en_panne: str
    serie_spare: str
    diff: str
    ecrit: bool = False
    incident: dict | None = None
    echange_id: int | None = None
    preparation: str = ""
    avertissements: list[str] = dataclasses.field(default_factory=list)


def verifier_spare(t: Territoire, eq_p: Equipement, p: Poste, eq_s: Equipement, s: Poste) -> None:
    """Refuse, with a clear French message, a spare that cannot take over ``p``."""
    if p.nom == s.nom:
        raise ErreurUsage("le poste et le spare sont le même appareil")
    if p.etat not in ETATS_REMPLACABLES:
        raise ErreurUsage(
            f"« {p.nom} » est « {p.etat.value} » : seul un poste en service, livré, prêté, à l'atelier"
            " ou en panne se remplace par un spare"
        )
    if s.etat is not Etat.reserve:
        raise ErreurUsage(
            f"« {s.nom} » n'est pas un spare : son état est « {s.etat.value} », pas « reserve » ;"
            " choisissez un appareil de la réserve (ardoise inventaire lister --etat reserve)"
        )
    if s.type is not p.type:
        raise ErreurUsage(
            f"« {s.nom} » est de type {s.type.value} et « {p.nom} » de type {p.type.value} :"
            f" le spare doit être du même type (ardoise inventaire lister --etat reserve --type {p.type.value})"
        )
    if eq_s.commune != eq_p.commune:
        raise ErreurUsage(
            f"« {s.nom} » appartient à la réserve de la commune « {eq_s.commune} », « {p.nom} » à celle de"
            f" « {eq_p.commune} » : chaque commune a son propre parc ; prenez un spare de « {eq_p.commune} »"
            f" (ardoise inventaire lister --commune {eq_p.commune} --etat reserve --type {p.type.value})"
        )
    if t.profils and p.profil in t.profils and s.type.value not in types_profil(t.profils, p.profil):
        raise ErreurUsage(
            f"le profil « {p.profil} » de « {p.nom} » n'est pas prévu pour un appareil {s.type.value}"
        )


def remplacer(
    t: Territoire,
    magasin: Magasin | None,
    nom_poste: str,
    nom_spare: str,
    symptome: str | None = None,
    essai: bool = False,
    glpi: ConnecteurGlpi | None = None,
    jour: dt.date | None = None,
) -> Remplacement:
    """Swap ``nom_spare`` in for ``nom_poste``; with ``essai``, only compute the diff."""
    eq_p, p = poste(t, nom_poste)
    eq_s, s = poste(t, nom_spare)
    verifier_spare(t, eq_p, p, eq_s, s)
    ed = Edition(t.racine)
    mp = ed.poste(fichier_ecole(t, eq_p.uai), nom_poste)
    ms = ed.poste(fichier_ecole(t, eq_s.uai), nom_spare)
    materiel_p = {c: copie(mp.get(c)) for c in CHAMPS_MATERIEL}
    materiel_s = {c: copie(ms.get(c)) for c in CHAMPS_MATERIEL}
    for c in CHAMPS_MATERIEL:
        mettre(mp, c, materiel_s[c], ORDRE_POSTE)
        mettre(ms, c, materiel_p[c], ORDRE_POSTE)
    mettre(mp, "etat", Etat.atelier.value)
    mettre(ms, "etat", Etat.en_panne.value)
    r = Remplacement(nom_poste, nom_spare, p.numero_serie, s.numero_serie, ed.diff())
    r.preparation = f"ardoise atelier preparer --postes {nom_poste}"
    if essai:
        return r
    if magasin is None:
        raise ErreurUsage("base de résultats indisponible : l'échange doit y être enregistré")
    ed.ecrire()  # validates the edited inventory first; nothing written if it would not validate
    r.ecrit = True
    # the incident is on the BROKEN hardware (its serial, its warranty), where the failure was seen
    eq_panne = dataclasses.replace(eq_p, numero_serie=p.numero_serie, modele=p.modele)
    r.incident, r.avertissements = ouvrir(
        magasin, t, eq_panne,
        symptome or f"panne : remplacé par le spare {nom_spare} (n° {s.numero_serie})",
        jour=jour, glpi=glpi, garantie=p.garantie,
    )  # fmt: skip
    with magasin.session() as session:
        e = Echange(poste=nom_poste, spare=nom_spare, serie_en_panne=p.numero_serie, serie_spare=s.numero_serie,
                    commune=eq_p.commune, incident_id=r.incident["id"], par=_utilisateur(),
                    details={"ecole_poste": eq_p.uai, "ecole_spare": eq_s.uai, "modele_spare": s.modele})  # fmt: skip
        session.add(e)
        session.flush()
        r.echange_id = e.id
    magasin.journaliser("parc.remplacer", "ok", cible=nom_poste, commune=eq_p.commune,
                        details={"spare": nom_spare, "serie_en_panne": p.numero_serie,
                                 "serie_spare": s.numero_serie, "incident": r.incident["id"]})  # fmt: skip
    return r


@dataclasses.dataclass
class PreparationSpare:
    """The workshop's verdict on the spare under its new identity (also stored on the swap)."""

    poste: str
    mode: str  # "verification" (it was already prepared) or "preparation" (playbook, then checklist)
    etat: str  # the workshop state: pret, echec, non_tente
    execution_id: int
    etape: str | None = None
    raison: str | None = None

    def en_dict(self) -> dict:
        return dataclasses.asdict(self)


def oublier_cle_hote(known_hosts: Path | None, noms: list[str]) -> None:
    """The broken hardware's SSH host key is obsolete: the spare answers at that name and address now."""
    if known_hosts is None or not known_hosts.is_file():
        return
    for nom in noms:
        r = subprocess.run(["ssh-keygen", "-R", nom, "-f", str(known_hosts)], capture_output=True, text=True,
                           check=False)  # fmt: skip
        if r.returncode == 0 and "updated" in r.stdout:
            log.info("clé d'hôte de l'ancien matériel oubliée pour %s (%s)", nom, known_hosts)


def preparer_spare(
    t: Territoire,
    magasin: Magasin,
    r: Remplacement,
    connexion,  # ardoise.atelier.preparation.Connexion
    changement=None,
) -> PreparationSpare:
    """The workshop path on the spare, right after the swap: verify it; if it is not ready, prepare it.

    ``t`` is the territory as written by the swap (reloaded). A spare readied in advance passes the
    checklist and is only verified; any other goes through the playbook then the checklist
    (``atelier.preparation.preparer``, the same runs, store rows and states as ``atelier preparer``).
    The outcome is stored on the swap and in the audit trail.
    """
    from ardoise.atelier import postes as choix
    from ardoise.atelier.preparation import PRET, preparer

    eq, p = poste(t, r.poste)
    lot = choix.choisir(t, None, (r.poste,), None)
    if connexion.postes_labo:
        lot = choix.restreindre(lot, connexion.postes_labo, "absent du laboratoire démarré")
    if not lot.postes:
        raison = lot.ignores[0][1] if lot.ignores else "non retenu par l'atelier"
        raise ErreurUsage(f"« {r.poste} » ne peut pas passer à l'atelier : {raison}")
    # the broken hardware's key is obsolete (cles_hote: "appareil remplacé"); the spare's is recorded on first use
    oublier_cle_hote(
        connexion.known_hosts, [r.poste, *([nom_known_hosts(str(p.adresse))] if p.adresse else [])]
    )
    bilan = preparer(t, lot, magasin, connexion, 1, changement=changement, seulement_verifier=True)
    mode = "verification"
    if bilan.etats().get(r.poste) != PRET:
        bilan = preparer(t, lot, magasin, connexion, 1, changement=changement)
        mode = "preparation"
    res = bilan.resultats[r.poste]
    etat = bilan.etats()[r.poste]
    resultat = PreparationSpare(r.poste, mode, etat, bilan.execution_id, res.etape, res.raison)
    if r.echange_id is not None:
        with magasin.session() as session:
            e = session.get(Echange, r.echange_id)
            if e is not None:
                e.details = {**(e.details or {}), "preparation": resultat.en_dict()}
    magasin.journaliser("parc.preparer_spare", "ok" if etat == PRET else "echec", cible=r.poste,
                        commune=eq.commune, details={"echange": r.echange_id, **resultat.en_dict()})  # fmt: skip
    return resultat
