"""Handing a commune over (« la commune reprend la main ») and taking it back.

:mod:`perimetre` says what belongs to one commune (schools, devices, secrets, profiles, apps) and
what belongs to the others; :mod:`exportation` writes a self-contained Ardoise directory for that
commune only; :mod:`importation` brings such a directory back into a territory; :mod:`historique`
copies the commune's rows between two results stores.
"""

from ardoise.erreurs import ArdoiseErreur


class ErreurReprise(ArdoiseErreur):
    """An export or import refused (destination not empty, conflict, leak): nothing was written."""
