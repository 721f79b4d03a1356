"""The Ansible inventory plugin, through the REAL ``ansible-inventory`` / ``ansible`` of the venv.

Every test runs the command as a technician would, from the repository root (``ansible.cfg``),
with a private cache directory (``ARDOISE_CACHE``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ardoise.inventaire.coffre import textes_chiffres
from tests.unit.inventaire.bac_inventaire import DEPOT, JEAN_JAURES, Bac
from tests.unit.inventaire.test_cache import dossier_lecture_seule  # noqa: F401 - fixture

BIN = Path(sys.executable).parent
PC = "pc-jean-jaures-03"  # Debian PC, profile pc-eleve, VLAN 10 (pédagogique), school 0331101T
MDP = DEPOT / "inventaire" / "coffre-demo.mdp"


def ansible(
    commande: str, *args: str, cache: Path, source: Path | None = None
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(DEPOT / "ansible.cfg"),
        "ARDOISE_CACHE": str(cache),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    inventaire = ["-i", str(source)] if source else []
    return subprocess.run(
        [str(BIN / commande), *inventaire, *args],
        cwd=DEPOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def liste(cache: Path, *args: str, source: Path | None = None) -> dict:
    r = ansible("ansible-inventory", "--list", *args, cache=cache, source=source)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout, object_hook=_texte)


def _texte(objet: dict):
    """Manifest text is not a template: --list shows it as ``{"__ansible_unsafe": text}``."""
    return objet["__ansible_unsafe"] if set(objet) == {"__ansible_unsafe"} else objet


def hotes_de(inventaire: dict, groupe: str) -> set[str]:
    """Hosts of a group, children included (``ansible-inventory --list`` layout)."""
    g = inventaire.get(groupe, {})
    hotes = set(g.get("hosts", []))
    for enfant in g.get("children", []):
        hotes |= hotes_de(inventaire, enfant)
    return hotes


def secrets_en_clair() -> list[str]:
    """The demo vault's values, decrypted with ansible-vault (to look for them in outputs)."""
    valeurs = []
    for nom, chiffre in textes_chiffres(DEPOT / "inventaire" / "coffre.yml").items():
        r = subprocess.run(
            [str(BIN / "ansible-vault"), "decrypt", "--vault-password-file", str(MDP), "--output", "-"],
            input=chiffre,
            capture_output=True,
            text=True,
            check=True,
        )
        assert r.stdout, nom
        valeurs.append(r.stdout)
    return valeurs


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_list_has_every_device_in_its_groups(cache: Path) -> None:
    inv = liste(cache)
    assert len(inv["_meta"]["hostvars"]) >= 80
    for groupe in (
        "commune_bellerive",
        "ecole_0331101t",
        "type_pc",
        "profil_pc_eleve",
        "vlan_pedagogique",
        "os_debian",
        "etat_atelier",
    ):
        assert PC in hotes_de(inv, groupe), groupe
    assert "ecole_0331101t" in inv["commune_bellerive"]["children"]
    assert PC not in hotes_de(inv, "commune_castelnau")


def test_hostvars_carry_the_effective_profile(cache: Path) -> None:
    variables = liste(cache)["_meta"]["hostvars"][PC]
    assert variables["ardoise_profil"] == "pc-eleve"
    applications = {a["id"]: a["source"] for a in variables["ardoise_applications"]}
    assert applications["firefox-esr"] == "profil:pc-base"  # inherited profile
    assert applications["tuxmath"] == "ecole:0331101T"  # the school's own addition
    assert variables["ansible_host"] == "10.11.10.12"
    # school policy as group variables, flattened into the host by --list
    assert variables["ardoise_ecole"]["uai"] == "0331101T"
    assert variables["ardoise_proxy"]["adresse"] == "10.11.50.10"


