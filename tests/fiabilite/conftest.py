"""Fixtures shared by the tests of tests/fiabilite/."""

from tests.fiabilite.commutateurs import flotte_commutateurs  # noqa: F401  (the switch campaign's emulated fleet)
