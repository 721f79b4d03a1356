"""Switch emulators on loopback for the example territory's switches, and a private workspace per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.coffre import reveler, textes_chiffres
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.reseau.execution import Contexte
from ardoise.reseau.plateformes import Perimetre
from ardoise.reseau.rendu import Cible, cibles
from ardoise.reseau.sauvegarde import Depot
from ardoise.resultats.magasin import Magasin
from tests.integration.reseau.emulateurs import (
    MDP_COFFRE,
    RACINE,
    Emule,
    Processus,
    config_emulateur,
    ecrire_acces,
)

pytest.importorskip("fake_switches")

# one switch per platform, from two schools of the example territory
NOMS = ("sw-jean-jaures-1", "sw-jean-jaures-2", "sw-les-tilleuls-1")
ARDOISE = str(Path(sys.executable).parent / "ardoise")


@pytest.fixture(scope="session")
def territoire() -> Territoire:
    return charger(RACINE / "inventaire")


@pytest.fixture(scope="session")
def valeurs_secretes(territoire: Territoire) -> list[str]:
    """Every clear value of the demo vault (for the grep tests)."""
    secrets = reveler(
        territoire.fichier_coffre, sorted(textes_chiffres(territoire.fichier_coffre)), MDP_COFFRE
    )
    return [s.reveler() for s in secrets.values()]


@dataclass
class Banc:
    """A workspace: emulators for NOMS, an access file, a backup store, a results store, a state dir."""

    territoire: Territoire
    dossier: Path
    emules: dict[str, Emule]
    processus: Processus
    acces: Path
    env: dict[str, str]

    def cibles(self, noms: tuple[str, ...] = NOMS) -> list[Cible]:
        return [c for c in cibles(self.territoire, Selection()) if c.nom in noms]

    def contexte(self, perimetre: Perimetre = Perimetre.commutation) -> Contexte:
        return Contexte(self.territoire, perimetre, Depot(self.dossier / "sauvegardes"),
                        Magasin(self.env["ARDOISE_BASE"]), fichier_acces=self.acces, delai=5, delai_lecture=6)  # fmt: skip

    def ardoise(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([ARDOISE, *args], capture_output=True, text=True, env=self.env, cwd=self.dossier,
                              timeout=300)  # fmt: skip


def _banc(territoire: Territoire, tmp_path: Path, derive: bool) -> Iterator[Banc]:
    par_nom = {c.nom: c for c in cibles(territoire, Selection())}
    configs = [config_emulateur(territoire, par_nom[n].commutateur, tmp_path, derive=derive) for n in NOMS]
    processus = Processus([c for c, _ in configs], tmp_path)
    emules = {e.nom: e for _, e in configs}
    acces = ecrire_acces(list(emules.values()), tmp_path / "acces.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARDOISE_")}
    env.update({
        "ARDOISE_INVENTAIRE": str(RACINE / "inventaire"), "ARDOISE_COFFRE_MDP": str(MDP_COFFRE),
        "ARDOISE_BASE": f"sqlite:///{tmp_path / 'resultats.sqlite'}",
        "ARDOISE_RESEAU_SAUVEGARDES": str(tmp_path / "sauvegardes"),
        "ARDOISE_RESEAU_ETAT": str(tmp_path / "en-attente"), "ARDOISE_RESEAU_ACCES": str(acces),
        "ARDOISE_KNOWN_HOSTS": str(tmp_path / "known_hosts"),  # first session records the keys here
        "COLUMNS": "200",
    })  # fmt: skip
    anciens = {k: os.environ.get(k) for k in env if k.startswith("ARDOISE_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("ARDOISE_")})
    try:
        yield Banc(territoire, tmp_path, emules, processus, acces, env)
    finally:
        processus.arreter()
        for k, v in anciens.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def banc(territoire: Territoire, tmp_path: Path) -> Iterator[Banc]:
    """Emulators in the manifest's state except for the hostname (drift is tested with ``banc_derive``)."""
    yield from _banc(territoire, tmp_path, derive=False)


@pytest.fixture
def banc_derive(territoire: Territoire, tmp_path: Path) -> Iterator[Banc]:
    """Emulators whose VLANs and ports differ from the manifest."""
    yield from _banc(territoire, tmp_path, derive=True)


def running(banc: Banc, nom: str) -> str:
    from ardoise.reseau.connexion import Session

    ctx = banc.contexte()
    cible = banc.cibles((nom,))[0]
    ctx.charger_secrets([cible])
    with Session(ctx.acces(cible), 5, 6) as s:
        return s.running()


def nettoyer(chemin: Path) -> None:
    shutil.rmtree(chemin, ignore_errors=True)
