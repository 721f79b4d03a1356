"""Molecule for each workshop role against a running lab PC: syntax → converge → idempotence → verify.

The scenarios (``roles/<role>/molecule/default``) use molecule's ``default`` driver with ``managed: false``:
the lab PC is the instance, reached with the lab's key and a private known_hosts (first use recorded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ardoise.atelier.labo import agrandir_disques

pytestmark = [pytest.mark.labo, pytest.mark.timeout(900)]
RACINE = Path(__file__).resolve().parents[3]
ROLES = ["ardoise_socle", "ardoise_proxy_client", "ardoise_antivirus", "ardoise_navigateur",
         "ardoise_applications", "ardoise_comptes", "ardoise_pull"]  # fmt: skip


@pytest.fixture(scope="module")
def env_molecule(labo, acces_labo, plan_labo, tmp_path_factory):
    if shutil.which("molecule", path=str(RACINE / ".venv" / "bin")) is None:
        pytest.skip("molecule absent de .venv (make installer)")
    agrandir_disques(labo)
    poste = plan_labo.postes[-1]
    env = dict(os.environ)
    env.update({
        "PATH": f"{RACINE / '.venv' / 'bin'}:{env.get('PATH', '')}",
        "ARDOISE_MOLECULE_HOTE": str(poste.adresse),
        "ARDOISE_MOLECULE_NOM": poste.nom,
        "ARDOISE_MOLECULE_UTILISATEUR": acces_labo["technicien"],
        "ARDOISE_CLE_SSH": acces_labo["cle_ssh"],
        "ARDOISE_KNOWN_HOSTS": str(tmp_path_factory.mktemp("molecule") / "known_hosts"),
        "ARDOISE_MOLECULE_APT": acces_labo["proxy_apt"],
        "ARDOISE_MOLECULE_SIGNATURES": acces_labo["signatures_clamav"],
        "ARDOISE_MOLECULE_PROXY": acces_labo["proxy"].removeprefix("http://"),
        "MOLECULE_NO_LOG": "false",
        "ANSIBLE_CONFIG": "",  # molecule writes its own
    })  # fmt: skip
    return env


@pytest.mark.parametrize("role", ROLES)
def test_molecule(role, env_molecule):
    r = subprocess.run(["molecule", "test", "-s", "default"], cwd=RACINE / "roles" / role, env=env_molecule,
                       capture_output=True, text=True, timeout=840)  # fmt: skip
    sortie = r.stdout + r.stderr
    assert r.returncode == 0, sortie[-6000:]
    assert "idempotence" in sortie.lower()
