"""Sweep everything the lab may have left behind, with or without a state file.

Processes (inside ``ard-*`` namespaces or referring to the state dir), mounts (under the state dir
or named ``ard-*``), host cgroups (``ard-*``), then namespaces and root links (see :mod:`reseau`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ardoise.labo import hotes, reseau
from ardoise.labo.systeme import arreter_pids, debut_processus, executer

log = logging.getLogger(__name__)


def _ancetres() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            break
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return pids


def processus_labo(dossier: Path) -> list[int]:
    """PIDs belonging to the lab: in a lab namespace, or whose command line names the state dir."""
    pids: set[int] = set()
    for ns in reseau.namespaces_labo():
        sortie = executer(["ip", "netns", "pids", ns], verifier=False).stdout
        pids.update(int(p) for p in sortie.split() if p.isdigit())
    marques = (str(dossier).encode() + b"/", f"/run/netns/{reseau.PREFIXE}".encode())
    for entree in Path("/proc").iterdir():
        if not entree.name.isdigit():
            continue
        try:
            ligne = (entree / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if any(m in ligne for m in marques):
            pids.add(int(entree.name))
    return sorted(pids - _ancetres())


def montages_labo(dossier: Path) -> list[str]:
    """Mount points of the root mount namespace that belong to the lab, deepest first."""
    points = []
    prefixe = str(dossier).rstrip("/") + "/"
    for ligne in Path("/proc/self/mounts").read_text().splitlines():
        source, point = ligne.split()[:2]
        point = point.replace("\\040", " ")
        if point.startswith(prefixe) or source.startswith(reseau.PREFIXE):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def balayer(dossier: Path) -> None:
    """Kill, unmount and delete every lab leftover; safe to call on a clean machine."""
    pids = processus_labo(dossier)
    if pids:
        log.info("processus du labo à arrêter : %s", pids)
        arreter_pids([(p, debut_processus(p)) for p in pids], delai=10)
    for point in montages_labo(dossier):
        if executer(["umount", point], verifier=False).returncode != 0:
            executer(["umount", "-l", point], verifier=False)
    for h in hotes.HIERARCHIES_CGROUP:
        for c in (hotes.RACINE_CGROUP / h).glob(f"{reseau.PREFIXE}*"):
            hotes.supprimer_cgroup(c.name)
    reseau.nettoyer()
