"""The workshop on the lab's 3 real PCs: prepare, a host stopped mid-batch, resume, delivery sheet, secrets.

One batch is prepared for real (packages through the lab's apt relay): expect minutes, see
benchmarks/README.md « Atelier ». Tests run in order and share the lab and the results store.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ardoise.atelier.labo import agrandir_disques
from ardoise.inventaire.coffre import reveler
from ardoise.labo import pannes

pytestmark = [pytest.mark.labo, pytest.mark.timeout(2400)]
RACINE = Path(__file__).resolve().parents[3]
ARDOISE = [str(RACINE / ".venv" / "bin" / "ardoise")] if (RACINE / ".venv" / "bin" / "ardoise").exists() else [
    sys.executable, "-m", "ardoise.cli.main"]  # fmt: skip


@pytest.fixture(scope="module")
def atelier(labo, plan_labo, tmp_path_factory):
    """A working dir with its own store, known_hosts and artefacts; the lab PCs' disks grown."""
    agrandir_disques(labo)
    d = tmp_path_factory.mktemp("atelier")
    env = dict(os.environ)
    env.update({
        "ARDOISE_BASE": f"sqlite:///{d / 'resultats.sqlite'}",
        "ARDOISE_KNOWN_HOSTS": str(d / "known_hosts"),
        "ARDOISE_INVENTAIRE": str(RACINE / "inventaire"),
        "ARDOISE_COFFRE_MDP": str(RACINE / "inventaire" / "coffre-demo.mdp"),
        "PATH": f"{RACINE / '.venv' / 'bin'}:{env.get('PATH', '')}",
    })  # fmt: skip
    return {"dossier": d, "env": env, "postes": [p.nom for p in plan_labo.postes], "sorties": []}


def _ardoise(atelier, *args, timeout=1800):
    r = subprocess.run([*ARDOISE, *args], cwd=atelier["dossier"], env=atelier["env"], capture_output=True,
                       text=True, timeout=timeout)  # fmt: skip
    atelier["sorties"] += [r.stdout, r.stderr]
    return r


def _etats(atelier) -> dict[str, str]:
    r = _ardoise(atelier, "atelier", "etat", "--format", "json")
    return {x["poste"]: x for x in json.loads(r.stdout)}


def test_preparer_trois_postes(atelier):
    debut = time.monotonic()
    r = _ardoise(atelier, "atelier", "preparer", "--postes", ",".join(atelier["postes"]), "--labo",
                 "--parallele", "3", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    lignes = json.loads(r.stdout)
    assert {x["poste"]: x["etat"] for x in lignes} == dict.fromkeys(atelier["postes"], "pret")
    # live progress: one line per device and step, from Ansible's events
    for nom in atelier["postes"]:
        assert f"{nom} : ardoise_antivirus : " in r.stderr
    assert all(e["etat"] == "pret" for e in _etats(atelier).values())
    print(f"atelier : 3 postes préparés en {time.monotonic() - debut:.0f} s", file=sys.stderr)


def test_hote_arrete_en_cours_de_lot_puis_reprise(atelier, labo):
    victime, *autres = atelier["postes"]
    proc = subprocess.Popen([*ARDOISE, "atelier", "preparer", "--postes", ",".join(atelier["postes"]), "--labo",
                             "--parallele", "3", "--format", "json"], cwd=atelier["dossier"], env=atelier["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lignes_err = []
    arrete = False
    for ligne in proc.stderr:
        lignes_err.append(ligne)
        if not arrete and ligne.startswith(f"{victime} : ardoise_proxy_client"):
            pannes.arreter_hote(labo, victime)
            arrete = True
    sortie = proc.stdout.read()
    proc.wait(timeout=1800)
    atelier["sorties"] += [sortie, "".join(lignes_err)]
    assert arrete, "la victime n'a jamais atteint le rôle ardoise_proxy_client"
    assert proc.returncode == 1
    etats = {x["poste"]: x for x in json.loads(sortie)}
    assert all(etats[n]["etat"] == "pret" for n in autres), etats
    assert etats[victime]["etat"] == "echec"
    assert etats[victime]["etape"].startswith("préparation : ")
    assert "injoignable" in etats[victime]["raison"].lower() or "ssh" in etats[victime]["raison"].lower()
    assert _etats(atelier)[victime]["etat"] == "echec"

    pannes.demarrer_hote(labo, victime)
    r = _ardoise(atelier, "atelier", "preparer", "--postes", ",".join(atelier["postes"]), "--labo",
                 "--reprendre", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert [x["poste"] for x in json.loads(r.stdout)] == [victime]  # only what failed is redone
    assert all(e["etat"] == "pret" for e in _etats(atelier).values())


def test_verifier_ne_change_rien(atelier):
    r = _ardoise(atelier, "atelier", "verifier", "--postes", ",".join(atelier["postes"]), "--labo",
                 "--format", "json", timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    assert "ardoise_socle" not in r.stderr  # no playbook


def test_fiche_de_livraison(atelier, ecole_labo):
    d = atelier["dossier"]
    for fmt in ("html", "pdf", "csv"):
        r = _ardoise(
            atelier,
            "atelier",
            "fiche",
            "--ecole",
            ecole_labo.uai,
            "--format",
            fmt,
            "-o",
            str(d / f"fiche.{fmt}"),
        )
        assert r.returncode == 0, r.stderr
    csv = (d / "fiche.csv").read_text()
    for nom in atelier["postes"]:
        assert nom in csv
    assert "Firefox ESR" in csv
    html = (d / "fiche.html").read_text()
    assert "Bon de livraison" in html and ecole_labo.uai in html
    if shutil.which("pdftoppm") and shutil.which("zbarimg"):
        subprocess.run(["pdftoppm", "-r", "150", "-png", d / "fiche.pdf", d / "page"], check=True)
        pages = sorted(d.glob("page*.png"))
        lu = subprocess.run(["zbarimg", "-q", *pages], capture_output=True, text=True).stdout
        for nom in atelier["postes"]:
            assert f"HOTE:{nom}" in lu


def test_aucun_secret_nulle_part(atelier, territoire_exemple):
    """The admin password and the Wi-Fi PSKs appear in no output, log file, artefact or the store."""
    noms = ["admin_postes_mdp", "wifi_0331101t_classe", "wifi_0331101t_invites"]
    secrets = [s.reveler() for s in reveler(territoire_exemple.fichier_coffre, noms).values()]
    textes = list(atelier["sorties"])
    for f in atelier["dossier"].rglob("*"):
        if f.is_file() and f.suffix not in (".png", ".pdf", ".sqlite", ".sqlite-wal", ".sqlite-shm"):
            textes.append(f.read_text(errors="replace"))
    base = atelier["dossier"] / "resultats.sqlite"
    with sqlite3.connect(base) as c:
        for (table,) in c.execute("select name from sqlite_master where type='table'"):
            textes += [repr(ligne) for ligne in c.execute(f"select * from {table}")]  # noqa: S608
    textes += [p.read_bytes().decode("latin-1") for p in atelier["dossier"].glob("*.sqlite*")]
    journaux = Path(labo_journaux := "/run/ardoise-labo/journaux")
    if journaux.exists():
        textes += [
            f.read_text(errors="replace")
            for f in journaux.rglob("*")
            if f.is_file() and f.stat().st_size < 50_000_000
        ]
    assert labo_journaux
    assert len(textes) > 20
    for s in secrets:
        assert all(s not in t for t in textes)
