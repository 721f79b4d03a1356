"""The PC side of ansible-pull without a PC: ``ardoise-pull`` and its callback, run here against a local repository.

The role's wrapper (``roles/ardoise_pull/files/ardoise-pull``) runs the real ``ansible-pull`` (this venv's
ansible-core; the PCs use Debian's 2.14) with a trivial playbook on localhost that only writes under the test's
temporary folder, and must record success, changed count, failed tasks and a repository failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RACINE = Path(__file__).resolve().parents[3]
BIN = RACINE / ".venv" / "bin"
ENVELOPPE = RACINE / "roles" / "ardoise_pull" / "files" / "ardoise-pull"

PLAYBOOK = """\
- name: Essai
  hosts: all
  gather_facts: false
  tasks:
    - name: Écrire la valeur
      ansible.builtin.copy:
        content: "{{ valeur }}\\n"
        dest: "{{ cible }}"
        mode: "0644"
    - name: Échouer si demandé
      ansible.builtin.fail:
        msg: panne voulue
      when: echec | default(false) | bool
"""


def _git(depot: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(depot), "-c", "user.name=essai", "-c", "user.email=essai@example.invalid",
                    *args], check=True, capture_output=True)  # fmt: skip


def _inventaire(depot: Path, travail: Path, valeur: str, echec: bool = False) -> None:
    (depot / "inventaires" / "poste-essai.yml").write_text(json.dumps({"all": {"hosts": {"poste-essai": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "valeur": valeur, "cible": str(travail / "valeur.txt"), "echec": echec}}}}))  # fmt: skip
    _git(depot, "add", "-A")
    _git(depot, "commit", "-q", "-m", valeur)


@pytest.fixture
def poste(tmp_path):
    if not (BIN / "ansible-pull").exists():
        pytest.skip("ansible-pull absent de .venv")
    depot, travail = tmp_path / "depot", tmp_path / "travail"
    (depot / "playbooks").mkdir(parents=True)
    (depot / "inventaires").mkdir()
    travail.mkdir()
    (depot / "playbooks" / "pull.yml").write_text(PLAYBOOK)
    _git(depot, "init", "-q", "-b", "main")
    _inventaire(depot, travail, "un")
    (tmp_path / "coffre.mdp").write_text("mot-de-passe-essai\n")
    config = {"depot": str(depot), "branche": "main", "poste": "poste-essai",
              "inventaire": "inventaires/poste-essai.yml", "playbook": "playbooks/pull.yml",
              "dossier": str(travail), "coffre": str(tmp_path / "coffre.mdp"),
              "rappels": str(ENVELOPPE.parent)}  # fmt: skip
    (tmp_path / "pull.json").write_text(json.dumps(config))

    def executer() -> tuple[int, dict]:
        env = {**os.environ, "ARDOISE_PULL_CONFIG": str(tmp_path / "pull.json"), "HOME": str(tmp_path),
               "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}  # fmt: skip
        r = subprocess.run(
            [sys.executable, str(ENVELOPPE)], env=env, capture_output=True, text=True, timeout=600
        )
        return r.returncode, json.loads((travail / "resultat.json").read_text())

    return {"depot": depot, "travail": travail, "config": tmp_path / "pull.json", "executer": executer}


def test_reussite_puis_aucun_changement_puis_echec_puis_depot_injoignable(poste):
    depot, travail = poste["depot"], poste["travail"]
    code, r = poste["executer"]()
    assert code == 0 and r["succes"] and r["changements"] == 1 and r["echecs"] == []
    assert (travail / "valeur.txt").read_text() == "un\n"
    tete = subprocess.run(
        ["git", "-C", str(depot), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    assert r["revision"] == tete.strip() and r["duree_s"] > 0 and r["etape"] == "playbook"

    code, r = poste["executer"]()  # nothing changed in the repository: nothing changes on the PC
    assert code == 0 and r["succes"] and r["changements"] == 0

    _inventaire(depot, travail, "deux", echec=True)  # a new commit reaches the PC; its run fails
    code, r = poste["executer"]()
    assert code == 1 and not r["succes"] and r["changements"] == 1
    assert (travail / "valeur.txt").read_text() == "deux\n"
    assert r["echecs"] == [{"tache": "Échouer si demandé", "role": None, "message": "panne voulue"}]
    assert oct((travail / "dernier.log").stat().st_mode & 0o777) == "0o600"

    config = json.loads(poste["config"].read_text())
    config["depot"] = "git://jeton:secret@127.0.0.1:9/absent"  # nothing listens on the discard port
    poste["config"].write_text(json.dumps(config))
    code, r = poste["executer"]()
    assert code == 1 and not r["succes"] and r["etape"] == "depot"
    assert r["echecs"][0]["tache"] == "récupération du dépôt" and "127.0.0.1" in r["echecs"][0]["message"]
    assert "secret" not in json.dumps(r)  # credentials in a repository URL never reach the result file
