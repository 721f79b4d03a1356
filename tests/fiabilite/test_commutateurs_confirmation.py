"""A change pushed with ``--confirmer-dans`` and never confirmed comes back by itself (NAPALM's
``commit_confirm_noconfirm``): 20 emulated switches per platform at once, one detached timer for the directory.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ardoise.reseau import operations
from ardoise.reseau.diff import Preparation, comparer, masquer_config
from ardoise.reseau.plateformes import Perimetre
from ardoise.resultats.forme import StatutHote
from tests.fiabilite.commutateurs import (
    PAR_PLATEFORME,
    PLATEFORMES,
    Flotte,
    attendre,
    environnement,
    lire,
    nom_clone,
)

pytest.importorskip("fake_switches")

DELAI_CONFIRMATION = 10.0  # seconds: short, the timer's behaviour does not depend on it
MARGE = 90.0  # the promise: back to the backup within the delay + 90 s
NOMS = [nom_clone(p, i) for p in PLATEFORMES for i in range(1, PAR_PLATEFORME + 1)]


@pytest.fixture
def flotte(flotte_commutateurs: Flotte, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flotte:
    environnement(monkeypatch, tmp_path)
    return flotte_commutateurs


def _retours(base: Path) -> dict[str, tuple[str, dt.datetime]]:
    with sqlite3.connect(base) as db:
        lignes = db.execute(
            "select cible, resultat, horodatage from evenements where action = 'reseau.retour_arriere'"
        ).fetchall()
    return {c: (r, dt.datetime.fromisoformat(h).replace(tzinfo=dt.UTC)) for c, r, h in lignes}


def test_unconfirmed_push_comes_back_to_the_backup_on_every_platform(flotte: Flotte, tmp_path: Path) -> None:
    ctx = flotte.contexte(tmp_path, delai=20, delai_lecture=30)
    cibles = flotte.cibles(NOMS)
    attente = tmp_path / "en-attente"

    # the operator's session is dropped right after each switch's push (before any timer can act); nobody
    # ever confirms
    ctx.progression = lambda ligne: (
        flotte.instruction(ligne.split(" : ")[0], "couper")
        if ligne.endswith("en attente de confirmation")
        else None
    )
    resultats = operations.appliquer(ctx, cibles, confirmer_dans=DELAI_CONFIRMATION, dossier_attente=attente)
    fin_envoi = time.monotonic()
    for r in resultats:
        assert r.statut is StatutHote.ok and r.change, (r.hote, r.raison)
        assert r.raison == "appliqué, en attente de confirmation"
    echeances = {r.hote: dt.datetime.fromisoformat(r.details["echeance"]) for r in resultats}
    sauvegardes = {
        c.nom: ctx.depot.lire(ctx.relatif(c), r.details["sauvegarde"])
        for c, r in zip(cibles, resultats, strict=True)
    }

    base = tmp_path / "resultats.sqlite"
    limite = fin_envoi + DELAI_CONFIRMATION + MARGE
    assert attendre(lambda: len(_retours(base)) == len(NOMS), limite), (
        f"{len(_retours(base))}/{len(NOMS)} retours arrière dans le délai + {MARGE:g} s\n"
        + (attente / "minuteur.log").read_text(encoding="utf-8")[-3000:]
    )
    retours = _retours(base)
    for nom in NOMS:
        resultat, quand = retours[nom]
        assert resultat == "retour_arriere", (nom, resultat)
        assert quand <= echeances[nom] + dt.timedelta(seconds=MARGE), (nom, quand, echeances[nom])
    assert attendre(lambda: not list(attente.glob("*.json")), time.monotonic() + 30)  # every rollback over

    def verifier(cible) -> tuple[str, list[str], bool]:  # noqa: ANN001
        courante = lire(ctx, cible)
        stricte = Preparation(ctx.acces(cible).plateforme, Perimetre.complet)  # every line, not the perimeter
        sauvegarde = sauvegardes[cible.nom]
        ecart = (
            comparer(stricte, courante, sauvegarde).remediation
            + comparer(stricte, sauvegarde, courante).remediation
        )
        return cible.nom, ecart, masquer_config(ctx.preparation(cible), courante) == sauvegarde

    with ThreadPoolExecutor(max_workers=20) as pool:
        verifications = list(pool.map(verifier, cibles))
    for nom, ecart, identique in verifications:
        assert ecart == [], (nom, ecart)  # hier_config diff empty, both ways, whole configuration
        assert identique, nom  # and the very text of the pre-change backup


def test_a_rollback_in_progress_blocks_confirm_and_survives_a_dead_worker(tmp_path: Path) -> None:
    from ardoise.reseau import confirmation

    confirmation.ecrire_attente(tmp_path, {"nom": "sw-a", "echeance": 0})
    assert confirmation.prendre(tmp_path, "sw-a", pour_retour=True) == {"nom": "sw-a", "echeance": 0}
    assert confirmation.prendre(tmp_path, "sw-a") is None  # « confirmer » comes too late
    assert confirmation.prendre(tmp_path, "sw-a", pour_retour=True) is None  # never rolled back twice at once
    assert [e["nom"] for e in confirmation.en_attente(tmp_path)] == ["sw-a"]  # still pending until it is over
    confirmation._reprendre_orphelins(tmp_path)  # the worker died: the next one starts it again
    assert confirmation.prendre(tmp_path, "sw-a", pour_retour=True) is not None
    confirmation.terminer(tmp_path, "sw-a")
    assert confirmation.en_attente(tmp_path) == []
