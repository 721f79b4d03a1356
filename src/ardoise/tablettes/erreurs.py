"""Errors of the tablet commands (French messages for the user)."""

from __future__ import annotations

from ardoise.erreurs import ArdoiseErreur, ErreurUsage


class ErreurTablettes(ArdoiseErreur):
    """A tablet sheet, profile or workshop run cannot be produced."""


class ErreurConfigurationTablettes(ErreurUsage):
    """The manifest lacks something the tablet commands need (DPC, Wi-Fi, tablets...)."""
