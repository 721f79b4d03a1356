"""Console tests: a copy of the example territory, a real SQLite store, one account per role and commune.

The clock is injected (``Horloge``): timeouts are tested by moving it, never by sleeping. Sweeps launched
from these tests point every target at a closed port on the loopback (the devices of the example
territory do not exist here): the real engine runs and records each device as unreachable at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
from pathlib import Path

import asyncssh
import pytest
from fastapi.testclient import TestClient

from ardoise.console import comptes
from ardoise.console.app import creer_app
from ardoise.console.taches import Reglages
from ardoise.inventaire.chargeur import charger
from ardoise.maintenance.moteur import ParametresSsh
from ardoise.resultats.magasin import Magasin
from tests.aide_parc import RACINE, copier_exemple

MDP = "Le chat dort sur 3 coussins"
ROLES_COMMUNE = ("admin-commune", "technicien-commune", "lecteur")
ROLES = ("admin-syndicat", "technicien-syndicat", *ROLES_COMMUNE)


class Horloge:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.t

    def avancer(self, **duree: float) -> None:
        self.t += dt.timedelta(**duree)


def vers_port_ferme(cibles):
    """Test stand-in for the devices: every target goes to a closed loopback port (refused at once)."""
    return [dataclasses.replace(c, adresse="127.0.0.1", port=9) for c in cibles]


def audit_factice(t, uai, dossier, magasin, progression):
    """Test stand-in for the network audit (nmap must not scan the example territory's subnets from here):
    stores one finding for the school the way the audit stores its runs."""
    from types import SimpleNamespace

    from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification

    e = t.ecole(uai)
    progression("découverte (substitut de test)")
    ex = magasin.commencer("audit", selection={"uai": e.uai}, lot=e.uai)
    constat = Verification(
        "hote-inconnu", "Hôte inconnu", Niveau.ATTENTION, "appareil non déclaré sur le VLAN élèves"
    )
    magasin.enregistrer(ex, ResultatHote("10.0.0.99", StatutHote.ok, verifications=[constat]), uai=e.uai,
                        commune=e.commune)  # fmt: skip
    magasin.terminer(ex)
    return SimpleNamespace(constats=[constat])


@dataclasses.dataclass
class Console:
    app: object
    magasin: Magasin
    inventaire: Path
    horloge: Horloge
    reglages: Reglages

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="https://testserver")

    def connecter(self, identifiant: str, mdp: str = MDP, client: TestClient | None = None) -> TestClient:
        c = client or self.client()
        r = c.post("/connexion", data={"identifiant": identifiant, "mot_de_passe": mdp, "csrf": jeton_connexion(c)},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
        return c

    def attendre(self, reponse) -> int:
        """The job id a POST redirected to, once the job has finished."""
        assert reponse.status_code == 303, reponse.text
        ident = int(reponse.headers["location"].rsplit("/", 1)[1])
        self.app.state.taches.attendre(ident, 60)
        return ident


def jeton_connexion(c: TestClient) -> str:
    r = c.get("/connexion")
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def csrf(c: TestClient, page: str = "/") -> str:
    r = c.get(page)
    assert r.status_code == 200, r.status_code
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def creer_console(
    tmp_path: Path, inventaire: Path | None = None, base: Path | None = None, **options
) -> Console:
    """A console over ``inventaire`` (default: a fresh copy) and a copy of the store ``base`` (default: empty)."""
    os.environ.setdefault("ARDOISE_COFFRE_MDP", str(RACINE / "inventaire" / "coffre-demo.mdp"))
    inventaire = inventaire or copier_exemple(tmp_path)
    if base is not None:
        shutil.copyfile(base, tmp_path / "resultats.sqlite")
    magasin = Magasin(f"sqlite:///{tmp_path}/resultats.sqlite")
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(tmp_path / "cle")
    horloge = Horloge()
    reglages = Reglages(inventaire=inventaire, base=magasin.url, horloge=horloge, dossier_wifi=tmp_path / "wifi",
                        ssh=ParametresSsh(cle=tmp_path / "cle", known_hosts=tmp_path / "kh", delai_hote=10),
                        transformer=vers_port_ferme, auditer=audit_factice, **options)  # fmt: skip
    return Console(creer_app(reglages, magasin), magasin, inventaire, horloge, reglages)


def peupler_comptes(console: Console) -> None:
    """One account per role scoped to bellerive (syndicat roles: everything), plus target accounts."""
    t = charger(console.inventaire)
    for role in ROLES:
        comptes.ajouter(console.magasin, t, role, MDP, role, ["bellerive"])
    for commune in ("bellerive", "saint-aubin"):
        comptes.ajouter(console.magasin, t, f"cible-{commune}", MDP, "technicien-commune", [commune])


@pytest.fixture(scope="session")
def modele(tmp_path_factory) -> tuple[Path, Path]:
    """Made once: a copy of the example territory (never edited) and a store holding the test accounts."""
    dossier = tmp_path_factory.mktemp("console-modele")
    c = creer_console(dossier)
    peupler_comptes(c)
    c.app.state.taches.fermer()
    c.magasin.moteur.dispose()
    return c.inventaire, dossier / "resultats.sqlite"


@pytest.fixture
def console(tmp_path, modele) -> Console:
    """Read-only territory shared by the session, a fresh copy of the store with the accounts."""
    c = creer_console(tmp_path, inventaire=modele[0], base=modele[1])
    yield c
    c.app.state.taches.fermer()


@pytest.fixture
def console_modifiable(tmp_path, modele) -> Console:
    """Its own copy of the territory: for tests whose actions edit the manifest."""
    c = creer_console(tmp_path, base=modele[1])
    yield c
    c.app.state.taches.fermer()
