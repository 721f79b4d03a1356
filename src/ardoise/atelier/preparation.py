"""``preparer`` and ``verifier`` end to end: playbook, checklist, each device's result and state in the store.

Device states in the store: ``atelier`` (being prepared) → ``pret`` (playbook and every check passed) or
``echec`` (with the failed step and the reason). A failing device never stops the batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ardoise.atelier import ansible as runner
from ardoise.atelier.controles import checklist
from ardoise.atelier.postes import Lot
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.maintenance.cibles import Cible, cibles
from ardoise.maintenance.moteur import Balayage, ParametresSsh
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin

GENRE = "atelier"
PRET, ECHEC, ATELIER = "pret", "echec", "atelier"


@dataclass
class Connexion:
    cle: Path | None = None
    utilisateur: str | None = None
    known_hosts: Path | None = None
    variables: dict = field(default_factory=dict)
    postes_labo: tuple[str, ...] = ()


@dataclass
class BilanAtelier:
    execution_id: int
    lot: str
    resultats: dict[str, ResultatHote]
    ignores: list[tuple[str, str]]
    duree_ansible_s: float = 0.0
    durees_roles: dict[str, dict[str, float]] = field(default_factory=dict)

    def etats(self) -> dict[str, str]:
        return {h: (PRET if not r.echoue else ECHEC) for h, r in self.resultats.items()}


def a_reprendre(magasin: Magasin, noms: list[str]) -> list[str]:
    """``--reprendre``: the devices of the batch that are not ``pret`` (failed, interrupted or never run)."""
    etats = magasin.etats(noms)
    return [n for n in noms if etats.get(n, {}).get("etat") != PRET]


def _premier_echec(verifs: list[Verification]) -> Verification | None:
    return next((v for v in verifs if v.niveau is not Niveau.OK), None)


def _verifier(
    t: Territoire, noms: list[str], connexion: Connexion, parallele: int
) -> tuple[dict[str, Cible], dict[str, ResultatHote]]:
    choix = {c.nom: c for c in cibles(t, Selection(noms=tuple(noms)))}
    if connexion.utilisateur:
        for c in choix.values():
            c.utilisateur = connexion.utilisateur
    ssh = ParametresSsh(cle=connexion.cle, known_hosts=connexion.known_hosts, accepter_nouvelles_cles=False)
    resultats = Balayage(checklist(), ssh, parallele=parallele).executer(list(choix.values()))
    sortie = {}
    for r in resultats:
        joignable = r.statut is StatutHote.ok
        r.verifications.insert(0, Verification(
            "joignabilite", "Joignable en SSH", Niveau.OK if joignable else Niveau.CRITIQUE,
            "le poste répond en SSH" if joignable else (r.raison or "injoignable"),
        ))  # fmt: skip
        if joignable and (v := _premier_echec(r.verifications)) is not None:
            r.statut, r.etape, r.raison = StatutHote.echec, f"vérification : {v.libelle}", v.message
        elif not joignable:
            r.etape = f"vérification : {r.etape or 'connexion'}"
        sortie[r.hote] = r
    return choix, sortie


def preparer(
    t: Territoire,
    lot: Lot,
    magasin: Magasin,
    connexion: Connexion,
    parallele: int = 10,
    reprendre: bool = False,
    dossier_artefacts: Path | None = None,
    changement: Callable[[runner.SuiviHote], None] | None = None,
    seulement_verifier: bool = False,
) -> BilanAtelier:
    """Prepare (or only check) the batch; every device's result and state is in the store when done."""
    noms = [p.nom for p in lot.postes]
    if reprendre:
        noms = a_reprendre(magasin, noms)
    postes = {p.nom: p for p in lot.postes}
    ex = magasin.commencer(
        GENRE,
        lot=lot.nom,
        selection={"postes": noms, "mode": "verifier" if seulement_verifier else "preparer", "reprise": reprendre},
    )  # fmt: skip
    bilan = BilanAtelier(ex, lot.nom, {}, [(e.nom, r) for e, r in lot.ignores])
    if not noms:
        magasin.terminer(
            ex, resume={"postes": 0, "message": "rien à reprendre : tous les postes du lot sont prêts"}
        )
        return bilan
    try:
        echecs_ansible: dict[str, ResultatHote] = {}
        if not seulement_verifier:
            for n in noms:
                magasin.definir_etat(n, ATELIER, ex, "playbook", None)
            dossier = (dossier_artefacts or Path("var/ardoise/atelier")) / f"execution-{ex}"
            b = runner.executer(
                noms, t.racine, dossier, parallele, connexion.variables, connexion.cle,
                connexion.utilisateur, connexion.known_hosts, changement,
            )  # fmt: skip
            bilan.duree_ansible_s = b.duree_s
            for n, suivi in b.hotes.items():
                bilan.durees_roles[n] = dict(suivi.durees_roles)
                if suivi.echec:
                    echecs_ansible[n] = ResultatHote(
                        n, StatutHote.injoignable if suivi.injoignable else StatutHote.echec,
                        etape=f"préparation : {suivi.etape_echec}", raison=suivi.raison,
                        details={"durees_roles": bilan.durees_roles[n]},
                    )  # fmt: skip
        a_verifier = [n for n in noms if n not in echecs_ansible]
        resultats = dict(echecs_ansible)
        if a_verifier:
            _, verifs = _verifier(t, a_verifier, connexion, parallele)
            resultats.update(verifs)
        for n in noms:
            r = resultats[n]
            r.details.setdefault("durees_roles", bilan.durees_roles.get(n, {}))
            r.details["prepare_le"] = dt.datetime.now(dt.UTC).isoformat()
            p = postes[n]
            magasin.enregistrer(ex, r, uai=p.uai, commune=p.commune)
            etat = ECHEC if r.echoue else PRET
            magasin.definir_etat(n, etat, ex, r.etape if r.echoue else None, r.raison if r.echoue else None)
            bilan.resultats[n] = r
    except BaseException:
        magasin.terminer(ex, statut="interrompu")
        raise
    etats = bilan.etats()
    magasin.terminer(ex, resume={"postes": len(noms), "prets": sum(e == PRET for e in etats.values()),
                                 "echecs": sum(e == ECHEC for e in etats.values())})  # fmt: skip
    return bilan
