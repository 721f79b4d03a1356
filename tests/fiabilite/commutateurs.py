"""A fleet of emulated switches for the reliability tests: N copies per platform of the example's switches.

The example territory is copied and each of its three reference switches (one per platform the lab emulates)
gets ``n`` clones in its school manifest (``sw-jean-jaures-1-07``…): real manifest entries, so every Ardoise
operation (selection, vault, pending-change state keyed by switch name) treats them as distinct devices. Each
clone is a real SSH peer: the lab's emulators (tests/integration/reseau/emulateurs.py), one process per
platform, on loopback. No lab (namespaces) is needed.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.labo.emulateur import envoyer_instruction
from ardoise.reseau.connexion import Session
from ardoise.reseau.execution import Contexte
from ardoise.reseau.plateformes import Perimetre
from ardoise.reseau.rendu import Cible, cibles
from ardoise.reseau.sauvegarde import Depot
from ardoise.resultats.magasin import Magasin
from tests.aide_parc import copier_exemple
from tests.integration.reseau.emulateurs import MDP_COFFRE, Emule, Processus, config_emulateur, ecrire_acces

# platform -> (school file, reference switch) of the example territory
REFERENCES = {
    "cisco_ios": ("communes/bellerive/ecoles/0331101t-jean-jaures.yml", "sw-jean-jaures-1"),
    "hp_procurve": ("communes/bellerive/ecoles/0331101t-jean-jaures.yml", "sw-jean-jaures-2"),
    "aruba_aoscx": ("communes/bellerive/ecoles/0331102u-les-tilleuls.yml", "sw-les-tilleuls-1"),
}
PLATEFORMES = tuple(REFERENCES)


def nom_clone(plateforme: str, i: int) -> str:
    return f"{REFERENCES[plateforme][1]}-{i:02d}"


def territoire_clones(dest: Path, n: int) -> Territoire:
    """A copy of the example territory where each reference switch has ``n`` clones (valid manifest)."""
    inventaire = copier_exemple(dest)
    adresse = 100
    for k, (plateforme, (fichier, reference)) in enumerate(REFERENCES.items()):
        chemin = inventaire / fichier
        donnees = yaml.safe_load(chemin.read_text(encoding="utf-8"))
        modele = next(c for c in donnees["commutateurs"] if c["nom"] == reference)
        for i in range(1, n + 1):
            c = copy.deepcopy(modele)
            c["nom"] = nom_clone(plateforme, i)
            c["numero_serie"] = f"{modele['numero_serie']}{i:02d}"
            c["mac"] = f"02:a1:{k:02x}:00:00:{i:02x}"
            c["gestion"]["adresse"] = f"{c['gestion']['adresse'].rsplit('.', 1)[0]}.{adresse}"
            adresse += 1
            donnees["commutateurs"].append(c)
        chemin.write_text(yaml.safe_dump(donnees, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return charger(inventaire)


@dataclass
class Flotte:
    """Emulated switches (one process per platform), their access file, a backup store, a results store."""

    territoire: Territoire
    dossier: Path
    emules: dict[str, Emule]
    processus: list[Processus]
    acces: Path

    def cibles(self, noms: list[str] | tuple[str, ...]) -> list[Cible]:
        par_nom = {c.nom: c for c in cibles(self.territoire, Selection())}
        return [par_nom[n] for n in noms]

    def contexte(self, dossier: Path, perimetre: Perimetre = Perimetre.commutation, delai: float = 10,
                 delai_lecture: float = 20) -> Contexte:  # fmt: skip
        """A run's context with its backup store and results store under ``dossier`` (one per test)."""
        return Contexte(self.territoire, perimetre, Depot(dossier / "sauvegardes"),
                        Magasin(f"sqlite:///{dossier / 'resultats.sqlite'}"), fichier_acces=self.acces,
                        delai=delai, delai_lecture=delai_lecture)  # fmt: skip

    def instruction(self, nom: str, *lignes: str) -> None:
        envoyer_instruction(self.emules[nom].controle, *lignes, attente=15)

    def arreter(self) -> None:
        for p in self.processus:
            p.arreter()


def demarrer_flotte(territoire: Territoire, noms: list[str], dossier: Path, derive: bool) -> Flotte:
    """Emulators for ``noms`` (grouped by platform, one process each); ``derive``: VLANs/ports off-manifest."""
    par_nom = {c.nom: c for c in cibles(territoire, Selection())}
    par_plateforme: dict[str, list[dict]] = {}
    emules: dict[str, Emule] = {}
    for nom in noms:
        config, emule = config_emulateur(territoire, par_nom[nom].commutateur, dossier, derive=derive)
        par_plateforme.setdefault(config["plateforme"], []).append(config)
        emules[nom] = emule
    processus: list[Processus] = []
    try:
        for configs in par_plateforme.values():
            processus.append(Processus(configs, dossier))
    except Exception:
        for p in processus:
            p.arreter()
        raise
    acces = ecrire_acces(list(emules.values()), dossier / "acces.json")
    return Flotte(territoire, dossier, emules, processus, acces)


def environnement(monkeypatch, dossier: Path) -> None:  # noqa: ANN001 (pytest's MonkeyPatch)
    """What the detached confirmation worker inherits: the vault password, a private known_hosts."""
    monkeypatch.setenv("ARDOISE_COFFRE_MDP", str(MDP_COFFRE))
    monkeypatch.setenv("ARDOISE_KNOWN_HOSTS", str(dossier / "known_hosts"))
    for variable in (
        "ARDOISE_RESEAU_ACCES",
        "ARDOISE_RESEAU_SAUVEGARDES",
        "ARDOISE_RESEAU_ETAT",
        "ARDOISE_BASE",
    ):
        monkeypatch.delenv(variable, raising=False)


def lire(ctx: Contexte, cible: Cible, commande: str | None = None) -> str:
    """One show command (default: the running config) through a fresh session."""
    with Session(ctx.acces(cible), ctx.delai, ctx.delai_lecture) as s:
        return s.commande(commande) if commande else s.running()


def attendre(condition, limite: float, pas: float = 1.0) -> bool:  # noqa: ANN001
    """Poll ``condition()`` until true or ``limite`` (monotonic time); its last value."""
    while True:
        if condition():
            return True
        if time.monotonic() >= limite:
            return False
        time.sleep(pas)


PAR_PLATEFORME = 20  # clones per platform in the shared fleet
# the shared fleet: the three reference switches and their clones, all drifted from the manifest (VLAN 20
# missing, VLAN 77 extra, VLAN 10 renamed, two ports off), so that every switch has a change to receive
NOMS_FLOTTE = [nom for _, nom in REFERENCES.values()] + [
    nom_clone(p, i) for p in PLATEFORMES for i in range(1, PAR_PLATEFORME + 1)
]


@pytest.fixture(scope="package")  # stopped once tests/fiabilite is done, not at the end of `make test`
def flotte_commutateurs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flotte]:
    """63 emulated switches for every test of this campaign (started once: starting them is the slow part).

    Each test leaves its switches as it found them (rollbacks it checks, or ``normal`` for fault directives)
    and uses its own backup store, results store and pending-change directory.
    """
    pytest.importorskip("fake_switches")
    dossier = tmp_path_factory.mktemp("flotte-commutateurs")
    territoire = territoire_clones(dossier / "territoire", PAR_PLATEFORME)
    flotte = demarrer_flotte(territoire, NOMS_FLOTTE, dossier, derive=True)
    try:
        yield flotte
    finally:
        flotte.arreter()
