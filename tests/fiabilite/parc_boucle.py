"""A fleet of real SSH hosts on loopback for the fleet-run tests: a generated school whose PCs are sshd.

The copied example territory gets one more school (commune ``bellerive``) whose VLAN is a loopback /24:
PC ``i`` (1-based) is ``pc-boucle-NN`` at ``<prefixe>.i``, port 22, so every transport (asyncssh, Ansible,
the CLI) reaches it by the manifest alone. The hosts ARE this machine (root): tests run on them only what
changes nothing (maintenance checks, the workshop's precheck, a harmless stand-in playbook).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

from ardoise.inventaire.types import cle_uai
from tests.aide_parc import RACINE, copier_exemple

ARDOISE = str(Path(sys.executable).parent / "ardoise")
SEPT = "0339971"
UAI = SEPT + cle_uai(SEPT)


def nom_poste(i: int) -> str:
    return f"pc-boucle-{i:02d}"


def generer_ecole(dest: Path, prefixe: str, n: int, etat: str = "en_service") -> Path:
    """Copy the example territory under ``dest`` and add the loopback school; returns the inventory path."""
    inventaire = copier_exemple(dest)
    postes = [
        {"nom": nom_poste(i), "type": "pc", "modele": "Lenovo ThinkCentre M70q", "os": "debian",
         "profil": "pc-eleve", "numero_serie": f"BCL{i:05d}", "mac": f"02:bc:00:00:00:{i:02x}",
         "etat": etat, "vlan": 10, "adresse": f"{prefixe}.{i}"}
        for i in range(1, n + 1)
    ]  # fmt: skip
    ecole = {
        "uai": UAI, "nom": "École de boucle", "type": "elementaire",
        "adresse": {"rue": "1 rue du Test", "code_postal": "33412", "ville": "Bellerive-sur-Garonne"},
        "vlans": [{"id": 10, "nom": "PEDAGOGIQUE", "role": "pedagogique", "reseau": f"{prefixe}.0/24",
                   "passerelle": f"{prefixe}.254"}],
        # the loopback sshd let only root in (with the test key): the school's technician account is root
        "politique": {"technicien": {"compte": "root"}},
        "postes": postes,
    }  # fmt: skip
    (inventaire / "communes" / "bellerive" / "ecoles" / f"{UAI.lower()}-boucle.yml").write_text(
        yaml.safe_dump(ecole, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return inventaire


def racine_sans_danger(dest: Path) -> Path:
    """A project root whose ``playbooks/atelier.yml`` is a harmless STAND-IN (ping + debug): the loopback
    hosts are this machine, the real workshop roles must never run on them. ``$ARDOISE_RACINE`` points here.
    """
    racine = dest / "racine-sans-danger"
    (racine / "playbooks").mkdir(parents=True)
    shutil.copy(RACINE / "ansible.cfg", racine / "ansible.cfg")
    (racine / "plugins").symlink_to(RACINE / "plugins")
    (racine / "inventaire").symlink_to(RACINE / "inventaire")
    (racine / "roles").mkdir()
    (racine / "playbooks" / "atelier.yml").write_text(
        "---\n# STAND-IN of the workshop playbook for loopback hosts (this machine): changes nothing.\n"
        "- name: Atelier (substitut sans effet)\n  hosts: os_debian:os_primtux:&type_pc\n  gather_facts: false\n"
        "  tasks:\n    - name: Joindre le poste\n      ansible.builtin.ping:\n"
        "    - name: Rien à changer\n      ansible.builtin.debug:\n        msg: substitut\n",
        encoding="utf-8",
    )
    return racine


def environnement(dossier: Path, inventaire: Path, known_hosts: Path, cle: Path, **autres: str) -> dict:
    env = dict(os.environ)
    env.update({
        "ARDOISE_BASE": f"sqlite:///{dossier / 'resultats.sqlite'}",
        "ARDOISE_INVENTAIRE": str(inventaire),
        "ARDOISE_KNOWN_HOSTS": str(known_hosts),
        "ARDOISE_CLE_SSH": str(cle),
        "ARDOISE_COFFRE_MDP": str(RACINE / "inventaire" / "coffre-demo.mdp"),
        "ARDOISE_CACHE": str(dossier / "cache"),
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        **autres,
    })  # fmt: skip
    return env
