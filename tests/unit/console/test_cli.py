"""``ardoise console utilisateur ajouter|desactiver|lister`` through the entry point, and the password policy."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ardoise.cli.main import app
from ardoise.console import comptes
from tests.unit.console.conftest import MDP

runner = CliRunner()


def _cli(base, *args, entree=None):
    return runner.invoke(app, ["console", "utilisateur", *args, "--base", base], input=entree)


@pytest.mark.parametrize(("mdp", "message"), [
    ("court", "trop court"),
    ("motdepasse123", "trop courant"),
    ("Azertyuiop!!", "trop courant"),
    ("aaaaaaaaaaaaaaaa", "trop courant"),
    ("x" * 129, "trop long"),
    ("alice-au-pays-des-merveilles", "identifiant"),
])  # fmt: skip
def test_politique_des_mots_de_passe(mdp, message):
    with pytest.raises(comptes.ErreurCompte, match=message):
        comptes.verifier_mot_de_passe(mdp, "alice")


def test_ajouter_lister_desactiver(tmp_path, modele):
    base = f"sqlite:///{tmp_path}/r.sqlite"
    inv = ["--inventaire", str(modele[0])]
    r = _cli(base, "ajouter", "alice", "--role", "admin-commune", "--commune", "bellerive", "--mot-de-passe-stdin",
             *inv, entree=MDP + "\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "compte « alice » créé : admin-commune (bellerive)" in r.output
    r = _cli(base, "ajouter", "alice", "--role", "lecteur", "--commune", "bellerive", "--mot-de-passe-stdin", *inv,
             entree=MDP + "\n")  # fmt: skip
    assert r.exit_code == 2 and "existe déjà" in r.output
    r = _cli(
        base,
        "ajouter",
        "bob",
        "--role",
        "technicien-commune",
        "--mot-de-passe-stdin",
        *inv,
        entree=MDP + "\n",
    )
    assert r.exit_code == 2 and "au moins une commune" in r.output
    r = _cli(base, "ajouter", "bob", "--role", "chef", "--commune", "bellerive", "--mot-de-passe-stdin", *inv,
             entree=MDP + "\n")  # fmt: skip
    assert r.exit_code == 2 and "rôle « chef » inconnu" in r.output
    r = _cli(base, "lister", "--format", "json")
    assert r.exit_code == 0 and '"identifiant": "alice"' in r.stdout and MDP not in r.stdout
    assert "argon2" not in r.stdout
    r = _cli(base, "desactiver", "alice")
    assert r.exit_code == 0 and "désactivé" in r.output
    r = _cli(base, "desactiver", "alice")
    assert r.exit_code == 0 and "déjà désactivé : rien à faire" in r.output
    r = _cli(base, "desactiver", "personne")
    assert r.exit_code == 2 and "compte « personne » inconnu" in r.output


def test_servir_refuse_http_local_hors_boucle():
    r = runner.invoke(app, ["console", "servir", "--http-local", "--hote", "0.0.0.0"])
    assert r.exit_code == 2 and "boucle locale" in r.output
