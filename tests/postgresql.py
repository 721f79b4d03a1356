"""A real PostgreSQL server for tests: the Debian package's binaries, a throwaway cluster, a Unix socket."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _binaire(nom: str) -> str | None:
    trouves = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{nom}"))
    return trouves[-1] if trouves else shutil.which(nom)


@contextmanager
def serveur_postgresql() -> Iterator[str]:
    """Start a private PostgreSQL cluster (socket only, no TCP) and yield a SQLAlchemy URL."""
    initdb, postgres = _binaire("initdb"), _binaire("postgres")
    if not initdb or not postgres:
        raise RuntimeError("PostgreSQL n'est pas installé (paquet Debian postgresql) : lancez « make test »")
    dossier = Path(tempfile.mkdtemp(prefix="ardoise-pg-"))
    dossier.chmod(0o755)
    donnees = dossier / "donnees"
    utilisateur = "postgres" if os.geteuid() == 0 else None
    prefixe = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] if utilisateur else []
    if utilisateur:
        shutil.chown(dossier, "postgres", "postgres")
    subprocess.run([*prefixe, initdb, "-D", str(donnees), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)  # fmt: skip
    proc = subprocess.Popen(
        [*prefixe, postgres, "-D", str(donnees), "-k", str(dossier), "-c", "listen_addresses=", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            if (dossier / ".s.PGSQL.5432").exists():
                break
            time.sleep(0.05)
        psql = _binaire("psql")
        for _ in range(100):
            r = subprocess.run([*prefixe, psql, "-h", str(dossier), "-U", "postgres", "-c", "CREATE DATABASE ardoise"],
                               capture_output=True)  # fmt: skip
            if r.returncode == 0:
                break
            time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@/ardoise?host={dossier}"
    finally:
        proc.send_signal(signal.SIGINT)  # "fast" shutdown: pooled client connections are cut
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        shutil.rmtree(dossier, ignore_errors=True)
