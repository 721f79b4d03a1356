"""A blocked apt index update on a real lab PC: the PC kills it after the role's delay and the task tries again.

Seen in CI: after the lab's relay (apt-cacher-ng) dropped a connection, apt's http method stayed blocked with the
socket half-closed, for good, holding ``/var/lib/apt/lists/lock`` (the controller-side ``timeout`` gave up but the
PC's process stayed). Stand-in for that relay: a listener on the PC that accepts and never answers, with apt's
own timeout raised to an hour (so apt alone never gives up, as in the incident). The role's real task file
(``ardoise_socle/tasks/index_apt.yml``) runs through ansible-runner with the workshop's event handler.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from ardoise.atelier.ansible import Suivi
from tests.labo_commun import ssh_poste

pytestmark = [pytest.mark.labo, pytest.mark.timeout(600)]
RACINE = Path(__file__).resolve().parents[3]
CONF = "/etc/apt/apt.conf.d/99ardoise-test-relais-fige"
PORT = 3999
RELAIS_FIGE = f"""
import os, socket, sys
once = sys.argv[1] == "1"
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", {PORT}))
s.listen(16)
gardees = []
while True:
    c, _ = s.accept()
    gardees.append(c)  # never answered, never closed
    if once and os.path.exists("{CONF}"):
        os.unlink("{CONF}")  # the next attempt goes through the lab's real relay
"""


_ssh = ssh_poste


@pytest.fixture
def poste(labo, plan_labo):
    """The last lab PC, with a frozen relay ready to start; put back as found (relay stopped, config gone)."""
    p = plan_labo.postes[-1]
    adresse = str(p.adresse)
    r = _ssh(labo, adresse, "sudo tee /run/ardoise-relais-fige.py >/dev/null", entree=RELAIS_FIGE)
    assert r.returncode == 0, r.stderr
    yield p.nom, adresse
    _ssh(labo, adresse, f"sudo systemctl stop ardoise-relais-fige 2>/dev/null; sudo rm -f {CONF} "
                        "/run/ardoise-relais-fige.py; true")  # fmt: skip


def _figer(labo, adresse: str, une_fois: bool) -> None:
    """Start the frozen relay and point apt at it; make the index look older than the role's cache_valid_time."""
    r = _ssh(labo, adresse, (
        "sudo systemctl stop ardoise-relais-fige 2>/dev/null; "
        f"sudo systemd-run --quiet --collect --unit=ardoise-relais-fige python3 /run/ardoise-relais-fige.py "
        f"{int(une_fois)} && "
        f"printf 'Acquire::http::Proxy \"http://127.0.0.1:{PORT}\";\\nAcquire::http::Timeout \"3600\";\\n' "
        f"| sudo tee {CONF} >/dev/null && "
        "sudo mkdir -p /var/lib/apt/periodic && sudo touch -d '-2 hours' /var/lib/apt/periodic/update-success-stamp && "
        f"for i in $(seq 50); do ss -ltn | grep -q ':{PORT} ' && exit 0; sleep 0.1; done; exit 1"
    ))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr


def _jouer(labo, tmp_path: Path, nom: str, adresse: str, delai: int, essais: int):
    """Run the role's index task file on one PC, with the workshop's event handler; return (runner, suivi)."""
    import ansible_runner

    (tmp_path / "project").mkdir(exist_ok=True)
    (tmp_path / "project" / "index.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  become: true\n  tasks:\n"
        "    - name: Index des paquets du rôle ardoise_socle\n"
        "      ansible.builtin.include_role:\n        name: ardoise_socle\n        tasks_from: index_apt\n"
    )
    (tmp_path / "inventory").mkdir(exist_ok=True)
    (tmp_path / "inventory" / "hosts").write_text(
        f"{nom} ansible_host={adresse} ansible_user=technicien ansible_ssh_private_key_file={labo.cle_ssh} "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' "
        f"ardoise_socle_delai_index_apt={delai} ardoise_socle_essais_index_apt={essais}\n"
    )
    suivi = Suivi([nom])
    evenements: list[dict] = []

    def garder(e: dict) -> bool:
        evenements.append(e)
        return suivi(e)

    r = ansible_runner.run(
        private_data_dir=str(tmp_path), playbook="index.yml", event_handler=garder, quiet=True,
        envvars={"ANSIBLE_ROLES_PATH": str(RACINE / "roles"), "ANSIBLE_PIPELINING": "True",
                 "ANSIBLE_NOCOLOR": "1",
                 "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])},
    )  # fmt: skip
    return r, suivi.hotes[nom], evenements


def _apt_libere(labo, adresse: str, attente: float = 30) -> str:
    """ "" when no apt http method is left on the PC and the index lock is free (the watcher kills within
    seconds); else what still runs."""
    fin = time.monotonic() + attente
    while True:
        r = _ssh(labo, adresse, "! pgrep -f '^/usr/lib/apt/methods/' >/dev/null && "
                                "sudo flock -n /var/lib/apt/lists/lock true")  # fmt: skip
        if r.returncode == 0:
            return ""
        if time.monotonic() > fin:
            return _ssh(labo, adresse, "ps -eo pid,pgid,user,etimes,cmd").stdout
        time.sleep(1)


def test_index_bloque_arrete_sur_le_poste_puis_echec_clair(labo, poste, tmp_path):
    nom, adresse = poste
    _figer(labo, adresse, une_fois=False)
    r, hote, evenements = _jouer(labo, tmp_path, nom, adresse, delai=6, essais=1)
    assert (
        r.rc != 0 and hote.echec and hote.etape_echec == "ardoise_socle : Mettre à jour l'index des paquets"
    ), hote
    assert hote.raison.startswith("tâche arrêtée sur le poste après 6 s"), hote.raison
    assert "--reprendre" in hote.raison, hote.raison
    assert sum(e.get("event") == "runner_retry" for e in evenements) == 1  # killed, tried again, killed
    # the incident's damage is gone: nothing of apt left running, the lock is free for the next run
    reste = _apt_libere(labo, adresse)
    assert not reste, f"apt encore bloqué sur le poste après l'arrêt de la tâche :\n{reste}"


def test_index_bloque_une_fois_reussit_au_second_essai(labo, poste, tmp_path):
    nom, adresse = poste
    _figer(labo, adresse, une_fois=True)
    r, hote, evenements = _jouer(labo, tmp_path, nom, adresse, delai=6, essais=2)
    assert r.rc == 0 and not hote.echec and hote.fini, hote
    ok = [
        e["event_data"]["res"]
        for e in evenements
        if e.get("event") == "runner_on_ok"
        and e["event_data"].get("task") == "Mettre à jour l'index des paquets"
    ]
    assert ok and ok[0].get("attempts") == 2, (
        ok
    )  # first attempt killed on the PC, second through the real relay
    assert ok[0].get("cache_updated") is True, ok
    reste = _apt_libere(labo, adresse)
    assert not reste, reste
