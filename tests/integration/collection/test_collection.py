"""The Ansible collection ``ardoise.territoire``: built with ansible-galaxy, installed, used from OUTSIDE the repo.

As an AWX inventory source would: a temporary directory with a copy of the example territory and an
``inventaire.yml`` naming the plugin by its FQCN, the collection installed by ``ansible-galaxy collection
install`` into a private collections path, no ``ansible.cfg`` of the repository. AWX itself cannot run
here; what it relies on is tested: the installed collection, the plugin's options, a read-only cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ardoise.inventaire.coffre import reveler, textes_chiffres
from tests.unit.inventaire.bac_inventaire import DEPOT, JEAN_JAURES, Bac
from tests.unit.inventaire.test_cache import dossier_lecture_seule  # noqa: F401 - fixture
from tests.unit.inventaire.test_plugin import MDP, PC, _texte, hotes_de

BIN = Path(sys.executable).parent
FQCN = "ardoise.territoire.ardoise"


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(tarball, collections path where it is installed)."""
    dossier = tmp_path_factory.mktemp("collection")
    r = subprocess.run([sys.executable, str(DEPOT / "scripts" / "collection.py"), "--sortie", str(dossier / "build")],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    archive = Path(r.stdout.strip())
    chemin = dossier / "collections"
    r = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(archive), "-p", str(chemin)],
                       capture_output=True, text=True, timeout=300, cwd=dossier, env=_env(chemin))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    return archive, chemin


@pytest.fixture(scope="module")
def secrets() -> list[str]:
    """The demo vault's values in clear (to look for them in outputs)."""
    coffre = DEPOT / "inventaire" / "coffre.yml"
    valeurs = [s.reveler() for s in reveler(coffre, list(textes_chiffres(coffre)), MDP).values()]
    assert len(valeurs) >= 5 and all(valeurs)
    return valeurs


@pytest.fixture
def bac(tmp_path: Path) -> Bac:
    """A directory outside the repository: the example territory and an inventory source naming the FQCN."""
    assert not tmp_path.is_relative_to(DEPOT)
    for dossier in ("inventaire", "profils_terminaux"):
        shutil.copytree(DEPOT / dossier, tmp_path / dossier)
    (tmp_path / "inventaire.yml").write_text(f"plugin: {FQCN}\ninventaire: inventaire\n")
    return Bac(tmp_path)


def _env(chemin: Path, **autres: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "ARDOISE_"))}
    return {**env, "ANSIBLE_COLLECTIONS_PATH": str(chemin), "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1", "HOME": str(chemin.parent), **autres}  # fmt: skip


def ansible(bac: Bac, chemin: Path, *args: str, commande: str = "ansible-inventory", **env: str):
    return subprocess.run([str(BIN / commande), "-i", "inventaire.yml", *args], cwd=bac.racine,
                          env=_env(chemin, **env), capture_output=True, text=True, timeout=120)  # fmt: skip


def liste(bac: Bac, chemin: Path, **env: str) -> dict:
    r = ansible(bac, chemin, "--list", **env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout, object_hook=_texte)


