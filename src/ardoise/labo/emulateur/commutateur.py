"""One emulated switch at run time: its fake-switches core, its SSH listener, its faults."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ardoise.labo.emulateur.configuration import ConfigEmulateur
from ardoise.labo.emulateur.controle import Controle, EtatPannes
from ardoise.labo.emulateur.ssh import ecouter

if TYPE_CHECKING:
    from fake_switches.switch_core import SwitchCore
    from twisted.internet.interfaces import IListeningPort

    from ardoise.labo.emulateur.ssh import ShellArdoise


def construire_coeur(config: ConfigEmulateur) -> SwitchCore:
    """The platform's switch core, loaded with the initial VLANs and ports (and its fed MAC table)."""
    coeur = _coeur(config)
    coeur.fichier_macs = config.fichier_macs  # read by ``show mac…`` / ``show arp`` (tables.py)
    return coeur


def _coeur(config: ConfigEmulateur) -> SwitchCore:
    if config.plateforme == "cisco_ios":
        from ardoise.labo.emulateur.cisco import coeur_cisco

        return coeur_cisco(config)
    if config.plateforme == "hp_procurve":
        from ardoise.labo.emulateur.procurve import coeur_procurve

        return coeur_procurve(config)
    if config.plateforme == "aruba_aoscx":
        from ardoise.labo.emulateur.aoscx import coeur_aoscx

        return coeur_aoscx(config)
    raise ValueError(f"plateforme inconnue : {config.plateforme}")


class Commutateur:
    """Ties a switch core, its SSH service, its live sessions and its fault state together."""

    def __init__(self, config: ConfigEmulateur) -> None:
        self.config = config
        self.coeur = construire_coeur(config)
        self.etat = EtatPannes()
        self.sessions: set[ShellArdoise] = set()
        self.controle = Controle(config.fichier_controle, self.etat, self.couper_sessions, config.nom)
        self.ecoute: IListeningPort | None = None

    def demarrer(self) -> None:
        """Listen for SSH and start watching the control file."""
        self.ecoute = ecouter(self)
        self.controle.demarrer()

    def arreter(self) -> None:
        self.controle.arreter()
        self.couper_sessions()
        if self.ecoute is not None:
            self.ecoute.stopListening()

    def couper_sessions(self) -> None:
        """Drop every SSH session of this switch at once."""
        for shell in list(self.sessions):
            shell.couper()
