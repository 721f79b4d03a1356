"""The lab PCs' Debian bookworm rootfs: built once with debootstrap, cached, shared by overlayfs.

Layout of the cache (default ``/var/cache/ardoise/labo/``, env ``ARDOISE_LABO_CACHE``)::

    cle_labo, cle_labo.pub        the lab's SSH key pair (authorised for the technician)
    rootfs-bookworm.tar.zst       the fixed image (rebuilt when missing)
    rootfs-bookworm/              the image extracted: the overlay lowerdir shared by every host
    .verrou                       flock taken while building or extracting
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ardoise.labo.erreurs import LaboErreur
from ardoise.labo.systeme import executer

log = logging.getLogger(__name__)

# What the role ardoise_pull installs (ardoise_pull_paquets) and the apt module's python3-apt are baked in: the
# roles still install them on a real PC, a lab PC just finds them present (no apt in the pull tests' hot path;
# figures in benchmarks/README.md « Échelle »). debootstrap does not resolve virtual packages: python3-cffi-backend
# (which provides python3-cryptography's python3-cffi-backend-api-*) is named. Part of the cache key: changing the
# list rebuilds the image.
PAQUETS = (
    "systemd,systemd-sysv,dbus,openssh-server,python3,sudo,iproute2,ca-certificates,"
    "ansible-core,git,python3-passlib,python3-apt,python3-cffi-backend"
)
SUITE = "bookworm"
SOURCES_APT = Path("/etc/apt/sources.list.d/debian.sources")
# Timers that would try to reach the network or hold the apt lock during tests.
UNITES_MASQUEES = ("apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer")
VERSION_IMAGE = "4"  # bump to force a rebuild when the fixing steps change
TECHNICIEN_IMAGE = "technicien"

Progression = Callable[[str], None]


def dossier_cache() -> Path:
    """The lab cache directory (outside the repository)."""
    return Path(os.environ.get("ARDOISE_LABO_CACHE", "/var/cache/ardoise/labo"))


def depots_debian(fichier: Path = SOURCES_APT) -> list[tuple[str, list[str], list[str]]]:
    """(URI, suites, components) of each stanza of a deb822 sources file."""
    if not fichier.exists():
        raise LaboErreur(f"source APT introuvable : {fichier}")
    depots = []
    for bloc in re.split(r"\n\s*\n", fichier.read_text()):
        champs: dict[str, str] = {}
        for ligne in bloc.splitlines():
            if ligne.startswith("#") or ":" not in ligne:
                continue
            cle, valeur = ligne.split(":", 1)
            champs[cle.strip().lower()] = valeur.strip()
        if "deb" in champs.get("types", "").split() and "uris" in champs:
            depots.append(
                (
                    champs["uris"].split()[0],
                    champs.get("suites", "").split(),
                    champs.get("components", "main").split(),
                )
            )
    if not depots:
        raise LaboErreur(f"aucun dépôt « deb » dans {fichier}")
    return depots


def miroir_debian() -> str:
    """The Debian archive mirror URI configured on this machine (the stanza carrying bookworm)."""
    for uri, suites, _ in depots_debian():
        if SUITE in suites:
            return uri
    raise LaboErreur(f"aucun miroir pour {SUITE} dans {SOURCES_APT}")


@contextmanager
def verrou(cache: Path) -> Iterator[None]:
    """Exclusive file lock so two builds or extractions never collide."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".verrou", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cle_labo(cache: Path | None = None) -> Path:
    """Path of the lab's private SSH key, generated on first use (the .pub sits next to it)."""
    cache = cache or dossier_cache()
    cle = cache / "cle_labo"
    with verrou(cache):
        if not cle.exists() or not cle.with_suffix(".pub").exists():
            cle.unlink(missing_ok=True)
            executer(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ardoise-labo", "-f", cle])
    return cle


def ajouter_technicien(racine: Path, technicien: str, cle_pub: str) -> None:
    """Create the technician account in ``racine``: passwordless sudo, the lab key authorised."""
    if f"\n{technicien}:" not in "\n" + (racine / "etc/passwd").read_text():
        executer(["chroot", racine, "useradd", "-m", "-s", "/bin/bash", "-G", "sudo", technicien])
    sudoers = racine / f"etc/sudoers.d/ardoise-{technicien}"
    sudoers.write_text(f"{technicien} ALL=(ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    ssh_dir = racine / "home" / technicien / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(cle_pub)
    (ssh_dir / "authorized_keys").chmod(0o600)
    executer(["chroot", racine, "chown", "-R", f"{technicien}:{technicien}", f"/home/{technicien}/.ssh"])


def _corriger(racine: Path, cle_pub: str, technicien: str) -> None:
    """Fix a fresh debootstrap tree once: ids, account, sudo, ssh, apt sources, quiet units."""
    (racine / "etc/machine-id").write_text("")
    dbus_id = racine / "var/lib/dbus/machine-id"
    dbus_id.parent.mkdir(parents=True, exist_ok=True)
    dbus_id.unlink(missing_ok=True)
    dbus_id.symlink_to("/etc/machine-id")
    ajouter_technicien(racine, technicien, cle_pub)
    for cle in (racine / "etc/ssh").glob("ssh_host_*"):
        cle.unlink()  # each host gets its own keys
    (racine / "etc/ssh/sshd_config.d/ardoise-labo.conf").write_text(
        "UseDNS no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
    )
    lignes = [f"deb {uri} {' '.join(suites)} {' '.join(comp)}" for uri, suites, comp in depots_debian()]
    (racine / "etc/apt/sources.list").write_text(
        "\n".join(f"deb {uri} {s} {' '.join(comp)}" for uri, suites, comp in depots_debian() for s in suites)
        + "\n"
    )
    log.debug("sources APT de l'image : %s", lignes)
    for unite in UNITES_MASQUEES:
        lien = racine / "etc/systemd/system" / unite
        lien.unlink(missing_ok=True)
        lien.symlink_to("/dev/null")
    (racine / "etc/resolv.conf").unlink(missing_ok=True)
    (racine / "etc/resolv.conf").write_text("")
    (racine / "etc/hostname").write_text("ardoise-labo\n")
    shutil.rmtree(racine / "var/cache/apt/archives", ignore_errors=True)
    (racine / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    for liste in (racine / "var/lib/apt/lists").glob("*_*"):
        liste.unlink()
    # No package index in the image: make it look as old as it is, so the apt module's cache_valid_time
    # (socle's "update_cache, cache_valid_time: 3600", judged on this folder's mtime) updates it on first use.
    (racine / "var/lib/apt/periodic/update-success-stamp").unlink(missing_ok=True)
    os.utime(racine / "var/lib/apt/lists", (0, 0))


def construire_archive(cache: Path, technicien: str, progression: Progression) -> Path:
    """Debootstrap, fix and pack the image into ``rootfs-bookworm.tar.zst`` (lock held by caller)."""
    archive = cache / f"rootfs-{SUITE}.tar.zst"
    chantier = cache / "construction.tmp"
    if chantier.exists():
        executer(["rm", "-rf", "--one-file-system", chantier])
    miroir = miroir_debian()
    progression(f"construction de l'image Debian {SUITE} (debootstrap depuis {miroir}, ≈ 1 min)")
    debut = time.monotonic()
    executer(
        ["debootstrap", "--variant=minbase", f"--include={PAQUETS}", SUITE, chantier, miroir], delai=1800
    )
    cle_pub = (cache / "cle_labo.pub").read_text()
    _corriger(chantier, cle_pub, technicien)
    (chantier / "etc/ardoise-labo-image").write_text(f"{VERSION_IMAGE}\n")
    temporaire = archive.with_suffix(".tmp")
    executer(
        ["tar", "--numeric-owner", "--xattrs", "-I", "zstd -T0 -3", "-C", chantier, "-cpf", temporaire, "."],
        delai=900,
    )
    temporaire.rename(archive)
    executer(["rm", "-rf", "--one-file-system", chantier])
    progression(f"image construite en {time.monotonic() - debut:.0f} s : {archive}")
    return archive


def image_prete(progression: Progression | None = None, technicien: str = TECHNICIEN_IMAGE) -> Path:
    """Return the extracted lowerdir, building and/or extracting the image first if needed.

    The image holds the account ``technicien``; a plan using another name gets it per host
    (:func:`ajouter_technicien` on the host's overlay), so the image is not rebuilt for it.
    """
    prog = progression or (lambda _m: None)
    cache = dossier_cache()
    cle_labo(cache)
    archive = cache / f"rootfs-{SUITE}.tar.zst"
    racine = cache / f"rootfs-{SUITE}"
    tampon = cache / f".rootfs-{SUITE}.extrait"
    with verrou(cache):
        attendu = f"{VERSION_IMAGE} {technicien} {(cache / 'cle_labo.pub').read_text().split()[1]} {PAQUETS}"
        marque = cache / f".archive-{SUITE}"
        if not archive.exists() or not marque.exists() or marque.read_text() != attendu:
            construire_archive(cache, technicien, prog)
            marque.write_text(attendu)
        signature = f"{archive.stat().st_size} {archive.stat().st_mtime_ns}"
        if not tampon.exists() or tampon.read_text() != signature or not (racine / "etc").exists():
            prog("extraction de l'image des postes")
            if racine.exists():
                executer(["rm", "-rf", "--one-file-system", racine])
            racine.mkdir(parents=True)
            executer(["tar", "--numeric-owner", "--xattrs", "-I", "zstd", "-C", racine, "-xpf", archive])
            tampon.write_text(signature)
    return racine
