"""Loans: the manifest state goes to « prete » and back, the loan is in the store, refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.chargeur import charger
from ardoise.parc.prets import lister, preter, retour
from ardoise.resultats.magasin import Magasin
from tests.aide_parc import copier_exemple

JOUR = dt.date(2026, 11, 23)


def _etat(inv, nom):
    return next(p.etat.value for e in charger(inv).ecoles for p in e.modele.postes if p.nom == nom)


def test_pret_puis_retour(tmp_path):
    inv = copier_exemple(tmp_path)
    magasin = Magasin(f"sqlite:///{tmp_path}/r.sqlite")
    r = preter(charger(inv), magasin, "pc-les-pins-09", "Mme Martin (CM1)", dt.date(2027, 1, 15), jour=JOUR)
    assert r["etat_avant"] == "reserve" and _etat(inv, "pc-les-pins-09") == "prete"
    assert [p["emprunteur"] for p in lister(magasin)] == ["Mme Martin (CM1)"]
    with pytest.raises(ErreurUsage, match="déjà prêté à Mme Martin"):
        preter(charger(inv), magasin, "pc-les-pins-09", "M. Durand", dt.date(2027, 1, 15), jour=JOUR)
    r = retour(charger(inv), magasin, "pc-les-pins-09")
    assert r["etat"] == "reserve" and _etat(inv, "pc-les-pins-09") == "reserve" and lister(magasin) == []


@pytest.mark.parametrize(("nom", "jusqu", "message"), [
    ("pc-le-lac-04", dt.date(2027, 1, 1), "« en_panne » : on ne prête qu'un appareil"),
    ("pc-les-pins-09", dt.date(2026, 1, 1), "déjà passée"),
])  # fmt: skip
def test_refus(tmp_path, nom, jusqu, message):
    inv = copier_exemple(tmp_path)
    with pytest.raises(ErreurUsage, match=message):
        preter(charger(inv), Magasin(f"sqlite:///{tmp_path}/r.sqlite"), nom, "Mme Martin", jusqu, jour=JOUR)
