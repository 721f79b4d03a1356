"""Ardoise: infrastructure-as-code for the schools of a territory."""

__version__ = "0.1.0"
