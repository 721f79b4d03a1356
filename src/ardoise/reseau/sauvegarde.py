"""The backup store: running configurations in a git repository, one commit per run.

Layout: ``<commune>/<uai>/<switch>.cfg``. Files are written REDACTED (decision, see ARCHITECTURE.md): every
line holding a secret is reduced to its stable prefix + ``********`` and every clear vault value is masked, so
the repository can be copied, pushed or read by anyone allowed to see configurations. A restore still works:
secret lines are compared on their prefix only (diff.py), so a rollback or restore never touches them, and a
secret line missing from the device is re-created from the vault by ``appliquer``, never from a backup.

``$ARDOISE_RESEAU_SAUVEGARDES`` or ``var/ardoise/reseau/sauvegardes`` under the current directory.
Uses the ``git`` command line; the store is created on first use.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from ardoise.erreurs import ArdoiseErreur, ErreurUsage
from ardoise.secrets import masquer

VARIABLE_SAUVEGARDES = "ARDOISE_RESEAU_SAUVEGARDES"
_ENV_GIT = {
    "GIT_AUTHOR_NAME": "Ardoise",
    "GIT_AUTHOR_EMAIL": "ardoise@localhost",
    "GIT_COMMITTER_NAME": "Ardoise",
    "GIT_COMMITTER_EMAIL": "ardoise@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


class ErreurSauvegarde(ArdoiseErreur):
    """The backup store cannot be read or written."""


def dossier_par_defaut() -> Path:
    if os.environ.get(VARIABLE_SAUVEGARDES):
        return Path(os.environ[VARIABLE_SAUVEGARDES])
    return Path.cwd() / "var" / "ardoise" / "reseau" / "sauvegardes"


class Depot:
    """A git repository of redacted running configurations; thread-safe."""

    def __init__(self, dossier: Path | None = None) -> None:
        self.dossier = Path(dossier or dossier_par_defaut())
        self._verrou = threading.Lock()
        self._initialiser()

    def _git(self, *args: str, entree: str | None = None) -> str:
        env = {**os.environ, **_ENV_GIT, "HOME": str(self.dossier)}
        r = subprocess.run(
            ["git", "-C", str(self.dossier), *args], capture_output=True, text=True, env=env, input=entree
        )
        if r.returncode != 0:
            raise ErreurSauvegarde(
                f"dépôt de sauvegardes {self.dossier} : git {args[0]} a échoué ({masquer(r.stderr.strip())[:300]})"
            )
        return r.stdout

    def _initialiser(self) -> None:
        self.dossier.mkdir(parents=True, exist_ok=True)
        if not (self.dossier / ".git").exists():
            self._git("init", "-q", "-b", "main")
            self._git("config", "core.autocrlf", "false")
            self._git("config", "commit.gpgsign", "false")

    @staticmethod
    def chemin_relatif(commune: str, uai: str, nom: str) -> str:
        return f"{commune}/{uai}/{nom}.cfg"

    def ecrire(self, relatif: str, texte: str) -> bool:
        """Write one (already redacted) configuration; True if it changed. Not committed yet."""
        chemin = self.dossier / relatif
        texte = masquer(texte)  # belt and braces: no known clear secret ever reaches the disk
        with self._verrou:
            chemin.parent.mkdir(parents=True, exist_ok=True)
            ancien = chemin.read_text(encoding="utf-8") if chemin.exists() else None
            if ancien == texte:
                return False
            chemin.write_text(texte, encoding="utf-8")
            return True

    def valider(self, message: str, chemins: list[str] | None = None) -> str | None:
        """Commit pending changes (all, or only ``chemins``); the new commit id, or None if nothing changed."""
        with self._verrou:
            self._git("add", "--", *(chemins or ["."]))
            etat = self._git("status", "--porcelain", "--", *(chemins or ["."]))
            if not any(ligne[:1] in "MADR" and ligne[:1] != " " for ligne in etat.splitlines()):
                return None
            self._git("commit", "-q", "-m", message, "--", *(chemins or ["."]))
            return self._git("rev-parse", "HEAD").strip()

    def sauvegarder(self, relatif: str, texte: str, message: str) -> str:
        """Write and commit one configuration now; the commit holding it (new or existing)."""
        self.ecrire(relatif, texte)
        nouveau = self.valider(message, [relatif])
        return nouveau or self.derniere_version(relatif)

    def derniere_version(self, relatif: str) -> str:
        ref = self._git("log", "-n", "1", "--format=%H", "--", relatif).strip()
        if not ref:
            raise ErreurUsage(
                f"aucune sauvegarde de {relatif} : lancez « ardoise reseau sauvegarder » d'abord"
            )
        return ref

    def lire(self, relatif: str, version: str | None = None) -> str:
        version = version or self.derniere_version(relatif)
        try:
            return self._git("show", f"{version}:{relatif}")
        except ErreurSauvegarde:
            raise ErreurUsage(
                f"version « {version} » de {relatif} introuvable dans les sauvegardes"
            ) from None

    def historique(self, relatif: str) -> list[dict[str, str]]:
        sortie = self._git("log", "--format=%H%x09%cI%x09%s", "--", relatif)
        lignes = [ligne.split("\t", 2) for ligne in sortie.splitlines() if ligne]
        return [{"version": h[:12], "date": d, "message": m} for h, d, m in lignes]

    def nombre_commits(self) -> int:
        try:
            return int(self._git("rev-list", "--count", "HEAD").strip())
        except ErreurSauvegarde:
            return 0
