"""A device refusing one line of a change, at every position of it (NAPALM's ``merge_failure``): the run names
the device, the step and the refused line, and the running AND saved configurations end exactly as before.

The refusal is the emulator's ``refuser_apres N`` stand-in: the (N+1)-th configuration command the switch
receives is answered the way the platform answers an invalid command, and not applied.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ardoise.reseau import operations
from ardoise.reseau.diff import comparer
from ardoise.resultats.forme import StatutHote
from tests.fiabilite.commutateurs import (
    PAR_PLATEFORME,
    PLATEFORMES,
    Flotte,
    environnement,
    lire,
    nom_clone,
)

pytest.importorskip("fake_switches")

STARTUP = {
    "cisco_ios": "show startup-config",
    "hp_procurve": "show config",
    "aruba_aoscx": "show startup-config",
}
NOMS = [nom_clone(p, i) for p in PLATEFORMES for i in range(1, PAR_PLATEFORME + 1)]


@pytest.fixture
def flotte(flotte_commutateurs: Flotte, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flotte:
    environnement(monkeypatch, tmp_path)
    return flotte_commutateurs


def test_a_refused_line_anywhere_in_a_change_leaves_running_and_saved_config_as_before(
    flotte: Flotte, tmp_path: Path
) -> None:
    ctx = flotte.contexte(tmp_path, delai=20, delai_lecture=8)
    toutes = flotte.cibles(NOMS)
    ctx.charger_secrets(toutes)

    # the change, per platform: what the first clone needs (every clone starts from the same drift)
    positions: dict[str, int] = {}
    for p in PLATEFORMES:
        cible = toutes[PLATEFORMES.index(p) * PAR_PLATEFORME]
        lignes = comparer(ctx.preparation(cible), lire(ctx, cible), ctx.voulue(cible)).remediation
        # every line of the change, plus the two netmiko adds around the hostname (leave config mode, "end")
        positions[p] = len(lignes) + 2
        assert 10 <= positions[p] <= PAR_PLATEFORME, (p, lignes)
    essais = [
        (c, k)
        for p in PLATEFORMES
        for k, c in enumerate(toutes[PLATEFORMES.index(p) * PAR_PLATEFORME :][: positions[p]])
    ]
    cibles = [c for c, _ in essais]

    def etat(cible) -> tuple[str, str]:  # noqa: ANN001
        return lire(ctx, cible), lire(ctx, cible, STARTUP[cible.commutateur.plateforme])

    with ThreadPoolExecutor(max_workers=20) as pool:
        avant = dict(zip([c.nom for c in cibles], pool.map(etat, cibles), strict=True))
    for cible, k in essais:
        flotte.instruction(cible.nom, f"refuser_apres {k}")

    resultats = operations.appliquer(ctx, cibles, dossier_attente=tmp_path / "en-attente")

    with ThreadPoolExecutor(max_workers=20) as pool:
        apres = dict(zip([c.nom for c in cibles], pool.map(etat, cibles), strict=True))
    for (cible, k), r in zip(essais, resultats, strict=True):
        quoi = (cible.nom, k, r.raison)
        assert r.statut is StatutHote.echec and not r.change, quoi
        assert r.etape == "envoi", quoi
        assert r.raison.startswith(f"{cible.nom} : échec à l'étape « envoi » : "), quoi
        assert "commande refusée par l'équipement : " in r.raison, quoi  # the refused line, named
        motif = ctx.acces(cible).plateforme.erreur
        assert (
            re.search(motif, r.raison) or "« end » (sortie du mode configuration impossible)" in r.raison
        ), quoi
        assert "retour arrière effectué, état sauvegardé rétabli" in r.raison, quoi
        assert apres[cible.nom][0] == avant[cible.nom][0], quoi  # running config: exactly as before
        assert apres[cible.nom][1] == avant[cible.nom][1], quoi  # saved config: exactly as before
