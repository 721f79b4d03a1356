"""Fault injection on a running lab, for tests of the product's error handling.

Every helper takes the :class:`~ardoise.labo.labo.Labo` and a name from the plan, and has an
inverse (stop/start, cut/restore, fill/free). Nothing here touches anything outside the lab.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ardoise.labo import commutateurs, hotes, reseau
from ardoise.labo.erreurs import LaboErreur
from ardoise.labo.labo import Labo
from ardoise.labo.systeme import executer

log = logging.getLogger(__name__)

FICHIER_REMPLISSAGE = "var/tmp/ardoise-disque-plein"
DISQUE_MAX = 16 * 2**30  # refuse to fill anything bigger: it would not be the host's small tmpfs


# -- hosts ------------------------------------------------------------------------------------
def arreter_hote(labo: Labo, nom: str) -> None:
    """Power a PC off (clean systemd shutdown); its disk (overlay) is kept."""
    labo.arreter_hote(nom)


def demarrer_hote(labo: Labo, nom: str) -> None:
    """Boot a stopped PC again and wait for ssh."""
    labo.demarrer_hote(nom)


def _lien(labo: Labo, nom: str) -> str:
    """Server-side veth of a PC or switch (``pc<i>`` / ``sw<i>``)."""
    try:
        ns = labo.hote(nom).ns
    except LaboErreur:
        ns = labo.service(nom).ns or ""
    if not ns.startswith(reseau.PREFIXE):
        raise LaboErreur(f"aucun lien réseau pour {nom}")
    return ns[len(reseau.PREFIXE) :]


def couper_lien(labo: Labo, nom: str) -> None:
    """Unplug a PC (or switch): its veth goes down on the server side."""
    reseau.ip("link", "set", _lien(labo, nom), "down", ns=reseau.NS_SERVEUR)


def retablir_lien(labo: Labo, nom: str) -> None:
    """Plug it back."""
    lien = _lien(labo, nom)
    reseau.ip("link", "set", lien, "up", ns=reseau.NS_SERVEUR)


# -- proxy ------------------------------------------------------------------------------------
def arreter_proxy(labo: Labo, e2guardian: bool = True) -> None:
    """Stop squid (and e2guardian unless told otherwise)."""
    if e2guardian:
        labo.arreter_service("e2guardian")
    labo.arreter_service("squid")


def demarrer_proxy(labo: Labo) -> None:
    """Start squid and e2guardian again (no-op for those already running)."""
    labo.demarrer_service("squid")
    labo.demarrer_service("e2guardian")


# -- disk -------------------------------------------------------------------------------------
def remplir_disque(labo: Labo, nom: str, marge_mo: int = 8) -> Path:
    """Fill a PC's disk until only ``marge_mo`` MiB remain; return the filler file (host path).

    The PC's root is an overlay whose upper dir sits on a size-limited tmpfs (``taille_disque_hote``),
    so this fills that tmpfs, never the machine's disk.
    """
    h = labo.hote(nom)
    if not os.path.ismount(h.dossier) or not os.path.ismount(h.racine):
        raise LaboErreur(f"le disque du poste {nom} n'est pas monté")
    vfs = os.statvfs(h.racine)
    if vfs.f_blocks * vfs.f_frsize > DISQUE_MAX:
        raise LaboErreur(f"disque du poste {nom} inattendu (trop grand) : remplissage refusé")
    fichier = h.racine / FICHIER_REMPLISSAGE
    fichier.unlink(missing_ok=True)
    vfs = os.statvfs(h.racine)
    taille = vfs.f_bavail * vfs.f_frsize - marge_mo * 2**20
    if taille > 0:
        executer(["fallocate", "-l", str(taille), fichier])
    log.info("disque du poste %s rempli (%d Mio)", nom, max(taille, 0) // 2**20)
    return fichier


def liberer_disque(labo: Labo, nom: str) -> None:
    """Remove the filler file."""
    (labo.hote(nom).racine / FICHIER_REMPLISSAGE).unlink(missing_ok=True)


# -- antivirus --------------------------------------------------------------------------------
def arreter_clamav(labo: Labo, nom: str) -> None:
    """Stop the ClamAV daemon of a PC (installed by the antivirus role)."""
    hotes.executer_dans(labo.hote(nom), "systemctl", "stop", "clamav-daemon.service")


def demarrer_clamav(labo: Labo, nom: str) -> None:
    hotes.executer_dans(labo.hote(nom), "systemctl", "start", "clamav-daemon.service")


# -- switches ---------------------------------------------------------------------------------
def _controle(labo: Labo, nom: str, *lignes: str) -> None:
    from ardoise.labo.emulateur import envoyer_instruction

    labo.service(nom)  # raises if the switch is unknown
    try:
        envoyer_instruction(commutateurs.controle(labo.dossier, nom), *lignes)
    except TimeoutError as e:
        raise LaboErreur(f"l'émulateur du commutateur {nom} ne lit pas son fichier de contrôle") from e


def couper_sessions_commutateur(labo: Labo, nom: str, apres: int | None = None) -> None:
    """Drop the switch's SSH sessions now, or after ``apres`` further configuration commands."""
    _controle(labo, nom, "couper" if apres is None else f"couper_apres {apres}")


def ralentir_commutateur(labo: Labo, nom: str, secondes: float) -> None:
    """Delay every response of the switch by ``secondes``."""
    _controle(labo, nom, f"lent {secondes}")


def retablir_commutateur(labo: Labo, nom: str) -> None:
    """Disarm a pending cut and remove any delay."""
    _controle(labo, nom, "normal")
