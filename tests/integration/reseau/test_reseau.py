"""ardoise reseau against real SSH peers: the lab's switch emulators on loopback, driven by netmiko (no mocks)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time

from ardoise.labo.emulateur import envoyer_instruction
from ardoise.reseau import operations
from ardoise.resultats.forme import StatutHote
from tests.integration.reseau.conftest import NOMS, Banc, running

ECOLES = ("--ecole", "0331101T", "--ecole", "0331102U")  # the schools of NOMS


def test_drift_is_reported_fixed_and_apply_is_idempotent(banc_derive: Banc) -> None:
    b = banc_derive
    r = b.ardoise("reseau", "conformite", *ECOLES, "--perimetre", "commutation", "--format", "json")
    assert r.returncode == 1, r.stderr
    rapport = {d["equipement"]: d for d in json.loads(r.stdout)}
    assert set(rapport) == set(NOMS)
    for nom, d in rapport.items():
        texte = "\n".join(d["verifications"])
        # the emulator re-creates VLAN 20 with its default name (a port still uses it), as real switches do
        assert "VLAN 20 nommé « VLAN" in texte and "au lieu de « ADMINISTRATIF »" in texte, (nom, texte)
        assert "VLAN 77 (INTRUS) présent mais absent du manifeste" in texte, (nom, texte)
        assert "VLAN 10 nommé « PEDAGO-ANCIEN » au lieu de « PEDAGOGIQUE »" in texte, (nom, texte)
        assert "Prise salle 1-1" in texte and "Prise salle 1-2" in texte, (nom, texte)  # descriptions
        assert "manquant sur l'équipement" in texte
        assert d["details"]["conforme"] is False
    for nom in NOMS:  # progress line per device on stderr
        assert f"{nom} : non conforme" in r.stderr

    r = b.ardoise("reseau", "appliquer", *ECOLES, "--perimetre", "commutation", "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(d["statut"] == "ok" and d["change"] == "oui" for d in json.loads(r.stdout))

    r = b.ardoise("reseau", "conformite", *ECOLES, "--perimetre", "commutation", "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(d["details"]["conforme"] for d in json.loads(r.stdout))

    r = b.ardoise("reseau", "appliquer", *ECOLES, "--perimetre", "commutation", "--format", "json")
    assert r.returncode == 0
    assert all(d["change"] == "non" and "rien à envoyer" in d["detail"] for d in json.loads(r.stdout))

    with sqlite3.connect(b.dossier / "resultats.sqlite") as db:
        actions = [a for (a,) in db.execute("select action from evenements order by id")]
    assert actions.count("reseau.application") == 3  # the second apply changed nothing: not journaled


def test_backup_store_one_commit_per_run_none_when_unchanged(banc: Banc) -> None:
    r = banc.ardoise("reseau", "sauvegarder", *ECOLES, "--format", "json")
    assert r.returncode == 0, r.stderr
    r = banc.ardoise("reseau", "sauvegarder", *ECOLES, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert "rien de nouveau, aucun commit" in r.stderr
    git = ["git", "-C", str(banc.dossier / "sauvegardes")]
    assert (
        subprocess.run([*git, "rev-list", "--count", "HEAD"], capture_output=True, text=True).stdout.strip()
        == "1"
    )
    fichiers = subprocess.run([*git, "ls-files"], capture_output=True, text=True).stdout.split()
    assert fichiers == sorted(["bellerive/0331101T/sw-jean-jaures-1.cfg", "bellerive/0331101T/sw-jean-jaures-2.cfg",
                               "bellerive/0331102U/sw-les-tilleuls-1.cfg"])  # fmt: skip


def test_mid_push_failure_ends_in_the_backed_up_state(banc_derive: Banc) -> None:
    b = banc_derive
    avant = {n: running(b, n) for n in NOMS}
    for nom in NOMS:
        envoyer_instruction(b.emules[nom].controle, "couper_apres 3")
    ctx = b.contexte()
    resultats = operations.appliquer(ctx, b.cibles(), dossier_attente=b.dossier / "en-attente")
    for r in resultats:
        assert r.statut is StatutHote.echec, (r.hote, r.raison)
        assert r.etape == "envoi", (r.hote, r.etape, r.raison)
        assert f"{r.hote} : échec à l'étape « envoi »" in r.raison
        assert "retour arrière effectué, état sauvegardé rétabli" in r.raison, r.raison
        assert r.details["retour_arriere"]["reussi"] is True
    for nom in NOMS:
        assert running(b, nom) == avant[nom], nom  # exactly the backed-up state


def test_unconfirmed_change_rolls_back_confirmed_one_stays(banc_derive: Banc) -> None:
    b = banc_derive
    avant = {n: running(b, n) for n in NOMS}
    attente = b.dossier / "en-attente"
    ctx = b.contexte()
    # the timer runs from the first pending change: the delay leaves time for the CLI confirmation below
    resultats = operations.appliquer(ctx, b.cibles(), confirmer_dans=20, dossier_attente=attente)
    assert all(r.change and "en attente de confirmation" in r.raison for r in resultats)
    for nom in NOMS:
        assert running(b, nom) != avant[nom]
    confirme = "sw-jean-jaures-2"
    r = b.ardoise("reseau", "confirmer", "--equipement", confirme, "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)[0]["detail"] == "confirmé et enregistré"
    limite = time.monotonic() + 60
    while any(attente.glob("*.json")) and time.monotonic() < limite:
        time.sleep(0.5)
    assert not any(attente.glob("*.json")), (attente / "minuteur.log").read_text()
    for nom in NOMS:
        if nom == confirme:
            assert running(b, nom) != avant[nom]
        else:
            assert running(b, nom) == avant[nom], (nom, (attente / "minuteur.log").read_text())
    r = b.ardoise("reseau", "conformite", *ECOLES, "--perimetre", "commutation", "--equipement", confirme)
    assert r.returncode == 0, r.stdout
    with sqlite3.connect(b.dossier / "resultats.sqlite") as db:
        evenements = db.execute("select action, cible, resultat from evenements order by id").fetchall()
    assert ("reseau.confirmation", confirme, "ok") in evenements
    assert {c for a, c, res in evenements if a == "reseau.retour_arriere" and res == "retour_arriere"} == set(
        NOMS
    ) - {confirme}


def test_unreachable_switch_is_reported_and_others_proceed(banc: Banc) -> None:
    donnees = json.loads(banc.acces.read_text())
    donnees["sw-jean-jaures-2"] = {"adresse": "127.0.93.254", "port": 9}  # nothing listens there
    banc.acces.write_text(json.dumps(donnees))
    r = banc.ardoise("reseau", "appliquer", *ECOLES, "--perimetre", "commutation", "--format", "json")
    assert r.returncode == 1
    par_nom = {d["equipement"]: d for d in json.loads(r.stdout)}
    assert par_nom["sw-jean-jaures-2"]["statut"] == "injoignable"
    assert "injoignable à 127.0.93.254:9" in par_nom["sw-jean-jaures-2"]["detail"]
    assert par_nom["sw-jean-jaures-1"]["statut"] == "ok" and par_nom["sw-les-tilleuls-1"]["statut"] == "ok"


def test_restore_a_saved_version(banc_derive: Banc) -> None:
    b = banc_derive
    avant = running(b, "sw-jean-jaures-1")
    assert b.ardoise("reseau", "sauvegarder", "--equipement", "sw-jean-jaures-1").returncode == 0
    r = b.ardoise("reseau", "historique", "--equipement", "sw-jean-jaures-1", "--format", "json")
    version = json.loads(r.stdout)[0]["version"]
    assert (
        b.ardoise(
            "reseau", "appliquer", "--perimetre", "commutation", "--equipement", "sw-jean-jaures-1"
        ).returncode
        == 0
    )
    assert running(b, "sw-jean-jaures-1") != avant
    r = b.ardoise("reseau", "restaurer", "--equipement", "sw-jean-jaures-1", "--version", version,
                  "--perimetre", "commutation", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert running(b, "sw-jean-jaures-1") == avant


def test_no_secret_in_outputs_backups_store_or_state(banc_derive: Banc, valeurs_secretes: list[str]) -> None:
    b = banc_derive
    sorties = []
    for args in (["generer"], ["sauvegarder", *ECOLES], ["diff", *ECOLES], ["diff", "--perimetre", "commutation", *ECOLES],
                 ["conformite", "--format", "json", *ECOLES], ["appliquer", "--essai", "--format", "json", *ECOLES],
                 ["appliquer", "--perimetre", "commutation", "--confirmer-dans", "1h", "-v", *ECOLES],
                 ["confirmer", *ECOLES], ["historique", "--equipement", "sw-jean-jaures-1"]):  # fmt: skip
        r = b.ardoise("reseau", *args)
        assert "Traceback" not in r.stderr, r.stderr
        sorties.append(r.stdout + r.stderr)
    depot = b.dossier / "sauvegardes"
    sorties.append(
        subprocess.run(["git", "-C", str(depot), "log", "-p", "--all"], capture_output=True, text=True).stdout
    )
    # every file Ardoise wrote (the emulators' own JSON configs hold the password: test rig, not output)
    sorties += [p.read_text(errors="replace") for p in b.dossier.rglob("*")
                if p.is_file() and not p.name.startswith("emu-") and p.suffix not in (".sqlite", ".ctl")]  # fmt: skip
    with sqlite3.connect(b.dossier / "resultats.sqlite") as db:
        for table in ("executions", "resultats_hotes", "evenements", "verifications"):
            sorties += [repr(ligne) for ligne in db.execute(f"select * from {table}")]
    tout = "\n".join(sorties)
    assert "username ardoise privilege 15 secret ********" in tout or "appliqué" in tout
    for valeur in valeurs_secretes:
        assert valeur not in tout
