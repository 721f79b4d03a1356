"""Hostile manifests: every manifest-reading command refuses them cleanly, fast and in bounded memory.

For each hostile case (alias bomb, nesting deeper than 64, duplicate key, file over the size limit, python tag,
non-UTF-8, binary content, a school file that is a list, and an alias bomb in a profile), every command of
``entrees_hostiles.COMMANDES`` must: exit with code 1, name the file (and line where the file has lines) in a
French message, print no traceback, write nothing (no output file, no cache entry, no results store, the
manifest untouched). The commands run in-process (Typer's runner, the same code as the ``ardoise`` script);
the real entry point and the Ansible inventory plugin (``ansible-inventory``) run as processes whose peak
memory is read from the kernel (``wait4``). Times are measured by ``benchmarks/entrees_hostiles.py``
(FIABILITE.md), never asserted here.
"""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ardoise.cli.main import app
from tests.fiabilite.entrees_hostiles import (
    CAS,
    COMMANDES,
    ESSENTIELLES,
    RACINE,
    TOUTES,
    Cas,
    arguments,
    copie,
    env_isole,
    instantane,
    mesurer_processus,
)

BIN = Path(sys.executable).parent
RSS_MAX_KIO = 300 * 1024
ANGLAIS = re.compile(r"\b(found|expected|while|could not|Input should|Field required|unable|Traceback)\b")
TEMOIN = Path("/tmp/ardoise-pwned")


@pytest.fixture
def territoire_casse(request, tmp_path: Path) -> tuple[Cas, Path, range]:
    cas: Cas = request.param
    racine = copie(tmp_path / "t")
    ligne = cas.casser(racine / cas.fichier)
    return cas, racine, ligne


def _verifier_refus(cas: Cas, lignes: range, code: int, stdout: str, stderr: str) -> list[str]:
    """What is wrong with one refusal (empty list: a clean refusal).

    Problems go to stderr, except for ``inventaire valider`` whose data (the problems) go to stdout.
    """
    defauts = []
    stderr = stdout + stderr
    if code != 1:
        defauts.append(f"code {code} au lieu de 1")
    if "Traceback" in stdout + stderr or "erreur interne" in stderr:
        defauts.append("trace Python ou erreur interne")
    if cas.message not in stderr:
        defauts.append(f"message « {cas.message} » absent")
    if not any(f"{cas.fichier}:{n}:" in stderr for n in lignes):
        defauts.append(f"« {cas.fichier}:{lignes[0]}: » absent")
    hors_valeurs = re.sub(r"«[^»]*»", "", stderr)
    if ANGLAIS.search(hors_valeurs):
        defauts.append(f"anglais : {ANGLAIS.search(hors_valeurs).group(0)}")
    return defauts


def _refus_de_chaque_commande(cas: Cas, racine: Path, lignes: range, commandes: list[list[str]]) -> None:
    runner = CliRunner()
    env = env_isole(racine)
    avant = instantane(racine)
    TEMOIN.unlink(missing_ok=True)
    defauts = {}
    for commande in commandes:
        r = runner.invoke(app, arguments(commande, racine), env=env, catch_exceptions=True)
        erreurs = _verifier_refus(cas, lignes, r.exit_code, r.stdout, r.stderr)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            erreurs.append(f"exception {type(r.exception).__name__}: {r.exception}")
        if erreurs:
            defauts[" ".join(commande[:3])] = (erreurs, r.stderr[-600:])
    assert defauts == {}
    assert instantane(racine) == avant  # manifest untouched, no output file, no cache entry, no store
    assert not TEMOIN.exists()


@pytest.mark.parametrize("territoire_casse", [c for c in CAS if c.nom in TOUTES], ids=TOUTES, indirect=True)
def test_toutes_les_commandes_refusent_sans_trace_ni_ecriture(territoire_casse) -> None:
    _refus_de_chaque_commande(*territoire_casse, COMMANDES)


@pytest.mark.parametrize("territoire_casse", CAS, ids=[c.nom for c in CAS], indirect=True)
def test_chaque_cas_hostile_est_refuse(territoire_casse) -> None:
    _refus_de_chaque_commande(*territoire_casse, ESSENTIELLES)


def lancer_cas(cas: Cas, dossier: Path) -> dict:
    """The real ``ardoise`` and ``ansible-inventory`` on one hostile case: codes, messages, times, RSS."""
    racine = copie(dossier / cas.nom)
    lignes = cas.casser(racine / cas.fichier)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ARDOISE_", "ANSIBLE_"))},
           **env_isole(racine)}  # fmt: skip
    avant = instantane(racine)
    resultats = {}
    code, out, err, duree, rss, _ = mesurer_processus(
        [str(BIN / "ardoise"), "inventaire", "lister"], env, racine
    )
    resultats["ardoise inventaire lister"] = (_verifier_refus(cas, lignes, code, out, err), duree, rss)
    env_ansible = {
        **env,
        "ANSIBLE_CONFIG": str(RACINE / "ansible.cfg"),
        "ANSIBLE_INVENTORY_PLUGINS": str(RACINE / "plugins" / "inventory"),
        "ANSIBLE_HOME": str(dossier / f"{cas.nom}-ansible"),  # Ansible's own ~/.ansible/tmp, not Ardoise's
    }
    code, out, err, duree, rss, _ = mesurer_processus(
        [str(BIN / "ansible-inventory"), "-i", str(racine / "inventaire" / "ardoise.yml"), "--list"],
        env_ansible,
        racine,
    )
    defauts = []
    if code == 0 or "Traceback" in out + err:
        defauts.append(f"code {code} ou trace")
    if not any(f"{cas.fichier}:{n}:" in err for n in lignes) or cas.message not in err:
        defauts.append(f"« {cas.fichier}:{lignes[0]}: » / « {cas.message} » absent : {err[-800:]}")
    resultats["ansible-inventory --list"] = (defauts, duree, rss)
    apres = instantane(racine)
    ecrits = sorted(set(apres) ^ set(avant) | {k for k in apres if k in avant and apres[k] != avant[k]})
    resultats["rien d'écrit"] = (ecrits, 0.0, 0)
    return resultats


def test_vrai_point_d_entree_et_greffon_ansible_en_memoire_bornee(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        par_cas = dict(
            zip([c.nom for c in CAS], pool.map(lambda c: lancer_cas(c, tmp_path), CAS), strict=True)
        )
    defauts = {(cas, cmd): d for cas, r in par_cas.items() for cmd, (d, _, _) in r.items() if d}
    assert defauts == {}
    memoire = {(cas, cmd): rss for cas, r in par_cas.items() for cmd, (_, _, rss) in r.items() if rss}
    assert all(0 < rss <= RSS_MAX_KIO for rss in memoire.values()), memoire
