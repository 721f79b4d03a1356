"""A test territory whose every vault secret is a unique canary, and the search for those canaries.

:func:`territoire_canari` copies the example territory (``inventaire/``, ``profils_terminaux/``) and
re-encrypts its vault with a fresh password so that EVERY secret (switch passwords, SNMP keys, Wi-Fi PSKs,
the local admin password, GLPI tokens when asked) holds its own random value. Canaries are 20 letters drawn
from G–Z (never hexadecimal, never a French word), so neither a vault ciphertext, a hash nor ordinary text
can contain one of their 8-character fragments by chance: any hit is a leak.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
ALPHABET = "GHJKLMNPQRSTUVWXYZ"
LONGUEUR = 20
FRAGMENT = 8  # the shortest piece of a canary that still counts as a leak


@dataclass
class TerritoireCanari:
    racine: Path  # holds inventaire/ and profils_terminaux/
    mot_de_passe: Path  # the vault password file
    canaris: dict[str, str]  # vault name -> clear value

    @property
    def inventaire(self) -> Path:
        return self.racine / "inventaire"


def canari() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LONGUEUR))


def chiffrer_coffre(fichier: Path, mot_de_passe: Path, valeurs: dict[str, str]) -> None:
    """Write ``fichier`` as a vault of per-value ``!vault`` entries (ansible-vault ``encrypt_string``)."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(mot_de_passe.read_bytes().strip()))])
    texte = ["# Coffre de test : chaque secret est un canari unique.\n"]
    for nom, valeur in valeurs.items():
        chiffre = vault.encrypt(valeur).decode()
        texte.append(f"{nom}: !vault |\n" + "".join(f"          {ligne}\n" for ligne in chiffre.splitlines()))
    fichier.write_text("".join(texte), encoding="utf-8")


def territoire_canari(racine: Path, secrets_en_plus: tuple[str, ...] = ()) -> TerritoireCanari:
    """Copy the example territory into ``racine`` and give every vault secret a unique canary."""
    from ardoise.inventaire.coffre import textes_chiffres

    for dossier in ("inventaire", "profils_terminaux"):
        shutil.copytree(RACINE / dossier, racine / dossier)
    mdp = racine / "inventaire" / "coffre-demo.mdp"
    mdp.write_text(f"mdp-coffre-de-test-{secrets.token_hex(12)}\n")
    noms = sorted(textes_chiffres(RACINE / "inventaire" / "coffre.yml")) + list(secrets_en_plus)
    valeurs = {nom: canari() for nom in noms}
    assert len(set(valeurs.values())) == len(valeurs)
    chiffrer_coffre(racine / "inventaire" / "coffre.yml", mdp, valeurs)
    return TerritoireCanari(racine, mdp, valeurs)


def fragments(valeurs: dict[str, str]) -> dict[str, str]:
    """Every 8-character window of every canary -> the secret's name (a longer leak contains one)."""
    return {v[i : i + FRAGMENT]: nom for nom, v in valeurs.items() for i in range(len(v) - FRAGMENT + 1)}


def fuites(texte: str | bytes, valeurs: dict[str, str]) -> set[str]:
    """Names of the secrets whose clear value (or an 8-character piece of it) occurs in ``texte``."""
    if isinstance(texte, bytes):
        texte = texte.decode("latin-1")  # byte-exact: an ASCII canary is found in any encoding of it
    return {nom for frag, nom in fragments(valeurs).items() if frag in texte}


def textes_sqlite(fichier: Path) -> list[tuple[str, str]]:
    """(where, text) for a SQLite store: its raw bytes (and WAL) and every row of every table."""
    sortie = [(str(fichier), fichier.read_bytes().decode("latin-1"))]
    wal = fichier.with_name(fichier.name + "-wal")
    if wal.exists():
        sortie.append((str(wal), wal.read_bytes().decode("latin-1")))
    with sqlite3.connect(f"file:{fichier}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            lignes = db.execute(f'select * from "{table}"').fetchall()
            sortie.append((f"{fichier}:{table}", "\n".join(repr(ligne) for ligne in lignes)))
    return sortie


def textes_git(depot: Path) -> list[tuple[str, str]]:
    """(where, text) for a git repository: every object's content and ``git log -p --all``."""
    git = ["git", "-C", str(depot)]
    objets = subprocess.run(
        [*git, "cat-file", "--batch-all-objects", "--batch"], capture_output=True, check=True
    )
    journal = subprocess.run([*git, "log", "-p", "--all"], capture_output=True, check=True)
    return [
        (f"{depot} (objets git)", objets.stdout.decode("latin-1")),
        (f"{depot} (git log -p)", journal.stdout.decode("latin-1")),
    ]
