"""``ardoise tablettes …`` through the installed entry point: files written, exit codes, and the PSK
nowhere but in the QR codes / device payloads (stdout, stderr with -v, HTML, results store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ardoise.inventaire.territoire import Territoire
from ardoise.profils.resolution import profil_effectif
from ardoise.tablettes.appareils import tablettes_android
from tests.aide_tablettes import MDP_COFFRE, RACINE, UAI, decoder_qr, faux_apk
from tests.doublures.adb_serveur import ServeurAdbDoublure, Tablette

ARDOISE = str(Path(sys.executable).parent / "ardoise")


def ardoise(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, ARDOISE_COFFRE_MDP=str(MDP_COFFRE), **(env or {}))
    e.pop("ARDOISE_INVENTAIRE", None)
    return subprocess.run([ARDOISE, *args], cwd=RACINE, capture_output=True, text=True, env=e, timeout=300)


def test_qr_feuille_png_pdf_html(tmp_path: Path, psk: str):
    r = ardoise("tablettes", "qr", "--ecole", UAI.lower(), "--format", "png", "--format", "pdf",
                "--format", "html", "--sortie", str(tmp_path), "-v")  # fmt: skip
    assert r.returncode == 0, r.stderr
    fichiers = [Path(x) for x in r.stdout.split()]
    assert {f.suffix for f in fichiers} == {".png", ".pdf", ".html"} and all(f.is_file() for f in fichiers)
    assert "4 code(s) QR" in r.stderr and "CLASSE-JEAN-JAURES" in r.stderr
    assert psk not in r.stdout + r.stderr
    assert psk not in next(f for f in fichiers if f.suffix == ".html").read_text()
    codes = [json.loads(t) for f in fichiers if f.suffix == ".png" for t in decoder_qr(f)]
    assert len(codes) == 4 and all(c["android.app.extra.PROVISIONING_WIFI_PASSWORD"] == psk for c in codes)


def test_qr_ecole_inconnue(tmp_path: Path):
    r = ardoise("tablettes", "qr", "--ecole", "0339999Z", "--sortie", str(tmp_path))
    assert r.returncode == 2 and "école « 0339999Z » inconnue" in r.stderr and "Traceback" not in r.stderr


def test_ipad_profil_signe(tmp_path: Path, psk: str):
    r = ardoise("tablettes", "ipad", "certificat-demo", "--sortie", str(tmp_path / "cert"))
    assert r.returncode == 0, r.stderr
    cert, cle = r.stdout.split()
    r = ardoise("tablettes", "ipad", "profil", "--ecole", UAI, "--signer", cert, "--cle", cle,
                "--sortie", str(tmp_path), "-v")  # fmt: skip
    assert r.returncode == 0, r.stderr
    noms = sorted(Path(x).name for x in r.stdout.split())
    assert noms == ["appliquer-cfgutil.sh", "ipad.mobileconfig", "ipad.signe.mobileconfig"]
    assert psk not in r.stdout + r.stderr and "signés par" in r.stderr
    signe = tmp_path / f"ipad-{UAI.lower()}" / "ipad.signe.mobileconfig"
    v = subprocess.run(["openssl", "smime", "-verify", "-inform", "DER", "-noverify", "-in", str(signe)],
                       capture_output=True, timeout=60)  # fmt: skip
    assert v.returncode == 0, v.stderr


def test_adb_preparer_avec_la_doublure(tmp_path: Path, territoire: Territoire, psk: str):
    ecole = territoire.ecole(UAI)
    for poste in tablettes_android(ecole):
        for a in profil_effectif(territoire, ecole, poste).applications:
            if a.installation:
                faux_apk(tmp_path / "apk" / f"{a.installation}.apk", a.installation)
    base = tmp_path / "resultats.sqlite"
    connue, inconnue = Tablette("R9TW110000"), Tablette("ZZ00INCONNU")
    with ServeurAdbDoublure([connue, inconnue]) as serveur:
        r = ardoise("tablettes", "adb", "preparer", "--apk", str(tmp_path / "apk"), "--adb-port", str(serveur.port),
                    "--format", "json", "-v", env={"ARDOISE_BASE": f"sqlite:///{base}"})  # fmt: skip
    assert r.returncode == 1, r.stderr  # a refused device is a problem to look at
    lignes = {x["numero_serie"]: x for x in json.loads(r.stdout)}
    assert lignes["R9TW110000"]["statut"] == "ok" and lignes["R9TW110000"]["hote"] == "tab-jean-jaures-01"
    assert lignes["ZZ00INCONNU"]["statut"] == "refuse" and inconnue.installations == []
    assert connue.reseaux_wifi[0]["psk"] == psk  # the device did get the key...
    assert psk not in r.stdout + r.stderr  # ...and nothing printed it
    for f in tmp_path.glob("resultats.sqlite*"):  # database, WAL and shared memory files
        assert psk.encode() not in f.read_bytes(), f
    assert "exécution n°" in r.stderr
