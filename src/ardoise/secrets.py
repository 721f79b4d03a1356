"""Secret values and their redaction: the one helper every module uses.

A :class:`Secret` never shows its value through ``str``/``repr``/formatting; the value is read with
:meth:`Secret.reveler` at the exact place it is sent to a device. :func:`masquer` removes known secret
values from any text before it is logged, stored or printed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

MASQUE = "********"

_connus: set[str] = set()
_verrou = threading.Lock()


class Secret:
    """A secret value from the vault; redacted everywhere except :meth:`reveler`."""

    __slots__ = ("_valeur", "nom")

    def __init__(self, nom: str, valeur: str) -> None:
        self.nom = nom
        self._valeur = valeur
        enregistrer(valeur)

    def reveler(self) -> str:
        """Return the clear value: call it only where the value leaves for a device."""
        return self._valeur

    def __repr__(self) -> str:
        return f"Secret({self.nom!r}, {MASQUE})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # never pickled in clear
        raise TypeError("un secret ne se sérialise pas")


def enregistrer(valeur: str) -> None:
    """Remember a secret value so that :func:`masquer` removes it from any text."""
    if valeur and len(valeur) >= 4:
        with _verrou:
            _connus.add(valeur)


def masquer(texte: str, autres: Iterable[str] = ()) -> str:
    """Replace every known secret value (and ``autres``) in ``texte`` by a mask."""
    with _verrou:
        valeurs = sorted(_connus.union(v for v in autres if v), key=len, reverse=True)
    for v in valeurs:
        if v in texte:
            texte = texte.replace(v, MASQUE)
    return texte
