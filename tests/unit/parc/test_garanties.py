"""Warranty vs maintenance contract routing, and the territory's parc settings validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ardoise.inventaire.chargeur import charger, valider
from ardoise.parc.appareils import trouver
from ardoise.parc.garanties import Voie, acheminer, lignes_garanties
from tests.aide_parc import RACINE, copier_exemple


@pytest.fixture(scope="module")
def t():
    return charger(RACINE / "inventaire")


@pytest.mark.parametrize(
    ("appareil", "jour", "voie", "qui"),
    [
        # PC under manufacturer warranty until 2028-07-10: the warranty first, even with a contract
        ("pc-jean-jaures-01", dt.date(2026, 11, 1), Voie.garantie, "Manutan Collectivités"),
        # same PC after its warranty: the maintenance contract maint-postes-2025 (pc, every commune)
        (
            "pc-jean-jaures-01",
            dt.date(2028, 8, 1),
            Voie.maintenance,
            "Atelier Numérique Sud-Ouest (prestataire de maintenance)",
        ),
        # ... and after the contract's end (2028-12-31): nobody, a quote
        ("pc-jean-jaures-01", dt.date(2029, 1, 2), Voie.hors_couverture, None),
        # iPad out of warranty: no contract covers iPads
        ("ipad-jean-jaures-01", dt.date(2026, 11, 1), Voie.hors_couverture, None),
        # a switch at Bellerive: the network contract covers only saint-aubin and castelnau
        ("sw-jean-jaures-1", dt.date(2028, 1, 1), Voie.hors_couverture, None),
        # an access point at Castelnau out of warranty, inside the network contract's dates
        (
            "ap-les-pins-1",
            dt.date(2026, 11, 1),
            Voie.maintenance,
            "Atelier Numérique Sud-Ouest (prestataire de maintenance)",
        ),
        # the last day of a warranty still counts
        ("ipad-jean-jaures-01", dt.date(2024, 8, 25), Voie.garantie, "Apple Éducation"),
    ],
)
def test_acheminement(t, appareil, jour, voie, qui):
    a = acheminer(t, trouver(t, appareil), jour)
    assert a.voie is voie
    assert a.nom_fournisseur == qui
    if voie is Voie.maintenance:
        assert a.contrat in ("maint-postes-2025", "maint-reseau-2024")


def test_liste_garanties_filtre_par_fin(t):
    eqs = [e for e in t.equipements() if e.commune == "bellerive"]
    lignes = lignes_garanties(t, eqs, expirant_avant=dt.date(2025, 1, 1), jour=dt.date(2026, 11, 1))
    assert {x["nom"] for x in lignes} == {
        "ipad-jean-jaures-01",
        "ipad-jean-jaures-02",
        "ipad-jean-jaures-03",
        "ipad-les-tilleuls-01",
    }
    assert all(
        x["couverture"] == "hors garantie et hors contrat (devis)" and x["jours_restants"] < 0 for x in lignes
    )


def _territoire_modifie(tmp_path: Path, avant: str, apres: str):
    inv = copier_exemple(tmp_path)
    f = inv / "territoire.yml"
    texte = f.read_text(encoding="utf-8")
    assert avant in texte
    f.write_text(texte.replace(avant, apres, 1), encoding="utf-8")
    return valider(inv)


def test_tarif_en_double_refuse(tmp_path):
    t, problemes = _territoire_modifie(
        tmp_path,
        "      - {type: tablette, prix: 260}\n",
        "      - {type: tablette, prix: 260}\n      - {type: tablette, prix: 240}\n",
    )
    assert t is None
    p = next(p for p in problemes if p.regle == "tarif-double")
    assert "tarif déclaré deux fois" in p.message and p.fichier.endswith("territoire.yml")


@pytest.mark.parametrize("duree", ["3", "7"])
def test_duree_de_vie_entre_4_et_6_ans(tmp_path, duree):
    t, problemes = _territoire_modifie(tmp_path, "    duree_vie_ans: 5\n", f"    duree_vie_ans: {duree}\n")
    assert t is None
    assert any(p.regle == "hors-limites" and "duree_vie_ans" in p.message for p in problemes)


def test_reglages_parc_absents_valeurs_par_defaut(tmp_path):
    inv = copier_exemple(tmp_path)
    f = inv / "territoire.yml"
    texte = f.read_text(encoding="utf-8")
    debut = texte.index("  # Parc : durée de vie")
    fin = texte.index("\ncommunes:")
    f.write_text(texte[:debut] + texte[fin + 1 :], encoding="utf-8")
    t, problemes = valider(inv)
    assert t is not None, [p.texte() for p in problemes]
    assert (
        t.politique.parc.duree_vie_ans == 5
        and t.politique.parc.tarifs == []
        and t.politique.parc.glpi is None
    )
