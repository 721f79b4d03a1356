"""``ardoise echelle publier``: the repository a PC pulls from (files, commits, variables, secrets, errors)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ardoise.echelle.publication import publier
from ardoise.erreurs import ErreurManifeste, ErreurUsage
from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.coffre import reveler, textes_chiffres
from ardoise.inventaire.selection import Selection

RACINE = Path(__file__).resolve().parents[3]
BIN = RACINE / ".venv" / "bin"
ARDOISE = [str(BIN / "ardoise")] if (BIN / "ardoise").exists() else [sys.executable, "-m", "ardoise.cli.main"]
MDP = RACINE / "inventaire" / "coffre-demo.mdp"
UAI = "0331101T"


def copier_inventaire(dossier: Path) -> Path:
    shutil.copytree(RACINE / "inventaire", dossier / "inventaire")
    shutil.copytree(RACINE / "profils_terminaux", dossier / "profils_terminaux")
    return dossier / "inventaire"


def _env(dossier: Path) -> dict:
    return {**os.environ, "ARDOISE_COFFRE_MDP": str(MDP), "ARDOISE_CACHE": str(dossier / "cache")}


def publier_cli(
    dossier: Path, inventaire: Path, depot: Path, *autres: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARDOISE, "echelle", "publier", "--vers", str(depot), "--inventaire", str(inventaire),
                           "--format", "json", *autres], env=_env(dossier), capture_output=True, text=True)  # fmt: skip


def commits(depot: Path) -> list[str]:
    return subprocess.run(["git", "-C", str(depot), "log", "--format=%H"], capture_output=True, text=True,
                          check=True).stdout.split()  # fmt: skip


@pytest.fixture(scope="module")
def publie(tmp_path_factory):
    """The example's first school published once through the CLI into a new repository."""
    d = tmp_path_factory.mktemp("publication")
    inventaire = copier_inventaire(d)
    r = publier_cli(d, inventaire, d / "depot", "--ecole", UAI)
    assert r.returncode == 0, r.stderr
    return {"dossier": d, "inventaire": inventaire, "depot": d / "depot", "premier": json.loads(r.stdout)[0]}


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


