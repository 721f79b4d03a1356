"""Small system helpers for the lab: commands, processes started by PID, waits."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ardoise.labo.erreurs import LaboCommandeErreur, LaboDelaiErreur, LaboDroitsErreur

log = logging.getLogger(__name__)

# Daemons started by this process: kept referenced (no ResourceWarning) and reaped promptly.
_ENFANTS: dict[int, subprocess.Popen[bytes]] = {}


def verifier_root() -> None:
    """Raise :class:`LaboDroitsErreur` unless running as root."""
    if os.geteuid() != 0:
        raise LaboDroitsErreur(
            "le laboratoire doit être lancé en root (espaces de noms réseau, montages, systemd-nspawn)"
        )


def executer(
    args: Sequence[str | os.PathLike[str]],
    *,
    verifier: bool = True,
    entree: str | None = None,
    delai: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output; on failure raise a French :class:`LaboCommandeErreur`."""
    argv = [str(a) for a in args]
    log.debug("exec: %s", shlex.join(argv))
    try:
        res = subprocess.run(argv, input=entree, capture_output=True, text=True, timeout=delai, check=False)
    except FileNotFoundError as e:
        raise LaboCommandeErreur(
            f"commande introuvable : {argv[0]} (lancez scripts/installer-labo.sh)"
        ) from e
    except subprocess.TimeoutExpired as e:
        raise LaboDelaiErreur(f"la commande « {shlex.join(argv)} » dépasse {delai:.0f} s") from e
    if verifier and res.returncode != 0:
        detail = (res.stderr or res.stdout).strip().splitlines()
        raise LaboCommandeErreur(
            f"échec de « {shlex.join(argv)} » (code {res.returncode}) : {' / '.join(detail[-3:])}"
        )
    return res


def dans_ns(ns: str, *args: str | os.PathLike[str]) -> list[str]:
    """Argument vector running ``args`` inside network namespace ``ns``."""
    return ["ip", "netns", "exec", ns, *[str(a) for a in args]]


def debut_processus(pid: int) -> int | None:
    """Start time (clock ticks since boot) of a live, non-zombie process, else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    champs = stat[stat.rindex(")") + 2 :].split()
    if champs[0] in ("Z", "X"):
        return None
    return int(champs[19])


def nom_processus(pid: int) -> str:
    """Short command name of ``pid`` (empty if gone)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def vivant(pid: int | None, debut: int | None = None) -> bool:
    """True if ``pid`` runs (and, when ``debut`` is given, is still the same process)."""
    if not pid:
        return False
    enfant = _ENFANTS.get(pid)
    if enfant is not None and enfant.poll() is not None:
        del _ENFANTS[pid]
        return False
    d = debut_processus(pid)
    return d is not None and (debut is None or d == debut)


def attendre(condition: Callable[[], bool], delai: float, quoi: str, pas: float = 0.1) -> None:
    """Poll ``condition`` until true; raise :class:`LaboDelaiErreur` mentioning ``quoi`` after ``delai``."""
    fin = time.monotonic() + delai
    while True:
        if condition():
            return
        if time.monotonic() > fin:
            raise LaboDelaiErreur(f"délai dépassé ({delai:.0f} s) : {quoi}")
        time.sleep(pas)


def arreter_pids(pids: Sequence[tuple[int, int | None]], delai: float = 10) -> None:
    """SIGTERM every (pid, start time), wait for them, SIGKILL the survivors and wait again."""
    vivants = [(p, d) for p, d in pids if vivant(p, d)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p, _ in vivants:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        fin = time.monotonic() + (delai if sig == signal.SIGTERM else 5)
        while vivants and time.monotonic() < fin:
            vivants = [(p, d) for p, d in vivants if vivant(p, d)]
            if vivants:
                time.sleep(0.05)
        if not vivants:
            return
        niveau = logging.DEBUG if delai < 2 else logging.WARNING  # short grace: SIGKILL is expected
        log.log(
            niveau,
            "processus encore vivants après %s : %s",
            sig.name,
            [f"{p} ({nom_processus(p)})" for p, _ in vivants],
        )


def lancer_demon(
    argv: Sequence[str | os.PathLike[str]],
    journal: Path,
    *,
    preexec: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, int | None]:
    """Start a long-running process detached from us (own session, output to ``journal``).

    Returns (pid, start time) so it can later be stopped by PID even from another process.
    """
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "ab") as sortie:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=sortie,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,
            env=env,
            close_fds=True,
        )
    _ENFANTS[proc.pid] = proc
    return proc.pid, debut_processus(proc.pid)


def port_ecoute(pid: int, port: int, udp: bool = False) -> bool:
    """True if the network namespace of ``pid`` has a socket listening on ``port`` (any address)."""
    fichiers = ("udp", "udp6") if udp else ("tcp", "tcp6")
    for nom in fichiers:
        try:
            lignes = Path(f"/proc/{pid}/net/{nom}").read_text().splitlines()[1:]
        except (FileNotFoundError, ProcessLookupError):
            return False
        for ligne in lignes:
            champs = ligne.split()
            local, etat = champs[1], champs[3]
            if int(local.rsplit(":", 1)[1], 16) == port and (udp or etat == "0A"):
                return True
    return False
