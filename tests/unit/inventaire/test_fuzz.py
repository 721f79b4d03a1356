"""Fuzzing the loader: mutated manifests give problems or a territory, never an exception, never a write.

Mutations of the example files: lines deleted or duplicated, characters swapped or replaced by
YAML punctuation, random YAML snippets inserted, indentation changed, file truncated.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ardoise.inventaire.chargeur import valider
from tests.unit.inventaire.bac_inventaire import CATALOGUE, DEPOT, JEAN_JAURES, TERRITOIRE, TILLEULS, profil

EXEMPLES = int(os.environ.get("ARDOISE_FUZZ_EXEMPLES", "60"))
FICHIERS = [
    TERRITOIRE,
    JEAN_JAURES,
    TILLEULS,
    CATALOGUE,
    profil("pc-eleve"),
    profil("pc-base"),
    "inventaire/coffre.yml",
]
PONCTUATION = list(":-[]{}&*!|>'\"#%@,?~\t\x00\x07é\\") + [": ", "- ", "  ", "\n"]
FRAGMENTS = [
    "a: 1",
    "- x",
    "&ancre [1, 2]",
    "*ancre",
    "<<: *ancre",
    "!!python/object/apply:os.system ['true']",
    "!vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132",
    "{coffre: inconnu}",
    "[[[[[[[[",
    "? [cle]\n: valeur",
    "---",
    "...",
    "%YAML 1.1",
    '"non fermé',
    "10.0.0.300",
    "01053",
    "13:00",
    "null",
    "~",
    "yes",
    "2025-02-30",
    "vlan: 4095",
    "profil: inexistant",
    "herite_de: pc-eleve",
    "licences: -1",
    "uai: 0331101T",
    "nom: pc-jean-jaures-01",
]
ANGLAIS = re.compile(r"\b(found|expected|while|could not|Input should|Field required|unable|Value error)\b")

_ORIGINAUX = {f: (DEPOT / f).read_bytes() for f in FICHIERS}


@st.composite
def mutation(draw) -> tuple[str, bytes]:
    fichier = draw(st.sampled_from(FICHIERS))
    lignes = _ORIGINAUX[fichier].decode().split("\n")
    for _ in range(draw(st.integers(1, 3))):
        lignes = lignes or [""]
        i = draw(st.integers(0, max(len(lignes) - 1, 0)))
        genre = draw(
            st.sampled_from(
                ["supprimer", "dupliquer", "echanger", "remplacer", "inserer", "indenter", "tronquer"]
            )
        )
        ligne = lignes[i] if lignes else ""
        if genre == "supprimer" and lignes:
            del lignes[i]
        elif genre == "dupliquer":
            lignes.insert(i, ligne)
        elif genre == "echanger" and len(ligne) >= 2:
            j = draw(st.integers(0, len(ligne) - 2))
            lignes[i] = ligne[:j] + ligne[j + 1] + ligne[j] + ligne[j + 2 :]
        elif genre == "remplacer":
            j = draw(st.integers(0, len(ligne)))
            lignes[i] = ligne[:j] + draw(st.sampled_from(PONCTUATION)) + ligne[j + 1 :]
        elif genre == "inserer":
            indentation = " " * draw(st.integers(0, 6))
            fragment = draw(st.sampled_from(FRAGMENTS) | st.text(max_size=20))
            apres_cle = draw(st.booleans()) and ":" in ligne
            lignes[i] = ligne + " " + fragment if apres_cle else indentation + fragment
        elif genre == "indenter":
            delta = draw(st.integers(-3, 3))
            lignes[i] = (
                " " * delta + ligne
                if delta >= 0
                else ligne[min(-delta, len(ligne) - len(ligne.lstrip(" "))) :]
            )
        elif genre == "tronquer":
            del lignes[i:]
    return fichier, "\n".join(lignes).encode("utf-8", errors="surrogatepass")


def _instantane(racine: Path) -> dict[str, tuple[int, int]]:
    etat = {}
    for dossier, sous_dossiers, fichiers in os.walk(racine):
        for nom in sous_dossiers + fichiers:
            st_ = (Path(dossier) / nom).lstat()
            etat[os.path.relpath(os.path.join(dossier, nom), racine)] = (st_.st_size, st_.st_mtime_ns)
    return etat


@pytest.fixture(scope="module")
def racine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("fuzz")
    for dossier in ("inventaire", "profils_terminaux"):
        shutil.copytree(DEPOT / dossier, r / dossier)
    return r


@settings(
    max_examples=EXEMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mutation())
def test_valider_ne_leve_jamais(racine: Path, cas: tuple[str, bytes]) -> None:
    fichier, contenu = cas
    cible = racine / fichier
    cible.write_bytes(contenu)
    try:
        avant = _instantane(racine)
        territoire, problemes = valider(racine / "inventaire")  # any exception fails the test
        assert _instantane(racine) == avant
    finally:
        cible.write_bytes(_ORIGINAUX[fichier])
    erreurs = [p for p in problemes if p.gravite == "erreur"]
    assert (territoire is None) == bool(erreurs)
    for p in problemes:
        assert p.ligne >= 1 and p.colonne >= 1, p.texte()
        assert not Path(p.fichier).is_absolute(), p.texte()
        assert p.message.strip() and p.correction.strip() and p.regle, p.texte()
        hors_valeurs = re.sub(r"«[^»]*»", "", p.message)
        assert not ANGLAIS.search(hors_valeurs), p.texte()
