"""Backups under faults: a read that times out, a read cut short, refused credentials. A good backup is never
replaced by an empty or truncated one; a failing read is retried (4 attempts: the first and 3 retries) then the
device is reported; a refused login is reported at once. 100 backups of unchanged devices make no commit, one
change makes exactly one.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ardoise.reseau import operations
from ardoise.reseau.application import TENTATIVES_LECTURE
from ardoise.reseau.connexion import Session
from ardoise.resultats.forme import StatutHote
from ardoise.secrets import Secret
from tests.fiabilite.commutateurs import (
    PLATEFORMES,
    REFERENCES,
    Flotte,
    environnement,
    nom_clone,
)

pytest.importorskip("fake_switches")

REFERENCES_ = [nom for _, nom in REFERENCES.values()]  # one switch per platform
LENTS = [nom_clone(p, 1) for p in PLATEFORMES]  # "show running-config" answers after 8 s (the read waits 3)
TRONQUES = [nom_clone(p, 2) for p in PLATEFORMES]  # every read cut after 6 lines, session dropped
TRONQUES_UNE_FOIS = [nom_clone(p, 3) for p in PLATEFORMES]  # only the first read is cut
REFUSES = REFERENCES_  # the vault holds a password the switches refuse
NOMS = REFERENCES_ + LENTS + TRONQUES + TRONQUES_UNE_FOIS
RUNS_INCHANGES = 100
# a change on each platform, in its own syntax (a VLAN the manifest does not know)
CHANGEMENT = {"cisco_ios": ["vlan 3999", " name SAUVEGARDE"], "hp_procurve": ["vlan 3999", '   name "SAUVEGARDE"', "   exit"],
              "aruba_aoscx": ["vlan 3999", "    name SAUVEGARDE", "    exit"]}  # fmt: skip


@pytest.fixture
def flotte(flotte_commutateurs: Flotte, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flotte:
    environnement(monkeypatch, tmp_path)
    return flotte_commutateurs


def _commits(dossier: Path) -> int:
    sortie = subprocess.run(["git", "-C", str(dossier / "sauvegardes"), "rev-list", "--count", "HEAD"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    return int(sortie)


def _fichiers(dossier: Path) -> dict[str, str]:
    depot = dossier / "sauvegardes"
    return {str(p.relative_to(depot)): p.read_text(encoding="utf-8") for p in depot.rglob("*.cfg")}


def test_faulty_reads_never_replace_a_good_backup_and_are_reported_after_retries(
    flotte: Flotte, tmp_path: Path
) -> None:
    ctx = flotte.contexte(tmp_path, delai=20, delai_lecture=3)
    cibles = flotte.cibles(NOMS)
    resultats, ref = operations.sauvegarder(ctx, cibles)
    assert ref is not None and all(r.statut is StatutHote.ok for r in resultats), [
        r.raison for r in resultats
    ]
    bonnes = _fichiers(tmp_path)
    assert len(bonnes) == len(NOMS) and _commits(tmp_path) == 1

    try:
        for nom in LENTS:
            flotte.instruction(nom, "lent 8 show running-config")
        for nom in TRONQUES:
            flotte.instruction(nom, "tronquer 6")
        for nom in TRONQUES_UNE_FOIS:
            flotte.instruction(nom, "tronquer 6 1")
        autres = [c for c in cibles if c.nom not in REFUSES]
        resultats, ref = operations.sauvegarder(ctx, autres)
        # the same backup with a vault out of date: the switches refuse the password
        ctx.secrets = {cle: Secret(cle, "pas-le-mot-de-passe-du-switch") for cle in ctx.secrets}
        resultats_refuses, ref_refuses = operations.sauvegarder(ctx, flotte.cibles(REFUSES))
    finally:
        for nom in LENTS + TRONQUES + TRONQUES_UNE_FOIS:
            flotte.instruction(nom, "normal")
    resultats += resultats_refuses
    assert ref_refuses is None
    par_nom = {r.hote: r for r in resultats}
    for nom in LENTS + TRONQUES:
        r = par_nom[nom]
        assert r.statut is StatutHote.echec and r.etape == "sauvegarde", (nom, r.statut, r.raison)
        assert r.raison.startswith(
            f"{nom} : configuration illisible après {TENTATIVES_LECTURE} tentatives ("
        ), r.raison
        assert "la sauvegarde précédente est conservée" in r.raison and "relancez" in r.raison, r.raison
        assert r.duree_s >= (TENTATIVES_LECTURE - 1) * 1.0, (nom, r.duree_s)  # the pauses between attempts
    for nom in LENTS:
        assert "sans réponse" in par_nom[nom].raison, par_nom[nom].raison
    for nom in TRONQUES_UNE_FOIS:  # the retry read it whole: same content as before, nothing to commit
        assert par_nom[nom].statut is StatutHote.ok and par_nom[nom].raison == "inchangée", par_nom[
            nom
        ].raison
    for nom in REFUSES:  # not retried: a refused login does not heal, and switches lock accounts
        r = par_nom[nom]
        assert r.statut is StatutHote.refuse, (nom, r.statut, r.raison)
        assert "identifiants refusés" in r.raison and "tentatives" not in r.raison, r.raison
    assert ref is None and _commits(tmp_path) == 1
    assert _fichiers(tmp_path) == bonnes  # byte for byte: no empty, no truncated backup
    for relatif, texte in bonnes.items():
        assert re.search(r"^hostname ", texte, re.M), relatif


def test_hundred_backups_of_unchanged_devices_make_no_commit_one_change_makes_one(
    flotte: Flotte, tmp_path: Path
) -> None:
    ctx = flotte.contexte(tmp_path, delai=30, delai_lecture=30)
    ctx.magasin = None  # 100 runs: the results store is not what is measured here
    cibles = flotte.cibles(REFERENCES_)  # one switch per platform
    _, ref = operations.sauvegarder(ctx, cibles)
    assert ref is not None and _commits(tmp_path) == 1

    def une_sauvegarde(_: int) -> str | None:
        resultats, nouveau = operations.sauvegarder(ctx, cibles)
        assert all(r.statut is StatutHote.ok and r.raison == "inchangée" for r in resultats), resultats
        return nouveau

    with ThreadPoolExecutor(max_workers=10) as pool:
        nouveaux = list(pool.map(une_sauvegarde, range(RUNS_INCHANGES)))
    assert nouveaux == [None] * RUNS_INCHANGES and _commits(tmp_path) == 1

    cible = cibles[0]
    ctx.charger_secrets([cible])
    with Session(ctx.acces(cible), ctx.delai, ctx.delai_lecture) as s:
        s.pousser(CHANGEMENT[cible.commutateur.plateforme])
    resultats, ref = operations.sauvegarder(ctx, cibles)
    assert ref is not None and _commits(tmp_path) == 2
    assert [r.raison for r in resultats] == ["modifiée", "inchangée", "inchangée"]
    change = subprocess.run(["git", "-C", str(tmp_path / "sauvegardes"), "show", "--format=", "--name-only", ref],
                            capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert change == [ctx.relatif(cible)]
    assert operations.sauvegarder(ctx, cibles)[1] is None and _commits(tmp_path) == 2


@pytest.mark.parametrize("plateforme_", PLATEFORMES)
def test_a_read_cut_short_without_a_session_error_is_still_refused(plateforme_: str) -> None:
    """netmiko may return what came before a drop: an answer without the platform's markers is no backup."""
    from ardoise.reseau.application import ErreurLecture, verifier_lecture
    from ardoise.reseau.connexion import Acces
    from ardoise.reseau.plateformes import plateforme

    acces = Acces("sw-x", "127.0.0.1", 22, "ardoise", Secret("x", "x"), None, plateforme(plateforme_))
    session = Session(acces)  # never connected: only its platform is read
    entiere = "!\nversion 15.0\nhostname sw-x\n!\nvlan 10\n name PEDA\n!\nend\n"
    assert verifier_lecture(session, entiere) == entiere
    for coupee in (
        "",
        "   \n",
        "Building configuration...\n\nCurrent configuration : 1200 bytes\n!\nversion 15.0\n",
    ):
        with pytest.raises(ErreurLecture, match="configuration lue incomplète"):
            verifier_lecture(session, coupee)
    if plateforme_ == "cisco_ios":  # IOS always ends with "end"
        with pytest.raises(ErreurLecture, match="ligne « end » absente"):
            verifier_lecture(session, entiere.removesuffix("end\n"))


