"""The workshop's failure threshold (``--seuil-echec N|P%``): how it reads and when it is exceeded."""

from __future__ import annotations

import pytest

from ardoise.atelier.preparation import Seuil
from ardoise.erreurs import ErreurUsage


@pytest.mark.parametrize(
    ("texte", "total", "maximum"),
    [("3", 50, 3), ("0", 50, 0), ("10%", 50, 5), ("20 %", 50, 10), ("12,5%", 8, 1), ("100%", 7, 7)],
)
def test_seuil_lu(texte, total, maximum):
    assert Seuil.lire(texte).maximum(total) == pytest.approx(maximum)


@pytest.mark.parametrize("texte", ["beaucoup", "", "-1", "3.5", "150%", "%"])
def test_seuil_illisible(texte):
    with pytest.raises(ErreurUsage, match="seuil d'échec"):
        Seuil.lire(texte)
