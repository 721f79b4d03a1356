"""Errors of the virtual school lab (French messages, mapped to exit codes by the CLI)."""

from __future__ import annotations

from ardoise.erreurs import ArdoiseErreur, ErreurDroits


class LaboErreur(ArdoiseErreur):
    """Any failure of the lab; ``str(e)`` is a French message."""


class LaboDroitsErreur(LaboErreur, ErreurDroits):
    """The lab needs root (namespaces, mounts, nspawn)."""

    code_sortie = 2


class LaboDejaDemarreErreur(LaboErreur):
    """A lab is already running on this machine."""


class LaboCommandeErreur(LaboErreur):
    """A system command the lab needs failed."""


class LaboDelaiErreur(LaboErreur):
    """Something the lab waited for did not happen in time."""