def test_host_shows_one_device(cache: Path) -> None:
    r = ansible("ansible-inventory", "--host", PC, cache=cache)
    assert r.returncode == 0, r.stderr
    variables = json.loads(r.stdout)
    assert variables["ardoise"]["nom"] == PC and variables["ardoise"]["uai"] == "0331101T"
    assert (
        variables["ardoise_comptes"]["mot_de_passe_administrateur"]
        == "{{ ardoise_coffre['admin_postes_mdp'] }}"
    )


def test_no_clear_secret_in_the_inventory_but_references_decrypt(cache: Path) -> None:
    secrets = secrets_en_clair()
    assert len(secrets) >= 5
    for args in ([], ["--export"]):
        r = ansible("ansible-inventory", "--list", *args, cache=cache)
        assert r.returncode == 0, r.stderr
        for s in secrets:
            assert s not in r.stdout
        assert "$ANSIBLE_VAULT;1.1;AES256" in r.stdout
    # a playbook gets the clear value, decrypted by Ansible when used (debug runs on the controller)
    r = ansible(
        "ansible", PC, "-m", "debug", "-a", "var=ardoise_comptes.mot_de_passe_administrateur", cache=cache
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(s in r.stdout for s in secrets)


def test_limited_to_one_school(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "une-ecole.yml"
    source.write_text(f"plugin: ardoise\ninventaire: {DEPOT / 'inventaire'}\necoles: [0331101T]\n")
    inv = liste(cache, source=source)
    hotes = set(inv["_meta"]["hostvars"])
    assert PC in hotes and hotes == hotes_de(inv, "ecole_0331101t")
    assert not any(g.startswith("ecole_") and g != "ecole_0331101t" for g in inv)
    # the collection name of the plugin is accepted too
    source.write_text(
        f"plugin: ardoise.territoire.ardoise\ninventaire: {DEPOT / 'inventaire'}\necoles: [0331101T]\n"
    )
    assert set(liste(cache, source=source)["_meta"]["hostvars"]) == hotes


def test_unknown_school_is_a_french_error(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "inconnue.yml"
    source.write_text(f"plugin: ardoise\ninventaire: {DEPOT / 'inventaire'}\necoles: [0331101X]\n")
    r = ansible("ansible-inventory", "--list", cache=cache, source=source)
    assert r.returncode != 0
    assert "école « 0331101X » inconnue" in r.stderr and "0331101T" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_an_invalid_manifest_fails_with_the_french_problem_list(bac: Bac, cache: Path) -> None:
    bac.remplacer(JEAN_JAURES, "  adresse: 10.11.10.12\n", "  adresse: 10.11.77.12\n")
    ligne = bac.ligne(JEAN_JAURES, "adresse: 10.11.77.12")
    r = ansible("ansible-inventory", "--list", cache=cache, source=bac.inventaire / "ardoise.yml")
    assert r.returncode != 0
    assert f"{JEAN_JAURES}:{ligne}:12: erreur: adresse 10.11.77.12 hors du réseau du VLAN 10" in r.stderr
    assert "correction : choisissez une adresse dans 10.11.10.0/24" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert not list(cache.glob("*.cache")) if cache.exists() else True


def test_second_run_is_served_from_the_cache(cache: Path) -> None:
    premier = liste(cache)
    (entree,) = cache.glob("territoire-*.cache")
    mtime = entree.stat().st_mtime_ns
    r = ansible("ansible-inventory", "-vvv", "--list", cache=cache)
    assert r.returncode == 0, r.stderr
    assert "ardoise : inventaire servi par le cache" in r.stdout
    assert entree.stat().st_mtime_ns == mtime
    assert liste(cache) == premier


def test_read_only_cache_directory_works(dossier_lecture_seule: Path) -> None:  # noqa: F811
    for _ in range(2):
        r = ansible("ansible-inventory", "-vvv", "--list", cache=dossier_lecture_seule)
        assert r.returncode == 0, r.stderr
        assert "servi par le cache" not in r.stdout
        assert "[WARNING]" not in r.stderr
    assert list(dossier_lecture_seule.iterdir()) == []
