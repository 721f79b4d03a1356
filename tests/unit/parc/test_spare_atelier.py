"""``parc remplacer --preparer``: a spare the workshop cannot prepare is refused before anything changes.

The workshop pass itself runs against the lab: tests/integration/parc/test_spare_labo.py.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.aide_parc import copier_exemple

ARDOISE = str(Path(sys.executable).parent / "ardoise")


def _empreintes(d: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def test_preparer_refuse_un_pc_windows_avant_tout_changement(tmp_path):
    inv = copier_exemple(tmp_path)
    avant = _empreintes(inv)
    env = {k: v for k, v in os.environ.items() if k not in ("ARDOISE_INVENTAIRE", "ARDOISE_BASE")}
    r = subprocess.run(
        [ARDOISE, "parc", "remplacer", "pc-les-pins-01", "--par", "pc-les-pins-09", "--preparer", "--sans-glpi",
         "--inventaire", str(inv), "--base", f"sqlite:///{tmp_path}/resultats.sqlite"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "--preparer : « pc-les-pins-01 » ne peut pas passer à l'atelier" in r.stderr
    assert "windows" in r.stderr
    assert _empreintes(inv) == avant
    assert not (tmp_path / "resultats.sqlite").exists()
