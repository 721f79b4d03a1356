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
import importlib
import logging

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


def preparer_spare(nom_poste: str, inventaire=None, base: str | None = None) -> tuple[bool, str]:
    """Hand the spare to the workshop path if it exists here; else the exact command to run.

    Returns (done, message).
    """
    commande = f"ardoise atelier preparer --postes {nom_poste}"
    try:
        module = importlib.import_module("ardoise.atelier")
    except ImportError:
        return False, f"atelier absent de cette installation : lancez « {commande} »"
    fonction = getattr(module, "preparer", None)
    if not callable(fonction):
        return False, f"préparation par l'atelier : lancez « {commande} »"
    try:
        fonction(postes=[nom_poste], inventaire=inventaire, base=base)
    except TypeError:  # another signature: do not guess further
        return False, f"préparation par l'atelier : lancez « {commande} »"
    return True, f"spare préparé par l'atelier ({commande})"
