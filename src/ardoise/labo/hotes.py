"""Lab PCs: Debian bookworm booted with systemd-nspawn, each in its own netns, cgroup and overlay.

Per host (under ``<state>/hotes/<name>/``, a size-limited tmpfs so a full disk stays a lab matter)::

    upper/ work/    overlayfs upper and work dirs
    racine/         the merged root the container boots from
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ardoise.labo import rootfs
from ardoise.labo.erreurs import LaboErreur
from ardoise.labo.systeme import arreter_pids, attendre, executer, lancer_demon, vivant

log = logging.getLogger(__name__)

HIERARCHIES_CGROUP = ("systemd", "unified")
RACINE_CGROUP = Path("/sys/fs/cgroup")


@dataclass
class Hote:
    """A lab PC as recorded in the state file."""

    nom: str
    ns: str
    adresse: str
    dossier: str
    pid: int | None = None
    debut: int | None = None

    @property
    def racine(self) -> Path:
        return Path(self.dossier) / "racine"

    @property
    def cgroup(self) -> str:
        return f"ard-{self.nom}"

    def en_dict(self) -> dict:
        return asdict(self)


def preparer(
    hote: Hote, lowerdir: Path, *, fichiers: dict[str, str], taille_disque: str, technicien: str
) -> None:
    """Mount the host's tmpfs + overlay and write its own files (hostname, keys, resolv.conf...)."""
    d = Path(hote.dossier)
    d.mkdir(parents=True, exist_ok=True)
    if not os.path.ismount(d):
        executer(["mount", "-t", "tmpfs", "-o", f"size={taille_disque},mode=0755", f"ard-{hote.nom}", d])
    for sous in ("upper", "work", "racine"):
        (d / sous).mkdir(exist_ok=True)
    if not os.path.ismount(hote.racine):
        options = f"lowerdir={lowerdir},upperdir={d / 'upper'},workdir={d / 'work'}"
        executer(["mount", "-t", "overlay", "-o", options, f"ard-{hote.nom}", hote.racine])
    for chemin, contenu in fichiers.items():
        cible = hote.racine / chemin.lstrip("/")
        cible.parent.mkdir(parents=True, exist_ok=True)
        cible.unlink(missing_ok=True)
        cible.write_text(contenu)
    if technicien != rootfs.TECHNICIEN_IMAGE:
        rootfs.ajouter_technicien(hote.racine, technicien, rootfs.cle_labo().with_suffix(".pub").read_text())
    if not any((hote.racine / "etc/ssh").glob("ssh_host_*_key")):
        executer(["ssh-keygen", "-A", "-f", hote.racine])


def _creer_cgroup(nom: str) -> list[Path]:
    chemins = []
    for h in HIERARCHIES_CGROUP:
        if (RACINE_CGROUP / h / "cgroup.procs").exists():
            c = RACINE_CGROUP / h / nom
            c.mkdir(exist_ok=True)
            chemins.append(c)
    return chemins


def supprimer_cgroup(nom: str, delai: float = 10) -> None:
    """Remove the host's cgroup directories (deepest first) once their processes are gone.

    Killed processes are reaped slowly here (they keep the cgroup busy a moment): retry until
    ``delai``.
    """
    fin = time.monotonic() + delai
    erreur: OSError | None = None
    for h in HIERARCHIES_CGROUP:
        base = RACINE_CGROUP / h / nom
        while base.exists():
            dossiers = sorted(
                (p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
            )
            for p in [*dossiers, base]:
                try:
                    p.rmdir()
                except OSError as e:
                    erreur = e
            if not base.exists():
                break
            if time.monotonic() > fin:
                log.warning("cgroup %s non supprimé : %s", base, erreur)
                break
            time.sleep(0.1)


def demarrer(hote: Hote, journal: Path) -> None:
    """Boot the host with systemd-nspawn, from its own cgroup (parallel hosts otherwise collide)."""
    cgroups = _creer_cgroup(hote.cgroup)
    entrees = "; ".join(f"echo $$ > {c}/cgroup.procs" for c in cgroups)
    # Run nspawn itself inside the namespace: the sysfs it mounts then lists the PC's own eth0
    # (with only --network-namespace-path, /sys/class/net would show the machine's interfaces).
    nspawn = (
        f"exec nsenter --net=/run/netns/{hote.ns} systemd-nspawn -q -D {hote.racine} -M {hote.nom} --boot --keep-unit --register=no "
        f"--resolv-conf=off --link-journal=no --timezone=off --console=passive "
        f"--network-namespace-path=/run/netns/{hote.ns}"
    )
    hote.pid, hote.debut = lancer_demon(["sh", "-c", f"{entrees}; {nspawn}"], journal)


def ssh_repond(adresse: str, delai: float = 1.0) -> bool:
    """True if something speaks SSH on ``adresse``:22 (banner read)."""
    try:
        with socket.create_connection((adresse, 22), timeout=delai) as s:
            s.settimeout(delai)
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def attendre_ssh(hote: Hote, delai: float = 90) -> None:
    """Poll until sshd answers on the host's address; fail early if nspawn died."""

    def pret() -> bool:
        if not vivant(hote.pid, hote.debut):
            raise LaboErreur(f"le poste {hote.nom} s'est arrêté au démarrage (voir son journal)")
        return ssh_repond(hote.adresse, 0.5)

    attendre(pret, delai, f"ssh du poste {hote.nom} ({hote.adresse})", pas=0.2)


def arreter(hotes: list[Hote], delai: float = 10) -> None:
    """Shut hosts down (SIGTERM to nspawn = clean poweroff), then remove their cgroups."""
    arreter_pids([(h.pid, h.debut) for h in hotes if h.pid], delai)
    for h in hotes:
        h.pid = h.debut = None
        supprimer_cgroup(h.cgroup)


def demonter(hote: Hote) -> None:
    """Unmount the host's overlay and tmpfs and remove its directory."""
    for point in (hote.racine, Path(hote.dossier)):
        if os.path.ismount(point):
            executer(["umount", point], verifier=False)
            if os.path.ismount(point):
                executer(["umount", "-l", point], verifier=False)
    shutil.rmtree(hote.dossier, ignore_errors=True)


def meneur(hote: Hote) -> int | None:
    """PID of the container's init (child of the nspawn process), if running."""
    if not vivant(hote.pid, hote.debut):
        return None
    for tache in Path(f"/proc/{hote.pid}/task").iterdir():
        enfants = (tache / "children").read_text().split()
        if enfants:
            return int(enfants[0])
    return None


def executer_dans(hote: Hote, *commande: str, verifier: bool = True, delai: float = 120) -> str:
    """Run a command inside the running host (nsenter into its namespaces, as root), return stdout."""
    pid = meneur(hote)
    if pid is None:
        raise LaboErreur(f"le poste {hote.nom} n'est pas démarré")
    argv = ["nsenter", "-t", str(pid), "-m", "-u", "-i", "-n", "-p", "--", *commande]
    return executer(argv, verifier=verifier, delai=delai).stdout


def attendre_arret(hote: Hote, delai: float = 15) -> None:
    fin = time.monotonic() + delai
    while vivant(hote.pid, hote.debut) and time.monotonic() < fin:
        time.sleep(0.1)
