"""Loans of a device to a teacher (a trial) until a date: manifest state ``prete``, the loan in the store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.territoire import Territoire
from ardoise.inventaire.types import Etat
from ardoise.parc.appareils import poste
from ardoise.parc.edition import Edition, fichier_ecole, mettre
from ardoise.resultats.magasin import Magasin, _utilisateur
from ardoise.resultats.modeles import Pret, maintenant

ETATS_PRETABLES = frozenset({Etat.reserve, Etat.en_service, Etat.livre})


def _pret_ouvert(magasin: Magasin, nom: str) -> Pret | None:
    with magasin.session() as s:
        return s.scalars(select(Pret).where(Pret.appareil == nom, Pret.retour_le.is_(None))).first()


def preter(t: Territoire, magasin: Magasin, nom: str, emprunteur: str, jusqu_au: dt.date,
           jour: dt.date | None = None) -> dict:  # fmt: skip
    jour = jour or dt.date.today()
    eq, p = poste(t, nom)
    if not emprunteur.strip():
        raise ErreurUsage('dites à qui l\'appareil est prêté : --a "Mme Martin (CM1)"')
    if jusqu_au < jour:
        raise ErreurUsage(f"date de retour {jusqu_au.strftime('%d/%m/%Y')} déjà passée")
    ouvert = _pret_ouvert(magasin, nom)
    if p.etat is Etat.prete or ouvert is not None:
        qui = f" à {ouvert.emprunteur} jusqu'au {ouvert.jusqu_au.strftime('%d/%m/%Y')}" if ouvert else ""
        raise ErreurUsage(f"« {nom} » est déjà prêté{qui} ; « ardoise parc retour {nom} » d'abord")
    if p.etat not in ETATS_PRETABLES:
        raise ErreurUsage(
            f"« {nom} » est « {p.etat.value} » : on ne prête qu'un appareil en réserve, livré ou en service"
        )
    ed = Edition(t.racine)
    mettre(ed.poste(fichier_ecole(t, eq.uai), nom), "etat", Etat.prete.value)
    ed.ecrire()
    with magasin.session() as s:
        pret = Pret(appareil=nom, numero_serie=p.numero_serie, commune=eq.commune, uai=eq.uai,
                    emprunteur=emprunteur.strip(), jusqu_au=jusqu_au, etat_avant=p.etat.value, par=_utilisateur())  # fmt: skip
        s.add(pret)
        s.flush()
        ident = pret.id
    magasin.journaliser("parc.preter", "ok", cible=nom, commune=eq.commune,
                        details={"pret": ident, "emprunteur": emprunteur.strip(), "jusqu_au": jusqu_au.isoformat()})  # fmt: skip
    return {"pret": ident, "appareil": nom, "emprunteur": emprunteur.strip(), "jusqu_au": jusqu_au.isoformat(),
            "etat_avant": p.etat.value}  # fmt: skip


def retour(t: Territoire, magasin: Magasin, nom: str) -> dict:
    eq, p = poste(t, nom)
    ouvert = _pret_ouvert(magasin, nom)
    if ouvert is None and p.etat is not Etat.prete:
        raise ErreurUsage(f"« {nom} » n'est pas prêté (état : {p.etat.value})")
    etat = ouvert.etat_avant if ouvert else Etat.reserve.value
    if p.etat is Etat.prete:
        ed = Edition(t.racine)
        mettre(ed.poste(fichier_ecole(t, eq.uai), nom), "etat", etat)
        ed.ecrire()
    if ouvert is not None:
        with magasin.session() as s:
            s.get(Pret, ouvert.id).retour_le = maintenant()
    magasin.journaliser("parc.retour", "ok", cible=nom, commune=eq.commune,
                        details={"pret": ouvert.id if ouvert else None, "etat": etat})  # fmt: skip
    return {"appareil": nom, "etat": etat, "emprunteur": ouvert.emprunteur if ouvert else None,
            "en_retard": bool(ouvert and ouvert.jusqu_au < dt.date.today())}  # fmt: skip


def lister(
    magasin: Magasin, communes: tuple[str, ...] = (), tous: bool = False, jour: dt.date | None = None
) -> list[dict]:
    jour = jour or dt.date.today()
    with magasin.session() as s:
        req = select(Pret).order_by(Pret.jusqu_au, Pret.id)
        if communes:
            req = req.where(Pret.commune.in_(communes))
        if not tous:
            req = req.where(Pret.retour_le.is_(None))
        return [{"appareil": p.appareil, "commune": p.commune, "emprunteur": p.emprunteur,
                 "depuis": p.debut.date().isoformat(), "jusqu_au": p.jusqu_au.isoformat(),
                 "rendu_le": p.retour_le.date().isoformat() if p.retour_le else None,
                 "en_retard": p.retour_le is None and p.jusqu_au < jour} for p in s.scalars(req)]  # fmt: skip
