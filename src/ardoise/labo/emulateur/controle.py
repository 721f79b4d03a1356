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
``lent S``
    From now on, every command's response is delayed by S seconds (float). Stays until ``normal``.
``normal``
    Disarm a pending ``couper_apres`` and remove the delay.

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

    def autoriser_commande_config(self) -> bool:
        """Account for one configuration command; False means: cut now, do not apply it."""
        if self.coupure_dans is None:
            return True
        if self.coupure_dans <= 0:
            self.coupure_dans = None
            return False
        self.coupure_dans -= 1
        return True


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
            elif mots[0] == "lent" and len(mots) == 2 and float(mots[1]) >= 0:
                self.etat.lenteur = float(mots[1])
            elif mots == ["normal"]:
                self.etat.coupure_dans = None
                self.etat.lenteur = 0.0
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
