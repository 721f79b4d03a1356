"""SSH side of the emulators: fake-switches' Twisted conch service, with Ardoise's hooks.

Compared with ``fake_switches.transports.SwitchSshService`` this adds, per switch:

* the set of live sessions, so that the control file can drop them (:meth:`Commutateur.couper_sessions`);
* counting of configuration commands for ``couper_apres`` and the ``lent`` response delay;
* "press any key" prompts that also accept Return (the ProCurve login banner);
* one username/password pair, checked by Twisted (wrong password: authentication refused).
"""

from __future__ import annotations

import logging
import re
from collections import deque
from typing import TYPE_CHECKING, Any

from fake_switches.terminal.ssh import SwitchSSHShell
from fake_switches.transports.ssh_service import SSHDemoAvatar, getRSAKeys
from twisted.conch.insults import insults
from twisted.conch.ssh import factory, keys, session
from twisted.cred import checkers, portal
from twisted.internet import reactor
from zope.interface import implementer

if TYPE_CHECKING:
    from twisted.internet.interfaces import IListeningPort

    from ardoise.labo.emulateur.commutateur import Commutateur

journal = logging.getLogger("ardoise.labo.emulateur")

# name(config)#  name(config-if)#  name(vlan-10)#  name(eth-1)#  name(config-vlan-10)#
INVITE_CONFIGURATION = re.compile(r"\([^()]*\)#\s*$")


class ShellArdoise(SwitchSSHShell):
    """One interactive session on an emulated switch."""

    def __init__(self, user: Any, switch_core: Any, commutateur: Commutateur) -> None:
        super().__init__(user, switch_core)
        self.commutateur = commutateur
        self._attente: deque[str] = deque()
        self._differe = False
        self.coupe = False

    def connectionMade(self) -> None:  # noqa: N802 (Twisted API)
        self.commutateur.sessions.add(self)
        super().connectionMade()

    def connectionLost(self, reason: Any) -> None:  # noqa: N802
        self.commutateur.sessions.discard(self)
        super().connectionLost(reason)

    def keystrokeReceived(self, keyID: bytes, modifier: Any) -> None:  # noqa: N802, N803
        """Any key, Return included, answers a "press any key" prompt."""
        if self.coupe:
            return
        if self.awaiting_keystroke is not None:
            callback, parametres = self.awaiting_keystroke
            callback(*parametres, keyID.decode(errors="replace"))
            if self.session is not None and self.session.command_processor.is_done:
                self.fermer()
            return
        super().keystrokeReceived(keyID, modifier)

    def lineReceived(self, line: bytes) -> None:  # noqa: N802
        if self.coupe:
            return
        self._attente.append(line.decode(errors="replace"))
        self._pomper()

    def en_configuration(self) -> bool:
        """True when the session sits at a configuration prompt."""
        processeur = self.get_actual_processor()
        return bool(INVITE_CONFIGURATION.search(processeur.get_prompt() or ""))

    def _pomper(self) -> None:
        while self._attente and not self._differe and not self.coupe:
            delai = self.commutateur.etat.delai(self._attente[0])
            if delai > 0:
                self._differe = True
                reactor.callLater(delai, self._apres_delai)
                return
            self._traiter(self._attente.popleft())

    def _apres_delai(self) -> None:
        self._differe = False
        if self._attente and not self.coupe:
            self._traiter(self._attente.popleft())
        self._pomper()

    def _traiter(self, ligne: str) -> None:
        etat = self.commutateur.etat
        if ligne.strip() and self.en_configuration():
            if not etat.autoriser_commande_config():
                self.commutateur.couper_sessions()
                return
            if etat.refuser_commande_config():  # stand-in: the device refuses this line, not applied
                self.session.handle_unknown_command(ligne)
                self.session.command_processor.show_prompt()
                return
        if ligne.strip().startswith("show ") and (lignes := etat.tronquer()) is not None:
            self._tronquer(ligne, lignes)
            return
        try:
            encore = self.session.receive(ligne)
        except Exception:  # a malformed command (``no vlan abc``) must not kill the session
            journal.warning("%s : commande mal formée ignorée", self.commutateur.config.nom)
            processeur = self.session.command_processor
            processeur.terminal_controller.write("% Invalid input detected at '^' marker.\n")
            processeur.show_prompt()
            encore = True
        if not encore:
            self.fermer()

    def _tronquer(self, ligne: str, lignes: int) -> None:
        """Answer ``ligne`` with its first ``lignes`` lines only, then drop every session (a read cut short)."""
        ecrire = self.terminal.write
        tampon: list[bytes | str] = []
        self.terminal.write = tampon.append  # type: ignore[method-assign]
        try:
            self.session.receive(ligne)
        finally:
            self.terminal.write = ecrire  # type: ignore[method-assign]
        texte = "".join(m.decode(errors="replace") if isinstance(m, bytes) else m for m in tampon)
        debut = "".join(texte.splitlines(keepends=True)[:lignes])
        ecrire(debut.encode() if tampon and isinstance(tampon[0], bytes) else debut)
        reactor.callLater(0.2, self.commutateur.couper_sessions)

    def fermer(self) -> None:
        """Log out: ignore what the client already sent after (``y`` then Return), then close."""
        self.coupe = True
        self._attente.clear()
        reactor.callLater(0, self.terminal.loseConnection)

    def couper(self) -> None:
        """Abort the TCP connection carrying this session, without a goodbye."""
        self.coupe = True
        self._attente.clear()
        connexion = getattr(self.user, "conn", None)
        transport_ssh = getattr(connexion, "transport", None)
        tcp = getattr(transport_ssh, "transport", None)
        if tcp is not None:
            tcp.abortConnection()
        else:
            self.terminal.loseConnection()


