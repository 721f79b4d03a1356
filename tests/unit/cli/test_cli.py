"""The CLI through its real entry point (the installed ``ardoise`` script), on the example territory."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RACINE = Path(__file__).resolve().parents[3]
ARDOISE = str(Path(sys.executable).parent / "ardoise")


def ardoise(*args: str, cwd: Path = RACINE, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, **(env or {}))
    e.pop("ARDOISE_INVENTAIRE", None)
    return subprocess.run([ARDOISE, *args], cwd=cwd, capture_output=True, text=True, env=e, timeout=120)


@pytest.fixture
def copie(tmp_path: Path) -> Path:
    shutil.copytree(RACINE / "inventaire", tmp_path / "inventaire")
    shutil.copytree(RACINE / "profils_terminaux", tmp_path / "profils_terminaux")
    return tmp_path / "inventaire"


def test_valider_exemple_sans_erreur():
    r = ardoise("inventaire", "valider", "inventaire")
    assert r.returncode == 0, r.stderr
    assert "manifeste valide : 3 communes, 6 écoles" in r.stderr
    assert r.stdout == ""


def test_valider_signale_chaque_probleme_avec_fichier_ligne_et_correction(copie: Path):
    ecole = copie / "communes/bellerive/ecoles/0331101t-jean-jaures.yml"
    texte = ecole.read_text()
    texte = texte.replace("adresse: 10.11.10.12\n", "adresse: 10.11.20.12\n", 1)
    texte = texte.replace(
        "nom: Groupe scolaire Jean-Jaurès", "nom: Groupe scolaire Jean-Jaurès\nadrese: x", 1
    )
    ecole.write_text(texte)
    avant = {p: p.stat().st_mtime_ns for p in copie.rglob("*")}
    r = ardoise("inventaire", "valider", str(copie))
    assert r.returncode == 1
    lignes = texte.splitlines()
    n_cle = next(i for i, ligne in enumerate(lignes, 1) if ligne.startswith("adrese:"))
    assert (
        f"0331101t-jean-jaures.yml:{n_cle}:1: erreur: clé inconnue « adrese » (vouliez-vous dire « adresse » ?)"
        in r.stdout
    )
    assert "correction :" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    assert {p: p.stat().st_mtime_ns for p in copie.rglob("*")} == avant  # nothing written


def test_valider_json_donne_la_meme_liste_en_donnees(copie: Path):
    ecole = copie / "communes/castelnau/ecoles/0333302k-le-lac.yml"
    ecole.write_text(ecole.read_text().replace("uai: 0333302K", "uai: 0333302A"))
    r = ardoise("inventaire", "valider", str(copie), "--format", "json")
    assert r.returncode == 1
    problemes = json.loads(r.stdout)
    assert problemes[0]["fichier"].endswith("0333302k-le-lac.yml")
    assert problemes[0]["gravite"] == "erreur"
    assert "« K »" in problemes[0]["message"]
    assert set(problemes[0]) == {"fichier", "ligne", "colonne", "gravite", "message", "correction", "regle"}


def test_valider_chemin_inexistant_est_une_erreur_d_usage(tmp_path: Path):
    r = ardoise("inventaire", "valider", str(tmp_path / "rien"))
    assert r.returncode == 2
    assert "n'est pas un inventaire Ardoise" in r.stderr


def test_lister_filtre_par_commune_type_et_etat_en_json():
    r = ardoise(
        "inventaire",
        "lister",
        "--commune",
        "bellerive",
        "--type",
        "pc",
        "--etat",
        "atelier",
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    postes = json.loads(r.stdout)
    assert {p["nom"] for p in postes} == {f"pc-jean-jaures-0{i}" for i in (3, 4, 5, 6)}
    assert all(p["commune"] == "bellerive" and p["type"] == "pc" for p in postes)


def test_lister_provenance_dit_d_ou_vient_chaque_valeur():
    r = ardoise(
        "inventaire", "lister", "--ecole", "0331101T", "--type", "serveur", "--provenance", "--format", "json"
    )
    politique = json.loads(r.stdout)[0]["politique"]
    assert politique["proxy.adresse"] == {"valeur": "10.11.50.10", "source": "ecole:0331101T"}
    assert politique["navigateur.extensions_autorisees"]["source"] == "commune:bellerive"
    assert politique["ntp"]["source"] == "territoire"
    assert politique["comptes.mot_de_passe_administrateur"]["valeur"] == {"coffre": "admin_postes_mdp"}


def test_lister_ecole_inconnue_propose_la_bonne():
    r = ardoise("inventaire", "lister", "--ecole", "0331101X")
    assert r.returncode == 2
    assert "vouliez-vous dire « 0331101T »" in r.stderr


def test_exporter_csv_et_ansible():
    r = ardoise("inventaire", "exporter", "--vers", "csv", "--commune", "saint-aubin")
    lignes = list(csv.DictReader(io.StringIO(r.stdout), delimiter=";"))
    assert lignes and all(ligne["commune"] == "saint-aubin" for ligne in lignes)
    r = ardoise("inventaire", "exporter", "--vers", "ansible")
    inv = json.loads(r.stdout)
    assert "ecole_0331101t" in inv["commune_bellerive"]["children"]
    assert len(inv["_meta"]["hostvars"]) == 99
    coffre = inv["all"]["vars"]["ardoise_coffre"]
    assert coffre["admin_postes_mdp"]["__ansible_vault"].startswith("$ANSIBLE_VAULT;1.1;AES256")
    r = ardoise("inventaire", "exporter", "--vers", "xml")
    assert r.returncode == 2 and "json, csv ou ansible" in r.stderr


def test_profils_resoudre_montre_l_origine():
    r = ardoise("profils", "resoudre", "pc-jean-jaures-10", "--format", "json")
    pe = json.loads(r.stdout)
    sources = {a["id"]: a["source"] for a in pe["applications"]}
    assert sources["firefox-esr"] == "profil:pc-base"
    assert sources["tuxmath"] == "ecole:0331101T"  # the school adds it to pc-eleve
    assert sources["geogebra"].startswith("demande:d-11-01")  # approved for CM2
    assert "scratch" not in sources  # request still "demandee"
    assert pe["chaine"] == ["pc-base", "pc-eleve", "pc-eleve-primtux"]
    assert pe["parametres"]["session_ephemere"] == {"valeur": True, "source": "profil:pc-eleve"}


def test_profils_lister_csv():
    r = ardoise("profils", "lister", "--format", "csv")
    lignes = {ligne["profil"]: ligne for ligne in csv.DictReader(io.StringIO(r.stdout), delimiter=";")}
    assert lignes["pc-eleve-primtux"]["chaine"] == "pc-base > pc-eleve > pc-eleve-primtux"
    assert int(lignes["tablette-android"]["appareils"]) == 19


def test_labo_sans_root_dit_pourquoi():
    if os.geteuid() != 0:
        r = ardoise("labo", "etat")
    else:
        r = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ARDOISE, "labo", "demarrer"],
            cwd=RACINE, capture_output=True, text=True, timeout=60,
            env=dict(os.environ, HOME="/tmp", XDG_CACHE_HOME="/tmp/ardoise-cache-nobody"),
        )  # fmt: skip
    assert r.returncode == 2, r.stdout + r.stderr
    assert "root" in r.stderr
    assert "Traceback" not in r.stderr
