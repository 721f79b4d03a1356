"""One maintenance run end to end: targets from the manifest, the sweep, the store, the summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.maintenance.catalogue import Controle
from ardoise.maintenance.cibles import Cible, cibles
from ardoise.maintenance.historique import GENRE, dernieres_reussites
from ardoise.maintenance.moteur import Avancement, Balayage, ParametresSsh
from ardoise.resultats.forme import Niveau, ResultatHote
from ardoise.resultats.magasin import Magasin


@dataclass
class Bilan:
    execution_id: int
    cibles: list[Cible]
    resultats: list[ResultatHote]

    def par_ecole(self) -> list[dict]:
        """One summary row per school (French column names: they are what the user reads)."""
        lignes: dict[str, Counter] = {}
        communes: dict[str, str] = {}
        for c, r in zip(self.cibles, self.resultats, strict=True):
            n = lignes.setdefault(c.uai, Counter())
            communes[c.uai] = c.commune
            n["appareils"] += 1
            if r.echoue:
                n[r.statut.value] += 1
                continue
            niveaux = {v.niveau for v in r.verifications}
            for niv in (Niveau.CRITIQUE, Niveau.ATTENTION):
                if niv in niveaux:
                    n[niv.value.lower()] += 1
                    break
            else:
                n["ok"] += 1
        return [
            {"uai": uai, "commune": communes[uai], "appareils": n["appareils"], "ok": n["ok"],
             "attention": n["attention"], "critique": n["critique"], "injoignables": n["injoignable"],
             "refuses": n["refuse"], "echecs": n["echec"]}
            for uai, n in lignes.items()
        ]  # fmt: skip


def lancer(
    t: Territoire,
    selection: Selection,
    controles: list[Controle],
    magasin: Magasin,
    ssh: ParametresSsh | None = None,
    parallele: int = 50,
    progression: Callable[[Avancement], None] | None = None,
    transformer: Callable[[list[Cible]], list[Cible]] | None = None,
) -> Bilan:
    """Sweep the selection; every host's result is in the store as soon as it is done."""
    choix = cibles(t, selection)
    derniers = dernieres_reussites(magasin, [c.nom for c in choix])
    for c in choix:
        c.contexte.derniere_reussite = derniers.get(c.nom)
    if transformer is not None:  # tests and benchmarks point targets elsewhere (loopback sshd)
        choix = transformer(choix)
    ex = magasin.commencer(
        GENRE,
        selection={"communes": list(selection.communes), "ecoles": list(selection.ecoles),
                   "postes": list(selection.noms), "verifications": [c.nom for c in controles]},
    )  # fmt: skip

    def ecrire(cible: Cible, r: ResultatHote) -> None:
        magasin.enregistrer(ex, r, uai=cible.uai, commune=cible.commune)

    balayage = Balayage(controles, ssh, parallele=parallele, ecrire=ecrire, progression=progression)
    try:
        resultats = balayage.executer(choix)
    except BaseException:
        magasin.terminer(ex, statut="interrompu")
        raise
    bilan = Bilan(ex, choix, resultats)
    magasin.terminer(ex, resume={"ecoles": bilan.par_ecole()})
    return bilan
