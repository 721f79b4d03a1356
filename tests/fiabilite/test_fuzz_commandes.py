"""Fuzzing the manifest-reading commands (beyond ``valider``, fuzzed in tests/unit/inventaire/test_fuzz.py).

The same mutations of the example files (lines deleted, duplicated, swapped, YAML punctuation, hostile
snippets, indentation, truncation) are fed to one of the data commands, in-process through Typer's runner (the
code of the ``ardoise`` script): the exit code is 0 (the mutation kept the manifest valid) or 1 (refused), or 2
only for a command naming a school, commune or device the mutation removed; never a traceback or an internal
error (3); never a write to the manifest.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ardoise.cli.main import app
from tests.fiabilite.entrees_hostiles import RACINE, UAI, env_isole, instantane
from tests.unit.inventaire.test_fuzz import _ORIGINAUX, mutation

EXEMPLES = int(os.environ.get("ARDOISE_FUZZ_COMMANDES_EXEMPLES", "20"))

# (arguments, names a target: a usage error (2) is right when the mutation removed it)
COMMANDES = [
    (["inventaire", "lister", "--provenance", "--format", "json"], False),
    (["inventaire", "exporter", "--vers", "ansible"], False),
    (["inventaire", "exporter", "--vers", "csv"], False),
    (["profils", "lister"], False),
    (["profils", "resoudre", "pc-jean-jaures-03"], True),
    (["reseau", "generer"], False),
    (["wifi", "horaires", "--ecole", UAI], True),
    (["parc", "garanties"], False),
    (["parc", "renouvellement", "--commune", "bellerive", "--format", "json"], True),
    (["parc", "prets"], False),
]


@pytest.fixture(scope="module")
def racine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("fuzz-commandes") / "t"
    for dossier in ("inventaire", "profils_terminaux"):
        shutil.copytree(RACINE / dossier, r / dossier)
    return r


@settings(
    max_examples=EXEMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cas=mutation(), commande=st.sampled_from(COMMANDES))
def test_les_commandes_ne_levent_jamais_et_n_ecrivent_rien(
    racine: Path, cas: tuple[str, bytes], commande: tuple[list[str], bool]
) -> None:
    fichier, contenu = cas
    args, nomme = commande
    cible = racine / fichier
    cible.write_bytes(contenu)
    env = {**env_isole(racine), "ARDOISE_CACHE": str(racine.parent / "cache"),  # the cache may be written
           "ARDOISE_BASE": f"sqlite:///{racine.parent / 'resultats.sqlite'}"}  # fmt: skip
    try:
        avant = instantane(racine)
        r = CliRunner().invoke(app, args, env=env, catch_exceptions=True)
        assert instantane(racine) == avant
    finally:
        cible.write_bytes(_ORIGINAUX[fichier])
    sortie = r.stdout + r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in sortie and "erreur interne" not in sortie, sortie[-2000:]
    assert r.exit_code in ((0, 1, 2) if nomme else (0, 1)), (args, r.exit_code, sortie[-2000:])