def test_the_tarball_holds_the_plugin_the_roles_and_the_execution_environment(collection) -> None:
    archive, chemin = collection
    with tarfile.open(archive) as tar:
        noms = set(tar.getnames())
    roles = {p.name for p in (DEPOT / "roles").glob("ardoise_*") if (p / "tasks" / "main.yml").is_file()}
    assert len(roles) >= 6
    for role in roles:
        assert f"roles/{role}/tasks/main.yml" in noms, role
    assert not [n for n in noms if "/molecule" in n]  # test scenarios stay in the repository
    for f in ("plugins/inventory/ardoise.py", "meta/runtime.yml", "meta/execution-environment.yml",
              "requirements.txt", "README.md", "MANIFEST.json"):  # fmt: skip
        assert f in noms, f
    installe = chemin / "ansible_collections" / "ardoise" / "territoire"
    assert "ardoise==" in (installe / "requirements.txt").read_text()
    r = subprocess.run([str(BIN / "ansible-doc"), "-t", "inventory", FQCN], capture_output=True, text=True,
                       env=_env(chemin), cwd=chemin.parent, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "manifeste Ardoise" in r.stdout and "cache_ardoise" in r.stdout


def test_inventory_from_the_installed_collection_outside_the_repository(
    collection, bac: Bac, secrets
) -> None:
    _, chemin = collection
    r = ansible(bac, chemin, "--list", ARDOISE_CACHE=str(bac.racine / "cache"))
    assert r.returncode == 0, r.stderr
    inv = json.loads(r.stdout, object_hook=_texte)
    assert len(inv["_meta"]["hostvars"]) >= 80
    for groupe in ("commune_bellerive", "ecole_0331101t", "type_pc", "profil_pc_eleve", "os_debian"):
        assert PC in hotes_de(inv, groupe), groupe
    assert "ecole_0331101t" in inv["commune_bellerive"]["children"]
    assert PC not in hotes_de(inv, "commune_castelnau")
    # no clear secret: vault values stay encrypted, references stay references
    for s in secrets:
        assert s not in r.stdout
    assert "$ANSIBLE_VAULT;1.1;AES256" in r.stdout
    comptes = inv["_meta"]["hostvars"][PC]["ardoise_comptes"]
    assert comptes["mot_de_passe_administrateur"] == "{{ ardoise_coffre['admin_postes_mdp'] }}"
    # the same source without the installed collection does not parse: it really is the collection
    vide = bac.racine / "sans-collection"
    vide.mkdir()
    r = ansible(bac, vide, "--list")
    assert r.returncode != 0 and FQCN in r.stdout + r.stderr


def test_selection_options_of_the_plugin(collection, bac: Bac) -> None:
    _, chemin = collection
    (bac.racine / "inventaire.yml").write_text(
        f"plugin: {FQCN}\ninventaire: inventaire\necoles: [0331101T]\n"
    )
    hotes = set(liste(bac, chemin)["_meta"]["hostvars"])
    assert PC in hotes and all("jean-jaures" in h for h in hotes)
    (bac.racine / "inventaire.yml").write_text(
        f"plugin: {FQCN}\ninventaire: inventaire\ncommunes: [castelnau]\n"
    )
    inv = liste(bac, chemin)
    assert PC not in inv["_meta"]["hostvars"]
    assert set(inv["_meta"]["hostvars"]) == hotes_de(inv, "commune_castelnau") != set()
    assert not [g for g in inv if g.startswith("commune_") and g != "commune_castelnau"]


def test_cache_directory_option_then_served_from_the_cache(collection, bac: Bac) -> None:
    _, chemin = collection
    cache = bac.racine / "cache-awx"
    (bac.racine / "inventaire.yml").write_text(
        f"plugin: {FQCN}\ninventaire: inventaire\ncache_ardoise: {cache}\n"
    )
    premier = liste(bac, chemin)
    (entree,) = cache.glob("territoire-*.cache")
    r = ansible(bac, chemin, "-vvv", "--list")
    assert r.returncode == 0, r.stderr
    assert "ardoise : inventaire servi par le cache" in r.stdout
    assert json.loads(r.stdout[r.stdout.index("\n{") :], object_hook=_texte) == premier
    assert entree.exists()


def test_read_only_cache_directory_as_in_an_execution_environment(
    collection,
    bac: Bac,
    dossier_lecture_seule: Path,  # noqa: F811
) -> None:
    _, chemin = collection
    for _ in range(2):
        r = ansible(bac, chemin, "-vvv", "--list", ARDOISE_CACHE=str(dossier_lecture_seule))
        assert r.returncode == 0, r.stderr
        assert PC in r.stdout
        assert "servi par le cache" not in r.stdout and "[WARNING]" not in r.stderr
    assert list(dossier_lecture_seule.iterdir()) == []


def test_references_decrypt_with_the_vault_password(collection, bac: Bac, secrets) -> None:
    _, chemin = collection
    r = ansible(bac, chemin, PC, "-m", "ansible.builtin.debug", "-a", "var=ardoise_comptes.mot_de_passe_administrateur",
                "--vault-password-file", str(MDP), commande="ansible", ARDOISE_CACHE=str(bac.racine / "c"))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(s in r.stdout for s in secrets)


def test_a_broken_manifest_gives_the_french_problem_list(collection, bac: Bac) -> None:
    _, chemin = collection
    bac.remplacer(JEAN_JAURES, "  adresse: 10.11.10.12\n", "  adresse: 10.11.77.12\n")
    ligne = bac.ligne(JEAN_JAURES, "adresse: 10.11.77.12")
    r = ansible(bac, chemin, "--list", ARDOISE_CACHE=str(bac.racine / "cache"))
    assert r.returncode != 0
    assert f"{JEAN_JAURES}:{ligne}:12: erreur: adresse 10.11.77.12 hors du réseau du VLAN 10" in r.stderr
    assert "correction : choisissez une adresse dans 10.11.10.0/24" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