def test_the_command_line_reports_a_failed_backup_in_french_with_exit_code_1(
    flotte: Flotte, tmp_path: Path
) -> None:
    import json
    import os
    import sys

    from tests.integration.reseau.emulateurs import MDP_COFFRE

    nom = TRONQUES[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARDOISE_")}
    env.update({"ARDOISE_INVENTAIRE": str(flotte.territoire.racine), "ARDOISE_COFFRE_MDP": str(MDP_COFFRE),
                "ARDOISE_BASE": f"sqlite:///{tmp_path / 'resultats.sqlite'}", "ARDOISE_RESEAU_ACCES": str(flotte.acces),
                "ARDOISE_RESEAU_SAUVEGARDES": str(tmp_path / "sauvegardes"), "ARDOISE_RESEAU_ETAT": str(tmp_path / "etat"),
                "ARDOISE_KNOWN_HOSTS": str(tmp_path / "known_hosts"), "COLUMNS": "200"})  # fmt: skip
    commande = [
        str(Path(sys.executable).parent / "ardoise"),
        "reseau",
        "sauvegarder",
        "--equipement",
        nom,
        "--format",
        "json",
    ]

    operations.sauvegarder(flotte.contexte(tmp_path), flotte.cibles([nom]))  # a good backup first
    bonnes = _fichiers(tmp_path)
    flotte.instruction(nom, "tronquer 6")
    try:
        r = subprocess.run(commande, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    finally:
        flotte.instruction(nom, "normal")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    [ligne] = json.loads(r.stdout)
    assert (ligne["equipement"], ligne["statut"], ligne["etape"]) == (nom, "echec", "sauvegarde")
    assert f"configuration illisible après {TENTATIVES_LECTURE} tentatives" in ligne["detail"]
    assert "rien de nouveau, aucun commit" in r.stderr
    assert _fichiers(tmp_path) == bonnes and _commits(tmp_path) == 1