@implementer(session.ISession)
class AvatarArdoise(SSHDemoAvatar):
    """The logged-in user: opens a :class:`ShellArdoise`."""

    def __init__(self, username: bytes, commutateur: Commutateur) -> None:
        super().__init__(username, commutateur.coeur)
        self.commutateur = commutateur

    def openShell(self, protocol: Any) -> None:  # noqa: N802
        serveur = insults.ServerProtocol(
            ShellArdoise, self, switch_core=self.switch_core, commutateur=self.commutateur
        )
        serveur.makeConnection(protocol)
        protocol.makeConnection(session.wrapProtocol(serveur))


@implementer(portal.IRealm)
class RoyaumeArdoise:
    def __init__(self, commutateur: Commutateur) -> None:
        self.commutateur = commutateur

    def requestAvatar(self, avatarId: bytes, mind: Any, *interfaces: Any) -> Any:  # noqa: N802, N803
        from twisted.conch import interfaces as conch_interfaces

        if conch_interfaces.IConchUser in interfaces:
            return interfaces[0], AvatarArdoise(avatarId, self.commutateur), lambda: None
        raise NotImplementedError("interface non prise en charge")


def _cles_hote() -> tuple[keys.Key, keys.Key]:
    publique, privee = getRSAKeys()
    return keys.Key.fromString(data=publique.encode()), keys.Key.fromString(data=privee.encode())


_CLES: tuple[keys.Key, keys.Key] | None = None


def ecouter(commutateur: Commutateur) -> IListeningPort:
    """Listen for SSH on the switch's address and port; returns the listening port."""
    global _CLES
    if _CLES is None:
        _CLES = _cles_hote()
    usine = factory.SSHFactory()
    usine.portal = portal.Portal(RoyaumeArdoise(commutateur))
    verificateur = checkers.InMemoryUsernamePasswordDatabaseDontUse()
    config = commutateur.config
    verificateur.addUser(config.utilisateur.encode(), config.mot_de_passe.encode())
    usine.portal.registerChecker(verificateur)
    cles = _CLES
    if config.cle_hote is not None:  # this switch's own host key
        privee = keys.Key.fromFile(str(config.cle_hote))
        cles = (privee.public(), privee)
    usine.publicKeys = {b"ssh-rsa": cles[0]}
    usine.privateKeys = {b"ssh-rsa": cles[1]}
    return reactor.listenTCP(config.port, usine, interface=config.adresse)
