"""The one SSH host-key policy of every transport Ardoise uses (asyncssh, Ansible/OpenSSH, netmiko/paramiko).

- The fleet's known_hosts: ``--known-hosts``, else ``$ARDOISE_KNOWN_HOSTS``, else ``~/.ssh/known_hosts``.
- A CHANGED key is always refused; the message names the device and the ``ssh-keygen -R`` command.
- An UNKNOWN key is recorded on first use by the commands that make first contact (the workshop for PCs,
  the first switch session for switches, any command given ``--accepter-nouvelles-cles``), then required.
"""

from __future__ import annotations

import os
import shlex
import threading
from pathlib import Path

from ardoise.erreurs import ErreurAuthentification

VARIABLE_KNOWN_HOSTS = "ARDOISE_KNOWN_HOSTS"
_VERROU = threading.Lock()


class ErreurCleHote(ErreurAuthentification):
    """The device's SSH host key is changed (or unknown where unknown keys are refused)."""

    def __init__(self, message: str, changee: bool) -> None:
        super().__init__(message)
        self.changee = changee


def fichier_known_hosts(explicite: Path | str | None = None) -> Path:
    """The fleet's known_hosts file."""
    if explicite:
        return Path(explicite)
    return Path(os.environ.get(VARIABLE_KNOWN_HOSTS) or Path.home() / ".ssh" / "known_hosts")


def nom_known_hosts(adresse: str, port: int = 22) -> str:
    """How OpenSSH names the host in known_hosts: ``adresse`` on port 22, ``[adresse]:port`` otherwise."""
    return adresse if int(port) == 22 else f"[{adresse}]:{port}"


def commande_oubli(adresse: str, port: int, chemin: Path) -> str:
    """The command that removes the device's old key from the fleet's known_hosts."""
    return f"ssh-keygen -R {shlex.quote(nom_known_hosts(adresse, port))} -f {shlex.quote(str(chemin))}"


def message_cle_changee(nom: str, adresse: str, port: int, chemin: Path) -> str:
    return (
        f"la clé d'hôte SSH de {nom} ({nom_known_hosts(adresse, port)}) a CHANGÉ depuis la dernière connexion :"
        " appareil réinstallé ou remplacé, ou interception ? Connexion refusée. Si l'appareil a bien été"
        f" réinstallé ou remplacé, retirez l'ancienne clé : {commande_oubli(adresse, port, chemin)}"
        " puis relancez (la nouvelle clé sera retenue au premier usage)"
    )


def message_cle_inconnue(nom: str, adresse: str, port: int, chemin: Path) -> str:
    return (
        f"clé d'hôte SSH de {nom} ({nom_known_hosts(adresse, port)}) inconnue dans {chemin} : l'appareil n'est"
        " pas passé par l'atelier ; ajoutez sa clé (ssh-keyscan, après vérification de l'empreinte) ou"
        " relancez avec --accepter-nouvelles-cles"
    )


def retenir(chemin: Path, lignes: list[str]) -> None:
    """Append first-use keys (``nom type base64`` lines) to the fleet's known_hosts."""
    if not lignes:
        return
    with _VERROU:
        chemin.parent.mkdir(parents=True, exist_ok=True)
        with chemin.open("a", encoding="utf-8") as f:
            f.writelines(ligne if ligne.endswith("\n") else ligne + "\n" for ligne in lignes)
