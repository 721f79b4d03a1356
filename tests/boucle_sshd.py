"""Cheap SSH hosts for tests and benchmarks: one real sshd per loopback address (127.x.y.N:2222).

Each "host" is this machine seen through its own sshd process with its own host key; we log in as
root with a throwaway key. Used by the maintenance tests and ``benchmarks/maintenance``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PORT = 2222


@dataclass
class Boucle:
    dossier: Path
    adresses: list[str]
    cle: Path  # client private key
    known_hosts: Path
    processus: dict[str, subprocess.Popen] = field(default_factory=dict)
    port: int = PORT
    options: dict[str, str] = field(default_factory=dict)  # extra sshd_config lines per address

    def arreter(self, adresse: str) -> None:
        p = self.processus.pop(adresse)
        p.terminate()
        p.wait(timeout=10)

    def demarrer(self, adresse: str) -> None:
        self.processus[adresse] = _sshd(self.dossier, adresse, self.port, self.options.get(adresse, ""))
        _attendre([adresse], port=self.port)

    def changer_cle(self, adresse: str) -> None:
        """Restart the host's sshd with a NEW host key (a reinstalled PC, or an impostor)."""
        self.arreter(adresse)
        for f in (self.dossier / f"hote-{adresse}", self.dossier / f"hote-{adresse}.pub"):
            f.unlink()
        _cle(self.dossier / f"hote-{adresse}")
        self.demarrer(adresse)


def _cle(chemin: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(chemin)], check=True)


def _sshd(dossier: Path, adresse: str, port: int = PORT, options: str = "") -> subprocess.Popen:
    conf = dossier / f"sshd-{adresse}.conf"
    conf.write_text(
        f"{options}\nListenAddress {adresse}:{port}\nHostKey {dossier}/hote-{adresse}\n"
        f"AuthorizedKeysFile {dossier}/authorized_keys\nPidFile {dossier}/sshd-{adresse}.pid\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nMaxStartups 500\nMaxSessions 100\n"
        "LogLevel ERROR\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
    )
    return subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _attendre(adresses: list[str], delai: float = 30, port: int = PORT) -> None:
    fin = time.monotonic() + delai
    for a in adresses:
        while True:
            try:
                socket.create_connection((a, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > fin:
                    raise RuntimeError(f"sshd de boucle {a} ne démarre pas") from None
                time.sleep(0.05)


def manque_prerequis() -> str | None:
    if os.geteuid() != 0:
        return "les sshd de boucle demandent root"
    if not Path("/usr/sbin/sshd").exists():
        return "openssh-server absent"
    return None


@contextmanager
def boucle_sshd(
    n: int, prefixe: str = "127.0.91", port: int = PORT, options: dict[str, str] | None = None
) -> Iterator[Boucle]:
    """Start ``n`` sshd on ``prefixe.1`` … ``prefixe.n`` (port 2222 unless ``port``); known_hosts lists them
    all. ``options``: extra sshd_config lines per address (e.g. a ``ForceCommand`` that slows one host)."""
    dossier = Path(tempfile.mkdtemp(prefix="ardoise-boucle-"))
    Path("/run/sshd").mkdir(exist_ok=True)
    adresses = [f"{prefixe}.{i}" for i in range(1, n + 1)]
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(dossier / "client")], check=True)
    (dossier / "authorized_keys").write_text((dossier / "client.pub").read_text())
    lignes = []
    for a in adresses:
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(dossier / f"hote-{a}")], check=True
        )
        cle = (dossier / f"hote-{a}.pub").read_text().split()
        lignes.append(f"{a if port == 22 else f'[{a}]:{port}'} {cle[0]} {cle[1]}\n")
    (dossier / "known_hosts").write_text("".join(lignes))
    b = Boucle(
        dossier, adresses, dossier / "client", dossier / "known_hosts", port=port, options=dict(options or {})
    )
    try:
        for a in adresses:
            b.processus[a] = _sshd(dossier, a, port, b.options.get(a, ""))
        _attendre(adresses, port=port)
        yield b
    finally:
        for p in b.processus.values():
            p.terminate()
        for p in b.processus.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(dossier, ignore_errors=True)