def test_publier_ecrit_commite_une_fois_puis_plus_rien(publie):
    d, inventaire, depot, premier = (
        publie["dossier"],
        publie["inventaire"],
        publie["depot"],
        publie["premier"],
    )
    assert premier["commit"] and premier["postes"] == 12
    for f in ("ansible.cfg", "playbooks/pull.yml", "playbooks/atelier.yml", "roles/ardoise_pull/tasks/main.yml",
              "roles/ardoise_socle/tasks/main.yml", "inventaires/pc-jean-jaures-03.yml"):  # fmt: skip
        assert (depot / f).is_file(), f
    assert not list(depot.glob("roles/*/molecule"))  # tests stay in Ardoise's repository
    assert os.access(depot / "roles/ardoise_pull/files/ardoise-pull", os.X_OK)
    assert subprocess.run(["git", "-C", str(depot), "symbolic-ref", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip() == "main"  # fmt: skip

    r = publier_cli(d, inventaire, depot, "--ecole", UAI)
    assert r.returncode == 0 and json.loads(r.stdout)[0]["commit"] is None
    assert "déjà à jour" in r.stderr
    assert commits(depot) == [premier["commit"]]

    # a manifest change: exactly one commit, touching only the PCs' inventories; manifest text that looks
    # like a template is published « !unsafe » (Ansible never evaluates it, as with the inventory plugin)
    t = inventaire / "territoire.yml"
    t.write_text(t.read_text().replace("journald_max: 200M", "journald_max: 150M").replace(
        'banniere: "Equipement', 'banniere: "{{ lookup(\'pipe\', \'id\') }} Equipement'))  # fmt: skip
    r = publier_cli(d, inventaire, depot, "--ecole", UAI)
    second = json.loads(r.stdout)[0]
    assert commits(depot) == [second["commit"], premier["commit"]]
    modifies = subprocess.run(["git", "-C", str(depot), "diff", "--name-only", "HEAD~1"], capture_output=True,
                              text=True).stdout.split()  # fmt: skip
    assert len(modifies) == 12 and all(m.startswith("inventaires/") for m in modifies)
    texte = (depot / "inventaires" / "pc-jean-jaures-03.yml").read_text()
    assert "journald_max: 150M" in texte and "banniere: !unsafe" in texte


def test_memes_variables_que_le_greffon_secrets_chiffres(publie):
    """A published PC inventory gives Ansible the plugin's variables; vault values stay encrypted."""
    depot, inventaire = publie["depot"], publie["inventaire"]
    texte = (depot / "inventaires" / "pc-jean-jaures-03.yml").read_text()
    t = charger(inventaire)
    noms = list(textes_chiffres(t.fichier_coffre))
    for secret in reveler(t.fichier_coffre, noms).values():
        assert secret.reveler() not in texte
    assert "admin_postes_mdp: !vault |" in texte
    assert "wifi_0332201n" not in texte  # another school's secrets are not handed to this PC

    env = {**_env(publie["dossier"]), "ANSIBLE_VAULT_PASSWORD_FILE": str(MDP),
           "ANSIBLE_CONFIG": str(RACINE / "ansible.cfg")}  # fmt: skip
    plugin = publie["dossier"] / "ardoise.yml"
    plugin.write_text(f"plugin: ardoise\ninventaire: {inventaire}\n")

    def variables(source: Path) -> dict:
        r = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--host", "pc-jean-jaures-03"],
                           env=env, capture_output=True, text=True, cwd=RACINE)  # fmt: skip
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    publiees, greffon = variables(depot / "inventaires" / "pc-jean-jaures-03.yml"), variables(plugin)
    for cle in ("ansible_host", "ansible_connection", "ansible_python_interpreter", "ardoise_coffre"):
        publiees.pop(cle, None), greffon.pop(cle, None)
    assert publiees == greffon
    # the vault reference resolves with the vault password, as on the PC
    r = subprocess.run([str(BIN / "ansible"), "pc-jean-jaures-03", "-i", "inventaires/pc-jean-jaures-03.yml",
                        "-m", "ansible.builtin.assert",
                        "-a", "that=ardoise_comptes.mot_de_passe_administrateur|length>8 quiet=true"],
                       env={**env, "ANSIBLE_CONFIG": str(depot / "ansible.cfg")}, capture_output=True, text=True,
                       cwd=depot)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def test_un_poste_retire_de_la_selection_disparait_du_depot(tmp_path, territoire):
    depot = tmp_path / "depot"
    tout = publier(territoire, depot, RACINE)
    assert len(tout.postes) > 12
    ecole = publier(territoire, depot, RACINE, Selection(ecoles=(UAI,)))
    assert ecole.commit and len(commits(depot)) == 2
    assert sorted(p.stem for p in (depot / "inventaires").iterdir()) == ecole.postes
    assert len(ecole.postes) == 12


def test_erreurs_en_francais_rien_de_change(tmp_path, territoire):
    depot = tmp_path / "depot"
    subprocess.run(["git", "init", "-q", "-b", "production", str(depot)], check=True)
    with pytest.raises(ErreurUsage, match="branche « production ».*politique.depot_pull.branche"):
        publier(territoire, depot, RACINE)
    assert list(depot.iterdir()) == [depot / ".git"]

    autre = tmp_path / "pas-un-depot"
    autre.mkdir()
    (autre / "notes.txt").write_text("x")
    with pytest.raises(ErreurUsage, match="n'est pas un dépôt git"):
        publier(territoire, autre, RACINE)
    assert [p.name for p in autre.iterdir()] == ["notes.txt"]

    with pytest.raises(ErreurUsage, match="aucun PC Linux"):
        publier(territoire, tmp_path / "d", RACINE, Selection(noms=("sw-jean-jaures-1",)))
    assert not (tmp_path / "d").exists()


def test_sans_depot_pull_la_commande_le_dit(tmp_path):
    inventaire = copier_inventaire(tmp_path)
    texte = (inventaire / "territoire.yml").read_text()
    debut, fin = texte.index("  # dépôt publié par"), texte.index("  dpc:")
    (inventaire / "territoire.yml").write_text(texte[:debut] + texte[fin:])
    r = publier_cli(tmp_path, inventaire, tmp_path / "neuf")
    assert r.returncode != 0 and "politique.depot_pull" in r.stderr and "territoire.yml" in r.stderr
    assert not (tmp_path / "neuf").exists()


def test_delai_aleatoire_valide(tmp_path):
    inventaire = copier_inventaire(tmp_path)
    t = inventaire / "territoire.yml"
    t.write_text(t.read_text().replace("delai_aleatoire_min: 30", "delai_aleatoire_min: 500"))
    with pytest.raises(ErreurManifeste) as e:
        charger(inventaire)
    textes = "\n".join(p.texte() for p in e.value.problemes)
    assert "territoire.yml" in textes and "delai_aleatoire_min" in textes


def test_roles_rejoues_valides_et_publies(tmp_path):
    """``depot_pull.roles`` names workshop roles (atelier.yml tags); a typo is refused with the file, line and fix."""
    inventaire = copier_inventaire(tmp_path)
    t = inventaire / "territoire.yml"
    texte = t.read_text()
    t.write_text(
        texte.replace(
            "delai_aleatoire_min: 30\n", "delai_aleatoire_min: 30\n    roles: [socle, navigatuer]\n"
        )
    )
    with pytest.raises(ErreurManifeste) as e:
        charger(inventaire)
    textes = "\n".join(p.texte() for p in e.value.problemes)
    assert "territoire.yml:" in textes and "navigatuer" in textes and "« navigateur »" in textes

    t.write_text(
        texte.replace(
            "delai_aleatoire_min: 30\n", "delai_aleatoire_min: 30\n    roles: [socle, navigateur]\n"
        )
    )
    r = publier_cli(tmp_path, inventaire, tmp_path / "depot", "--ecole", UAI)
    assert r.returncode == 0, r.stderr
    poste = sorted((tmp_path / "depot" / "inventaires").glob("*.yml"))[0].read_text()
    assert re.search(r"ardoise_depot_pull:\n(\s+\w+: .*\n)+\s+roles:\n\s+- socle\n\s+- navigateur\n", poste)
    tags = (tmp_path / "depot" / "playbooks" / "atelier.yml").read_text()
    assert all(
        f"tags: [{r}]" in tags
        for r in ("socle", "proxy_client", "antivirus", "applications", "navigateur", "comptes")
    )
