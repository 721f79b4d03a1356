"""``ardoise audit`` usage errors: French, exit code 2, nothing written (not even the results store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ardoise.cli.main import app

RACINE = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "reseau", "--ecole", "0331101T", "--vlan", "77"], "VLAN 77 inconnu"),
        (["audit", "reseau", "--ecole", "0331101T", "--attendus", "pc-fantome"], "pc-fantome"),
        (["audit", "filtrage", "--ecole", "0331101T", "--depuis", "pc-fantome"], "--depuis 10"),
        (
            ["audit", "filtrage", "--ecole", "0331101T", "--depuis", "srv-jean-jaures"],
            "pas sur un VLAN élèves",
        ),
        (["audit", "filtrage", "--ecole", "0331101T"], "aucune adresse sur un VLAN élèves"),
        (["audit", "complet"], "--ecole UAI"),
        (["audit", "reseau", "--ecole", "0331199Z"], "inconnue"),
    ],
)
def test_usage_errors_write_nothing(args: list[str], message: str, tmp_path: Path) -> None:
    base = tmp_path / "r.sqlite"
    r = CliRunner().invoke(app, [*args, "--inventaire", str(RACINE / "inventaire"), "--base", f"sqlite:///{base}",
                                 "--sortie", str(tmp_path / "sortie")])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert not base.exists() and not (tmp_path / "sortie").exists()
