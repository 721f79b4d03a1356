"""50 hosts, 5 of them unreachable, through the real CLI: maintenance and the workshop finish the 45 others,
name the 5 with their reason, exit with the documented code 1; the workshop's failure threshold stops a batch
before its next step and the store shows which devices were not attempted.

The hosts are real sshd on loopback (127.0.97.1-45, port 22, see parc_boucle.py); 46-49 have no sshd
(connection refused) and 50 accepts TCP but never speaks SSH (a hung host: connection timeout).
The workshop runs with a harmless STAND-IN playbook (``racine_sans_danger``): these hosts are this machine.
For the workshop the hung host is stopped first (it then refuses too): Ansible's 20 s connection timeout on it
would double the test's time; maintenance meets it hung.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess

import pytest

from tests.aide_parc import RACINE
from tests.boucle_sshd import boucle_sshd, manque_prerequis
from tests.fiabilite.parc_boucle import (
    ARDOISE,
    UAI,
    environnement,
    generer_ecole,
    nom_poste,
    racine_sans_danger,
)

pytestmark = pytest.mark.skipif(manque_prerequis() is not None, reason=str(manque_prerequis()))

PREFIXE = "127.0.97"
N, JOIGNABLES = 50, 45
ABSENTS = [nom_poste(i) for i in range(JOIGNABLES + 1, N)]  # no sshd: connection refused
MUET = nom_poste(N)  # TCP accepted, no SSH banner: timeout
INJOIGNABLES = [*ABSENTS, MUET]
POSTES = ",".join(nom_poste(i) for i in range(1, N + 1))


@pytest.fixture(scope="module")
def parc(tmp_path_factory):
    d = tmp_path_factory.mktemp("parc50")
    inventaire = generer_ecole(d, PREFIXE, N)
    muet = socket.socket()
    muet.bind((f"{PREFIXE}.{N}", 22))
    muet.listen(64)  # never accepted: the client waits for a banner that never comes
    with boucle_sshd(JOIGNABLES, prefixe=PREFIXE, port=22) as b:
        yield {"dossier": d, "inventaire": inventaire, "boucle": b, "muet": muet}
    muet.close()


def _ardoise(env, dossier, *args, timeout=900):
    return subprocess.run(
        [ARDOISE, *args], env=env, cwd=dossier, capture_output=True, text=True, timeout=timeout
    )


def test_maintenance_45_finis_5_nommes_code_1(parc):
    d, b = parc["dossier"], parc["boucle"]
    env = environnement(d / "m", parc["inventaire"], b.known_hosts, b.cle, ARDOISE_UTILISATEUR="test")
    (d / "m").mkdir()
    r = _ardoise(env, d / "m", "maintenance", "lancer", "--ecole", UAI, "--verifications",
                 "disque,nom_hote,redemarrage,unites", "--format", "json", "--parallele", "50")  # fmt: skip
    assert r.returncode == 1, r.stderr[-3000:]
    bilan = json.loads(r.stdout)
    assert [(x["uai"], x["appareils"], x["injoignables"]) for x in bilan] == [(UAI, N, 5)]
    for nom in ABSENTS:
        assert (
            f"{nom} : {PREFIXE}.{int(nom[-2:])}:22 ne répond pas (connexion refusée : sshd arrêté ?)"
            in r.stderr
        )
    assert f"{MUET} : {PREFIXE}.{N}:22 ne répond pas (délai de connexion dépassé)" in r.stderr
    with sqlite3.connect(d / "m" / "resultats.sqlite") as c:
        lignes = dict(c.execute("select hote, statut from resultats_hotes"))
        statut_ex = c.execute("select statut from executions").fetchall()
    assert len(lignes) == N and statut_ex == [("termine",)]
    assert sorted(h for h, s in lignes.items() if s == "injoignable") == sorted(INJOIGNABLES)
    assert sum(s == "ok" for s in lignes.values()) == JOIGNABLES
    aide = _ardoise(env, d / "m", "maintenance", "lancer", "--help").stdout
    assert "Code de sortie" in aide and "injoignable" in aide


def _atelier(parc, sous_dossier, *args):
    d, b = parc["dossier"] / sous_dossier, parc["boucle"]
    d.mkdir()
    racine = racine_sans_danger(d)
    env = environnement(d, parc["inventaire"], d / "known_hosts", b.cle, ARDOISE_RACINE=str(racine))
    assert env["ARDOISE_RACINE"].endswith("racine-sans-danger")  # never the real roles on this machine
    # this machine's root PATH may hold a pyenv shim: the loopback "PCs" use Debian's python3 (a site setting)
    (d / "site.yml").write_text("ansible_python_interpreter: /usr/bin/python3\n")
    r = _ardoise(env, d, "atelier", "preparer", "--postes", POSTES, "--utilisateur", "root", "--variables",
                 str(d / "site.yml"), "--parallele", "50", "--format", "json", *args)  # fmt: skip
    return d, r


def _etats(d) -> dict[str, tuple]:
    with sqlite3.connect(d / "resultats.sqlite") as c:
        return {h: (e, etape, raison) for h, e, etape, raison in
                c.execute("select hote, etat, etape, raison from etats_appareils")}  # fmt: skip


def test_atelier_5_injoignables_nommes_seuil_arrete_avant_le_playbook(parc):
    """The workshop's precheck on 50 hosts: the 5 unreachable are named with their reason, the 45 pass it and
    their first-use keys are recorded; 5 failures exceed ``--seuil-echec 3``: the batch stops before the
    playbook, says so, and the store shows the 45 devices not attempted (the continuing path, threshold not
    exceeded, runs in test_parc_cles_hote.py::test_atelier_ansible)."""
    parc["muet"].close()
    d, r = _atelier(parc, "a2", "--seuil-echec", "3")
    assert r.returncode == 1, r.stderr[-3000:]
    lignes = {x["poste"]: x for x in json.loads(r.stdout)}
    assert len(lignes) == N
    for nom in INJOIGNABLES:
        assert lignes[nom]["etat"] == "echec" and lignes[nom]["etape"] == "précontrôle : connexion SSH"
        # a closed port reads « connexion refusée », or « connexion coupée » when ssh's first write races the
        # refusal under load: either way the device is named with its reason
        assert re.match(
            r"poste injoignable en SSH \(connexion (refusée|coupée)[^)]*\) : ", lignes[nom]["raison"]
        )
    # first use recorded in the fleet's known_hosts during the workshop: the 45 keys
    assert len((d / "known_hosts").read_text().splitlines()) == JOIGNABLES
    assert "ARRÊT DU LOT : seuil d'échec dépassé (5 poste(s) en échec sur 50, seuil 3 poste(s))" in r.stderr
    assert "avant la préparation (playbook) ; 45 poste(s) non tenté(s)" in r.stderr
    non_tentes = sorted(n for n, x in lignes.items() if x["etat"] == "non_tente")
    assert non_tentes == sorted(nom_poste(i) for i in range(1, JOIGNABLES + 1))
    etats = _etats(d)
    assert all(etats[n][:2] == ("non_tente", "non tenté : la préparation (playbook)") for n in non_tentes)
    assert all(etats[n][0] == "echec" for n in INJOIGNABLES)
    with sqlite3.connect(d / "resultats.sqlite") as c:
        ((statut, resume),) = c.execute("select statut, resume from executions").fetchall()
    assert statut == "arrete" and json.loads(resume)["non_tentes"] == JOIGNABLES
    assert not list(d.rglob("playbook/artifacts"))  # the playbook never started
    # « atelier etat » shows them (and --reprendre takes them again: every device not « pret »)
    etat = json.loads(_ardoise(dict(environnement(d, parc["inventaire"], d / "known_hosts", d)), d, "atelier",
                               "etat", "--format", "json").stdout)  # fmt: skip
    assert sum(x["etat"] == "non_tente" for x in etat) == JOIGNABLES


def test_atelier_seuil_illisible(parc):
    d, r = _atelier(parc, "a3", "--seuil-echec", "beaucoup")
    assert r.returncode == 2 and "seuil d'échec « beaucoup » illisible" in r.stderr
    assert "Traceback" not in r.stderr and not (d / "resultats.sqlite").exists()


def test_atelier_lot_entierement_injoignable_ne_lance_pas_le_playbook(parc):
    """Every PC of the batch fails the precheck: Ansible is NOT started with an empty host list (that would
    mean every host of the inventory); the vault password given as a path relative to where the technician
    stands (as ``make demo`` does) still reaches Ansible, which runs from its own directory."""
    d, b = parc["dossier"] / "a4", parc["boucle"]
    d.mkdir()
    racine = racine_sans_danger(d)
    (d / "mdp").mkdir()
    (d / "mdp" / "coffre.mdp").write_bytes((RACINE / "inventaire" / "coffre-demo.mdp").read_bytes())
    env = environnement(d, parc["inventaire"], d / "known_hosts", b.cle, ARDOISE_RACINE=str(racine),
                        ARDOISE_COFFRE_MDP="mdp/coffre.mdp")  # fmt: skip
    (d / "site.yml").write_text("ansible_python_interpreter: /usr/bin/python3\n")
    commun = [
        "atelier",
        "preparer",
        "--utilisateur",
        "root",
        "--variables",
        str(d / "site.yml"),
        "--format",
        "json",
    ]
    # a reachable PC and an absent one: the relative vault path works (the precheck passes on the first)
    r = _ardoise(env, d, *commun, "--postes", f"{nom_poste(1)},{ABSENTS[0]}")
    lignes = {x["poste"]: x for x in json.loads(r.stdout)}
    assert lignes[nom_poste(1)]["etape"] != "précontrôle : connexion et droits root", lignes[nom_poste(1)]
    assert lignes[ABSENTS[0]]["etape"] == "précontrôle : connexion SSH"
    # only absent PCs: all fail the precheck, the playbook never starts
    for x in d.rglob("playbook"):
        subprocess.run(["rm", "-rf", str(x)], check=True)
    r = _ardoise(env, d, *commun, "--postes", ",".join(ABSENTS))
    assert r.returncode == 1, r.stderr[-2000:]
    lignes = {x["poste"]: x for x in json.loads(r.stdout)}
    assert sorted(lignes) == sorted(ABSENTS)
    assert all(x["etat"] == "echec" and x["etape"] == "précontrôle : connexion SSH" for x in lignes.values())
    assert not list(d.rglob("playbook/artifacts"))
