"""Shared helpers of the tablet tests (unit and integration)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

RACINE = Path(__file__).resolve().parents[1]
UAI = "0331101T"  # Jean-Jaurès: 4 Android tablets, 3 iPads, a wifi-eleves VLAN
MDP_COFFRE = RACINE / "inventaire" / "coffre-demo.mdp"
APK_DPC = RACINE / "inventaire" / "dpc" / "hmdm-demo.apk"


def decoder_qr(image: Path) -> list[str]:
    """Every QR payload zbarimg finds in ``image``."""
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg manque : paquet Debian zbar-tools (make installer)"
    r = subprocess.run([zbarimg, "--quiet", "--raw", str(image)], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # one symbol per line (the payloads are one-line, ASCII-only JSON: no charset guessing involved)
    return [ligne for ligne in r.stdout.decode("ascii").split("\n") if ligne]


def faux_apk(chemin: Path, paquet: str) -> Path:
    """A tiny zip standing for an APK (the adb stand-in only checks the zip magic)."""
    import zipfile

    chemin.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(chemin, "w") as z:
        z.writestr("FAUX-APK-DE-TEST.txt", f"paquet {paquet} : fichier de test, pas une application\n")
    return chemin
