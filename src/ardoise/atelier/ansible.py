"""Run ``playbooks/atelier.yml`` through ansible-runner and follow each host from Ansible's events.

Per host we keep the current step (role and task), the first failure (step and reason, redacted) and the
time spent per role. The run's artefacts (events, stdout) go to the batch's folder: they carry only what
Ansible shows, and tasks with secrets are ``no_log``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ardoise import cles_hote
from ardoise.erreurs import ArdoiseErreur
from ardoise.secrets import masquer

PLAYBOOK = "playbooks/atelier.yml"
# the precheck: can we log in and become root? (ansible.builtin.ping changes nothing on the device)
MODULE_PRECONTROLE = "ansible.builtin.ping"
_CAUSES = (
    ("Connection refused", "connexion refusée : sshd arrêté ?"),
    ("timed out", "délai de connexion dépassé"),
    ("No route to host", "hôte injoignable : éteint ou débranché ?"),
    ("Broken pipe", "connexion coupée avant l'échange SSH : poste bloqué ?"),
    ("Permission denied", "authentification refusée : clé SSH non autorisée ?"),
)
_CLE_CHANGEE = re.compile(r"Host key for (\S+) has changed|REMOTE HOST IDENTIFICATION HAS CHANGED")


def racine_projet() -> Path:
    """The repository holding ``playbooks/`` and ``roles/`` (``$ARDOISE_RACINE``, else this checkout)."""
    if os.environ.get("ARDOISE_RACINE"):
        return Path(os.environ["ARDOISE_RACINE"])
    return Path(__file__).resolve().parents[3]


@dataclass
class SuiviHote:
    """Where one host stands in the playbook run."""

    nom: str
    etape: str = "en attente"
    echec: bool = False
    injoignable: bool = False
    etape_echec: str | None = None
    raison: str | None = None
    taches: int = 0
    changements: int = 0
    fini: bool = False
    durees_roles: dict[str, float] = field(default_factory=dict)
    _debut_tache: float | None = None
    _role: str | None = None

    def commencer(self, role: str | None, tache: str) -> None:
        self._clore()
        self._role, self._debut_tache = role or "playbook", time.monotonic()
        self.etape = f"{role} : {tache}" if role else tache

    def _clore(self) -> None:
        if self._debut_tache is not None and self._role:
            d = time.monotonic() - self._debut_tache
            self.durees_roles[self._role] = self.durees_roles.get(self._role, 0.0) + d
        self._debut_tache = None


@dataclass
class BilanAnsible:
    hotes: dict[str, SuiviHote]
    code: int
    statut: str
    dossier: Path
    duree_s: float


def _raison(res: dict) -> str:
    if res.get("censored"):
        return "échec d'une tâche protégée (no_log) : détails masqués"
    if isinstance(res.get("timedout"), dict):
        duree = res["timedout"].get("period")
        return (
            f"tâche arrêtée après {duree} s sans réponse (délai de la tâche dépassé) : vérifiez le relais APT "
            "et le réseau du poste, puis relancez avec --reprendre"
        )
    msg = str(res.get("msg") or "").strip()
    if msg == "Timeout exceeded" or msg.startswith("async task did not complete within the requested time"):
        # an async task (apt index update) the PC itself kills after its delay, on each attempt
        apres = f"après {msg.rsplit('- ', 1)[-1].rstrip('s')} s " if msg.startswith("async") else ""
        return (
            f"tâche arrêtée sur le poste {apres}sans réponse, à chaque essai : vérifiez le relais APT "
            "et le réseau du poste, puis relancez avec --reprendre"
        )
    morceaux = [msg if len(msg) <= 300 else msg[:300] + "…"]
    for cle in ("stderr", "module_stderr", "stdout"):
        texte = str(res.get(cle) or "").strip()
        if texte:
            lignes = texte.splitlines()
            erreur = next(
                (ligne for ligne in lignes if ligne.startswith(("E:", "ERROR", "fatal"))), lignes[-1]
            )
            morceaux.append(erreur[:300])
            break
    return masquer(" — ".join(m for m in morceaux if m).strip() or "échec sans message")


class Suivi:
    """ansible-runner event handler: per-host state, thread-safe, with a callback on each change."""

    def __init__(
        self,
        hotes: list[str],
        changement: Callable[[SuiviHote], None] | None = None,
        known_hosts: Path | None = None,
        adresses: dict[str, tuple[str, int]] | None = None,
    ) -> None:
        self.hotes = {h: SuiviHote(h) for h in hotes}
        self.adresses = adresses or {}
        self.changement = changement
        self.known_hosts = cles_hote.fichier_known_hosts(known_hosts)
        self.fin = "playbook terminé"
        self._verrou = threading.Lock()

    def __call__(self, evenement: dict) -> bool:
        donnees = evenement.get("event_data") or {}
        nom = donnees.get("host") or donnees.get("remote_addr")
        genre = evenement.get("event", "")
        if genre == "playbook_on_stats":
            with self._verrou:
                for x in self.hotes.values():
                    x._clore()
                    x.fini = True
                    if not x.echec:
                        x.etape = self.fin
                        if self.changement:
                            self.changement(x)
            return True
        if nom not in self.hotes:
            return True
        with self._verrou:
            h = self.hotes[nom]
            if genre == "runner_on_start":
                h.commencer(donnees.get("role"), str(donnees.get("task") or "").strip())
            elif genre in ("runner_on_ok", "runner_on_skipped"):
                h._clore()
                h.taches += 1
                h.changements += bool((donnees.get("res") or {}).get("changed"))
            elif genre == "runner_on_failed" and not donnees.get("ignore_errors"):
                h._clore()
                h.echec = True
                h.etape_echec = h.etape_echec or h.etape
                h.raison = h.raison or _raison(donnees.get("res") or {})
                h.etape = f"ÉCHEC — {h.etape}"
            elif genre == "runner_on_unreachable":
                h.echec = h.injoignable = True
                h.etape_echec = h.etape_echec or h.etape
                h.raison = h.raison or self._injoignable(nom, donnees)
                h.etape = f"INJOIGNABLE — {h.etape}"
            else:
                return True
        if self.changement:
            self.changement(h)
        return True

    def _injoignable(self, nom: str, donnees: dict) -> str:
        msg = str((donnees.get("res") or {}).get("msg") or "")
        m = _CLE_CHANGEE.search(msg)
        if m:  # OpenSSH refused a changed key (StrictHostKeyChecking=accept-new)
            if nom in self.adresses:
                adresse, port = self.adresses[nom]
            else:
                cle = m.group(1) or str(donnees.get("remote_addr") or nom)
                adresse, port = cle[1:].split("]:", 1) if cle.startswith("[") else (cle, 22)
            return cles_hote.message_cle_changee(nom, adresse, int(port), self.known_hosts)
        cause = next((f for motif, f in _CAUSES if motif in msg), None)
        return masquer(
            "poste injoignable en SSH" + (f" ({cause})" if cause else "") + " : " + msg.strip()[:300]
        )


def executer(
    hotes: list[str],
    inventaire: Path,
    dossier: Path,
    parallele: int,
    variables: dict | None = None,
    cle: Path | None = None,
    utilisateur: str | None = None,
    known_hosts: Path | None = None,
    changement: Callable[[SuiviHote], None] | None = None,
    precontrole: bool = False,
    dossier_controle: Path | None = None,
    adresses: dict[str, str] | None = None,
) -> BilanAnsible:
    """Run the workshop playbook on ``hotes`` (``--limit``); never raises for a host's failure.

    ``precontrole``: instead of the playbook, only log in and become root on each host (``ansible.builtin.ping``,
    which changes nothing). ``adresses``: each host's address, to name it in a refused-key message.
    ``dossier_controle``: where OpenSSH keeps its master connections for this run
    (a master from an earlier run would skip the host-key check); default: a fresh one removed at the end.
    """
    if not hotes:
        # an empty --limit or host pattern means EVERY host of the inventory, never what a caller wants
        raise ValueError("aucun poste à traiter : Ansible n'est pas lancé sur une liste vide")
    try:
        import ansible_runner
    except ImportError as e:
        raise ArdoiseErreur(f"ansible-runner absent de l'environnement d'Ardoise ({e})") from None
    from ardoise.inventaire.coffre import fichier_mot_de_passe

    racine = racine_projet()
    dossier.mkdir(parents=True, exist_ok=True)
    # ansible-runner's default inventory: <private_data_dir>/inventory/, here the Ardoise plugin's config
    (dossier / "inventory").mkdir(exist_ok=True)
    (dossier / "inventory" / "ardoise.yml").write_text(
        f"plugin: ardoise\ninventaire: {inventaire.resolve()}\n"
    )
    propre = dossier_controle is None
    controle = dossier_controle or Path(tempfile.mkdtemp(prefix="ard-ssh-"))
    kh = cles_hote.fichier_known_hosts(known_hosts)
    ssh_args = [
        "-o ControlMaster=auto",
        "-o ControlPersist=60s",
        "-o ServerAliveInterval=15",
        "-o ServerAliveCountMax=4",
        # first contact recorded during the workshop (accept-new); a CHANGED key is always refused
        f"-o UserKnownHostsFile={kh}",
        "-o StrictHostKeyChecking=accept-new",
        "-o HashKnownHosts=no",  # the same readable file as asyncssh and netmiko write (names are in the manifest)
    ]
    env = {
        "ANSIBLE_CONFIG": str(racine / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(racine / "roles"),
        "ANSIBLE_INVENTORY_PLUGINS": str(racine / "plugins" / "inventory"),
        "ANSIBLE_SSH_ARGS": " ".join(ssh_args),
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(controle),
        "ANSIBLE_TIMEOUT": "20",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ARDOISE_CACHE": os.environ.get("ARDOISE_CACHE", ""),
        # Ardoise's own ansible-playbook/ansible first: `.venv/bin/ardoise` works without an activated venv
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
    }
    env = {k: v for k, v in env.items() if v}
    mdp = fichier_mot_de_passe(racine)
    if mdp is not None:
        env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(mdp)
    options = []
    if cle is not None:
        options += ["--private-key", str(cle)]
    if utilisateur:
        options += ["-u", utilisateur]
    port = int((variables or {}).get("ansible_port", 22))
    suivi = Suivi(hotes, changement, kh, {n: (a, port) for n, a in (adresses or {}).items()})
    if precontrole:
        suivi.fin = "précontrôle réussi"
        options.append("--become")
        quoi = {"module": MODULE_PRECONTROLE, "host_pattern": ",".join(hotes)}
    else:
        quoi = {"playbook": str(racine / PLAYBOOK), "limit": ",".join(hotes)}
    debut = time.monotonic()
    try:
        r = ansible_runner.run(
            private_data_dir=str(dossier),
            project_dir=str(racine),
            **quoi,
            forks=max(1, parallele),
            extravars=variables or {},
            envvars=env,
            cmdline=" ".join(options) or None,
            event_handler=suivi,
            quiet=True,
            rotate_artifacts=5,
            suppress_env_files=True,
        )
    finally:
        if propre:
            fermer_maitres(controle)
    cause = _erreur_globale(r) if r.status != "successful" else ""
    for h in suivi.hotes.values():
        if not h.fini and not h.echec and r.status != "successful":
            h.echec = True
            h.etape_echec = h.etape
            h.raison = h.raison or (
                f"Ansible s'est arrêté ({r.status}, code {r.rc}) avant la fin pour ce poste"
                + (f" : {cause}" if cause else "")
            )
    if precontrole:  # ad-hoc runs send no playbook_on_stats: a host that answered is done
        for h in suivi.hotes.values():
            h.fini = True
    return BilanAnsible(suivi.hotes, int(r.rc or 0), str(r.status), dossier, time.monotonic() - debut)


def _erreur_globale(r) -> str:
    """The first ``[ERROR]`` line of a run that stopped before any host (vault password missing, syntax…)."""
    try:
        texte = r.stdout.read()
    except (AttributeError, OSError, ValueError):
        return ""
    ligne = next((x for x in texte.splitlines() if x.startswith(("[ERROR]", "ERROR!"))), "")
    return masquer(ligne.split(":", 1)[-1].strip())[:300]


def fermer_maitres(dossier: Path) -> None:
    """Stop this run's OpenSSH master connections and remove their folder."""
    import subprocess

    for prise in dossier.glob("*"):
        subprocess.run(["ssh", "-o", f"ControlPath={prise}", "-O", "exit", "ardoise"], capture_output=True,
                       timeout=10, check=False)  # fmt: skip
    shutil.rmtree(dossier, ignore_errors=True)
