"""The one exception tree of Ardoise.

Every error a user can cause or meet is an :class:`ArdoiseErreur` with a French message; the CLI
maps each family to an exit code. A Python traceback reaching the user is a bug.
"""

from __future__ import annotations


class ArdoiseErreur(Exception):
    """Root of every Ardoise error; ``str(e)`` is a French message for the user."""

    code_sortie = 1


class ErreurUsage(ArdoiseErreur):
    """The command was called wrongly (unknown school, missing option...)."""

    code_sortie = 2


class ErreurManifeste(ArdoiseErreur):
    """The manifest could not be read or is invalid; carries every problem found."""

    def __init__(self, problemes: list) -> None:  # list[Probleme]
        self.problemes = problemes
        n = sum(1 for p in problemes if p.gravite == "erreur")
        super().__init__(f"le manifeste contient {n} erreur(s)")


class ErreurCoffre(ArdoiseErreur):
    """The vault cannot be opened or a reference is unknown."""


class ErreurConnexion(ArdoiseErreur):
    """A device could not be reached."""


class ErreurAuthentification(ErreurConnexion):
    """A device refused the credentials."""


class ErreurVerification(ArdoiseErreur):
    """A check could not run."""


class ErreurApplication(ArdoiseErreur):
    """A change could not be applied (and was rolled back when possible)."""


class ErreurDroits(ArdoiseErreur):
    """The command needs privileges the user does not have (root for the lab)."""

    code_sortie = 2
