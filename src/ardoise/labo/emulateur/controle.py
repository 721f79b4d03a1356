"""Fault injection for one emulated switch, driven by its control file.

The emulator polls ``fichier_controle`` every 50 ms. When the file exists it is *consumed*: renamed
away, read, deleted, and its lines applied in order (blank lines and ``#`` comments ignored). A writer
knows the instructions have been taken into account when the file has disappeared.
:func:`envoyer_instruction` writes the file atomically (temporary file + rename) and waits for that.

Instructions (one per line):

``couper_apres N``
    Arm a cut: the next N configuration commands are applied normally; when the (N+1)-th arrives,
    it is NOT applied and every SSH session of the switch is dropped (TCP connection aborted).
    The cut then disarms itself. ``couper_apres 0`` cuts on the very next configuration command.
    A *configuration command* is any non-blank line received, by any session of this switch,
    while that session sits at a configuration prompt (``name(config…)#``, ``name(vlan-10)#``,
    ``name(eth-1)#``…), including ``exit`` and ``end``; ``configure terminal`` itself is not one.
``couper``
    Drop every SSH session of the switch now (new connections are still accepted).
``lent S [COMMANDE…]``
    From now on, every command's response is delayed by S seconds (float); with a command text, only the
    commands starting with it (``lent 30 show running-config``: a read that never comes back in time while
    the login still works). Stays until ``normal``.
``refuser_apres N``
    The next N configuration commands are applied normally; the (N+1)-th is NOT applied and is answered
    the way the platform answers an unknown command (``% Invalid input detected…``), the session going on.
    One-shot, like ``couper_apres``: a device refusing one line of a change.
``tronquer N [FOIS]``
    The answer to a ``show`` command stops after N lines and every session of the switch is dropped (a
    read cut short): for the next FOIS ``show`` commands, or all of them until ``normal``.
``normal``
    Disarm pending ``couper_apres``/``refuser_apres``/``tronquer`` and remove the delay.

``refuser_apres`` and ``tronquer`` are test stand-ins for device behaviour, not emulations of a real switch
feature.

Unknown lines are reported on stderr (in French) and ignored.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twisted.internet import task

journal = logging.getLogger("ardoise.labo.emulateur")

INTERVALLE_SCRUTATION = 0.05


@dataclass
class EtatPannes:
    """The faults currently in force on one switch."""

    coupure_dans: int | None = None  # None: no cut armed; else commands still allowed
    lenteur: float = 0.0
    lenteur_commande: str = ""  # only commands starting with this are slowed ("": all)
    refus_dans: int | None = None  # None: no refusal armed; else commands still accepted
    troncature: int | None = None  # lines of a ``show`` answer before the cut
    troncatures_restantes: int | None = None  # None: until ``normal``

    def tronquer(self) -> int | None:
        """Account for one ``show`` command; the lines to send before the cut, or None: answer whole."""
        if self.troncature is None:
            return None
        lignes = self.troncature
        if self.troncatures_restantes is not None:
            self.troncatures_restantes -= 1
            if self.troncatures_restantes <= 0:
                self.troncature = self.troncatures_restantes = None
        return lignes

    def autoriser_commande_config(self) -> bool:
        """Account for one configuration command; False means: cut now, do not apply it."""
        if self.coupure_dans is None:
            return True
        if self.coupure_dans <= 0:
            self.coupure_dans = None
            return False
        self.coupure_dans -= 1
        return True

    def refuser_commande_config(self) -> bool:
        """Account for one configuration command; True means: refuse it (answer as an unknown command)."""
        if self.refus_dans is None:
            return False
        if self.refus_dans <= 0:
            self.refus_dans = None
            return True
        self.refus_dans -= 1
        return False

    def delai(self, ligne: str) -> float:
        """The response delay for this command line."""
        if self.lenteur_commande and not ligne.strip().startswith(self.lenteur_commande):
            return 0.0
        return self.lenteur


class Controle:
    """Polls the control file and applies its instructions to an :class:`EtatPannes`."""

    def __init__(self, chemin: Path, etat: EtatPannes, couper: Callable[[], None], nom: str) -> None:
        self.chemin = Path(chemin)
        self.etat = etat
        self._couper = couper
        self._nom = nom
        self._boucle = task.LoopingCall(self.scruter)

    def demarrer(self) -> None:
        """Start polling on the running (or soon running) reactor."""
        self._boucle.start(INTERVALLE_SCRUTATION, now=True)

    def arreter(self) -> None:
        if self._boucle.running:
            self._boucle.stop()

    def scruter(self) -> None:
        """Consume the control file if it is there."""
        pris = self.chemin.with_name(f".{self.chemin.name}.{os.getpid()}.lu")
        try:
            os.rename(self.chemin, pris)
        except FileNotFoundError:
            return
        except OSError as erreur:
            journal.warning("%s : fichier de contrôle inaccessible (%s)", self._nom, erreur.strerror)
            return
        try:
            texte = pris.read_text(encoding="utf-8", errors="replace")
        finally:
            pris.unlink(missing_ok=True)
        for ligne in texte.splitlines():
            self.appliquer(ligne)

    def appliquer(self, ligne: str) -> None:
        """Apply one instruction line."""
        mots = ligne.split("#", 1)[0].split()
        if not mots:
            return
        try:
            if mots == ["couper"]:
                self._couper()
            elif mots[0] == "couper_apres" and len(mots) == 2 and int(mots[1]) >= 0:
                self.etat.coupure_dans = int(mots[1])
            elif mots[0] == "lent" and len(mots) >= 2 and float(mots[1]) >= 0:
                self.etat.lenteur = float(mots[1])
                self.etat.lenteur_commande = " ".join(mots[2:])
            elif mots[0] == "refuser_apres" and len(mots) == 2 and int(mots[1]) >= 0:
                self.etat.refus_dans = int(mots[1])
            elif mots[0] == "tronquer" and len(mots) in (2, 3) and int(mots[1]) >= 0:
                self.etat.troncature = int(mots[1])
                self.etat.troncatures_restantes = int(mots[2]) if len(mots) == 3 else None
                if self.etat.troncatures_restantes is not None and self.etat.troncatures_restantes < 1:
                    raise ValueError
            elif mots == ["normal"]:
                self.etat.coupure_dans = None
                self.etat.refus_dans = None
                self.etat.troncature = self.etat.troncatures_restantes = None
                self.etat.lenteur = 0.0
                self.etat.lenteur_commande = ""
            else:
                raise ValueError
        except ValueError:
            journal.warning("%s : instruction de contrôle inconnue ignorée : %r", self._nom, ligne[:80])


def envoyer_instruction(chemin: Path, *lignes: str, attente: float = 5.0) -> None:
    """Write instructions to a control file atomically and wait until the emulator consumed them.

    Raises ``TimeoutError`` if the file is still there after ``attente`` seconds.
    """
    chemin = Path(chemin)
    temporaire = chemin.with_name(f".{chemin.name}.{os.getpid()}.tmp")
    temporaire.write_text("".join(f"{ligne}\n" for ligne in lignes), encoding="utf-8")
    os.replace(temporaire, chemin)
    limite = time.monotonic() + attente
    while chemin.exists():
        if time.monotonic() > limite:
            raise TimeoutError(f"l'émulateur n'a pas lu {chemin} en {attente} s")
        time.sleep(0.01)
