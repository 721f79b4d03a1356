"""Renewal plan on a generated commune: totals match an independent computation; HTML and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from ardoise.inventaire.chargeur import charger
from ardoise.parc import rapport
from ardoise.parc.renouvellement import calculer, donnees_magasin, sante_batterie
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin
from tests.aide_parc import COMMUNE_GENEREE, GABARITS, copier_exemple, generer_commune

N = 600
JOUR = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def territoire(tmp_path_factory):
    inv = generer_commune(copier_exemple(tmp_path_factory.mktemp("gen")), appareils=N, par_ecole=150)
    return charger(inv)


def _independant(incidents: dict[str, int], batteries: dict[str, float], debut: int, fin: int):
    """Written from the rules of the example territory and the generator only (no Ardoise code)."""
    duree = {"pc": 5, "tablette": 4, "ipad": 5, "eni": 6}
    prix = {"pc": 690, "tablette": 260, "ipad": 420, "eni": 3200}
    prix_modele = {"Lenovo ThinkPad E14": 880}
    fin_support = {"Dell OptiPlex 3050": 2025, "Samsung Galaxy Tab A9+": 2027, "Samsung Galaxy Tab A8": 2026,
                   "Apple iPad 10e génération": 2029}  # fmt: skip
    par_annee: dict[int, tuple[int, float]] = {a: (0, 0.0) for a in range(debut, fin + 1)}
    for i in range(N):
        if i % 53 == 0 or i % 101 == 0:  # reformed, or no date at all
            continue
        type_, _os, _profil, modele = GABARITS[i % len(GABARITS)]
        achat = 2018 + i % 9
        annee = achat + 3 if i % 37 == 0 else achat + duree[type_]  # no purchase date: warranty end (3 years)
        annee = min(annee, fin_support.get(modele, 9999))
        serie, nom = f"GEN{i:06d}", f"{type_}-g{i // 150:03d}-{i:05d}"
        if incidents.get(serie, 0) >= 3 or batteries.get(nom, 100) < 60:
            annee = debut
        annee = max(annee, debut)
        if annee > fin:
            continue
        n, b = par_annee[annee]
        par_annee[annee] = (n + 1, b + prix_modele.get(modele, prix[type_]))
    return par_annee


def test_totaux_egaux_au_calcul_independant(territoire):
    plan = calculer(territoire, COMMUNE_GENEREE, horizon=2031, jour=JOUR)
    attendu = _independant({}, {}, 2026, 2031)
    assert {a.annee: (len(a.lignes), a.budget) for a in plan.annees} == attendu
    assert plan.budget_total == sum(b for _n, b in attendu.values())
    assert plan.sans_tarif == [] and len(plan.sans_date) == len(
        [i for i in range(N) if i % 101 == 0 and i % 53]
    )


def test_incidents_et_batterie_avancent_le_renouvellement(territoire, tmp_path):
    magasin = Magasin(f"sqlite:///{tmp_path}/r.sqlite")
    from ardoise.parc.appareils import trouver
    from ardoise.parc.incidents import ouvrir

    # pc-g000-00008 (bought in 2026: due in 2031) has 3 incidents; pc-g000-00016 (due 2030) a worn battery
    eq = trouver(territoire, "pc-g000-00008")
    for k in range(3):
        ouvrir(magasin, territoire, eq, f"panne {k}")
    ex = magasin.commencer("maintenance")
    for nom, pct in (("pc-g000-00016", 41.0), ("pc-g000-00017", 90.0)):
        magasin.enregistrer(ex, ResultatHote(nom, StatutHote.ok, verifications=[Verification(
            "batterie", "Santé de la batterie", Niveau.ATTENTION, "batterie", f"{pct:.0f} %", {"sante_pct": pct})]),
            commune=COMMUNE_GENEREE)  # fmt: skip
    incidents, batteries = donnees_magasin(magasin, COMMUNE_GENEREE, JOUR)
    assert incidents == {"GEN000008": 3} and batteries == {"pc-g000-00016": 41.0, "pc-g000-00017": 90.0}
    plan = calculer(
        territoire, COMMUNE_GENEREE, horizon=2031, incidents=incidents, batteries=batteries, jour=JOUR
    )
    attendu = _independant(incidents, batteries, 2026, 2031)
    assert {a.annee: (len(a.lignes), a.budget) for a in plan.annees} == attendu
    lignes = {x.nom: x for x in plan.lignes()}
    assert (
        lignes["pc-g000-00008"].annee == 2026
        and "3 incidents en 24 mois" in lignes["pc-g000-00008"].motifs[0]
    )
    assert lignes["pc-g000-00016"].annee == 2026 and lignes["pc-g000-00016"].motifs[0].startswith(
        "batterie à 41 %"
    )


def test_html_un_graphique_par_annee_et_csv(territoire):
    plan = calculer(territoire, COMMUNE_GENEREE, horizon=2031, jour=JOUR)
    page = rapport.html(plan)
    annees_non_vides = [a for a in plan.annees if a.lignes]
    assert page.count("<svg") == 1 + len(annees_non_vides)  # the summary chart, then one per year
    assert rapport.euros(plan.budget_total) in page and "Fins de support prises en compte" in page
    assert "learn.microsoft.com" in page  # the Windows 10 source is cited
    lecteur = csv.DictReader(io.StringIO(rapport.csv_texte(plan).lstrip("\ufeff")), delimiter=";")
    lignes = list(lecteur)
    assert len(lignes) == plan.nombre_total
    total = sum(float(x["prix_unitaire"].replace(",", ".")) for x in lignes if x["prix_unitaire"])
    assert total == pytest.approx(plan.budget_total)
    assert all(re.fullmatch(r"20\d\d", x["annee"]) for x in lignes)


def test_sante_batterie_depuis_la_valeur():
    assert sante_batterie({}, "57 %") == 57.0 and sante_batterie({"sante_pct": 61.5}, None) == 61.5
    assert sante_batterie(None, None) is None


def test_exemple_plan_bellerive(tmp_path: Path):
    plan = calculer(charger(copier_exemple(tmp_path)), "bellerive", jour=JOUR)
    assert plan.appareils == 39 and plan.nombre_total + plan.apres_horizon + len(plan.sans_date) == 39
