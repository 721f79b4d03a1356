"""After a confirmed push, rendering the same intent again gives an empty remediation, for every template.

- ``commutation`` perimeter (what the emulators implement): one drifted emulated switch per template, pushed
  with ``--confirmer-dans`` then confirmed; the diff from the device is then empty and a new apply sends nothing.
- ``complet`` perimeter (no emulator implements it): on the configuration text itself, for every switch of the
  example territory, hier_config's round trip (its ``tests/circular``): from a factory-blank config and from
  another switch's config of the same platform, the remediation applied (``HConfig.future``) gives a config
  whose remediation toward the intent is empty; and rendering twice gives the same text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hier_config import WorkflowRemediation

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.selection import Selection
from ardoise.reseau import operations
from ardoise.reseau.diff import Preparation, comparer
from ardoise.reseau.modele import construire
from ardoise.reseau.plateformes import Perimetre, plateforme
from ardoise.reseau.rendu import cibles, rendre
from ardoise.resultats.forme import StatutHote
from tests.fiabilite.commutateurs import REFERENCES, Flotte, environnement
from tests.integration.reseau.emulateurs import RACINE

NOMS = [nom for _, nom in REFERENCES.values()]  # one switch per template


@pytest.fixture
def flotte(flotte_commutateurs: Flotte, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flotte:
    environnement(monkeypatch, tmp_path)
    return flotte_commutateurs


def test_confirmed_push_then_same_intent_gives_empty_remediation_on_every_template(
    flotte: Flotte, tmp_path: Path
) -> None:
    ctx = flotte.contexte(tmp_path)
    cibles_ = flotte.cibles(NOMS)
    attente = tmp_path / "en-attente"
    avant = operations.diff(ctx, cibles_)
    assert all(r.details["remediation"] for r in avant)  # the emulators start drifted: there is a change
    resultats = operations.appliquer(ctx, cibles_, confirmer_dans=600, dossier_attente=attente)
    assert all(r.change and r.raison == "appliqué, en attente de confirmation" for r in resultats)
    confirmes = operations.confirmer(ctx, cibles_, dossier_attente=attente)
    assert [r.raison for r in confirmes] == ["confirmé et enregistré"] * len(NOMS)

    for r in operations.diff(ctx, cibles_):  # the intent rendered again, compared with the device
        assert r.statut is StatutHote.ok and r.details["remediation"] == [], (
            r.hote,
            r.details["remediation"],
        )
        assert r.raison == "conforme"
    for r in operations.appliquer(ctx, cibles_, dossier_attente=attente):
        assert not r.change and r.raison == "conforme : rien à envoyer", (r.hote, r.raison)


def test_complete_perimeter_render_and_diff_are_idempotent_on_the_text() -> None:
    t = charger(RACINE / "inventaire")
    tous = list(cibles(t, Selection(), tous_etats=True))
    assert {c.commutateur.plateforme for c in tous} == set(REFERENCES)  # every template is covered
    allers_retours = 0
    for c in tous:
        prep = Preparation(
            plateforme(c.commutateur.plateforme),
            Perimetre.complet,
            construire(c.ecole, c.commutateur).ports_geres,
        )
        voulue = rendre(c.ecole, c.commutateur)
        assert rendre(c.ecole, c.commutateur) == voulue, c.nom  # rendering is deterministic
        assert comparer(prep, voulue, voulue).remediation == [], c.nom  # intent vs itself: nothing to push
        departs = {"vierge": ""} | {
            a.nom: rendre(a.ecole, a.commutateur)
            for a in tous
            if a.commutateur.plateforme == c.commutateur.plateforme and a.nom != c.nom
        }
        for origine, depart in departs.items():
            courant, vise = prep.arbre(depart), prep.arbre(voulue)
            flux = WorkflowRemediation(courant, vise)
            lignes = comparer(prep, depart, voulue).remediation
            assert lignes, (c.nom, origine)  # a real change to make
            assert lignes == [x for x in flux.remediation_config.lines(sectional_exiting=True) if x.strip()]
            futur = courant.future(flux.remediation_config)  # the device after the push
            reste = list(WorkflowRemediation(futur, vise).remediation_config.lines())
            assert reste == [], (c.nom, origine, reste)
            allers_retours += 1
    assert allers_retours >= 2 * len(tous)
