"""``preparer`` and ``verifier`` end to end: playbook, checklist, each device's result and state in the store.

Steps: precheck (log in and become root, changes nothing) → playbook → checklist. Device states in the
store: ``atelier`` (being prepared) → ``pret`` (playbook and every check passed) or ``echec`` (with the failed
step and the reason). A failing device never stops the batch, unless a failure threshold (``Seuil``) is given:
once failures exceed it after a step, the batch stops before the next step and the devices not attempted are
recorded as ``non_tente`` (with the step they did not get to).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ardoise.atelier import ansible as runner
from ardoise.atelier.controles import checklist
from ardoise.atelier.postes import Lot
from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.maintenance.cibles import Cible, cibles
from ardoise.maintenance.moteur import Balayage, ParametresSsh
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin

GENRE = "atelier"
PRET, ECHEC, ATELIER, NON_TENTE = "pret", "echec", "atelier", "non_tente"


@dataclass(frozen=True)
class Seuil:
    """A failure threshold: a number of devices, or a share of the batch (``--seuil-echec 3`` / ``10%``)."""

    valeur: float
    pourcentage: bool = False

    @classmethod
    def lire(cls, texte: str) -> Seuil:
        m = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*(%?)\s*", texte or "")
        if not m or (not m.group(2) and not m.group(1).isdigit()):
            raise ErreurUsage(
                f"seuil d'échec « {texte} » illisible : un nombre de postes (3) ou une part du lot (10%)"
            )
        valeur = float(m.group(1).replace(",", "."))
        if m.group(2) and valeur > 100:
            raise ErreurUsage(f"seuil d'échec « {texte} » : au plus 100%")
        return cls(valeur, bool(m.group(2)))

    def maximum(self, total: int) -> float:
        """The number of failures allowed for a batch of ``total`` devices (more is « exceeded »)."""
        return total * self.valeur / 100 if self.pourcentage else self.valeur

    def __str__(self) -> str:
        return f"{self.valeur:g} %" if self.pourcentage else f"{self.valeur:g} poste(s)"


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
    arret: str | None = None  # French: why the batch stopped early (failure threshold exceeded)

    def etats(self) -> dict[str, str]:
        return {h: _etat(r) for h, r in self.resultats.items()}


def _etat(r: ResultatHote) -> str:
    if r.statut is StatutHote.ignore:
        return NON_TENTE
    return ECHEC if r.echoue else PRET


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
    seuil: Seuil | None = None,
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
    resultats: dict[str, ResultatHote] = {}
    dossier = (dossier_artefacts or Path("var/ardoise/atelier")) / f"execution-{ex}"
    controle = Path(tempfile.mkdtemp(prefix="ard-ssh-"))  # this run's OpenSSH masters, closed at the end

    adresses = {p.nom: str(p.adresse) for p in lot.postes if p.adresse}

    def ansible(hotes: list[str], precontrole: bool) -> runner.BilanAnsible:
        return runner.executer(
            hotes, t.racine, dossier / ("precontrole" if precontrole else "playbook"), parallele,
            connexion.variables, connexion.cle, connexion.utilisateur, connexion.known_hosts, changement,
            precontrole=precontrole, dossier_controle=controle, adresses=adresses,
        )  # fmt: skip

    def depasse(etape_suivante: str) -> bool:
        echecs = [n for n, r in resultats.items() if r.echoue]
        if seuil is None or len(echecs) <= seuil.maximum(len(noms)):
            return False
        restants = [n for n in noms if n not in resultats]
        bilan.arret = (
            f"seuil d'échec dépassé ({len(echecs)} poste(s) en échec sur {len(noms)}, seuil {seuil}) : lot"
            f" arrêté avant {etape_suivante} ; {len(restants)} poste(s) non tenté(s)"
            + (f" ({', '.join(restants[:10])}{'…' if len(restants) > 10 else ''})" if restants else "")
            + " ; corrigez puis relancez avec --reprendre"
        )
        for n in restants:
            resultats[n] = ResultatHote(n, StatutHote.ignore, etape=f"non tenté : {etape_suivante}",
                                        raison=f"seuil d'échec dépassé ({len(echecs)} échec(s), seuil {seuil})")  # fmt: skip
        return True

    try:
        for n in noms:
            magasin.definir_etat(n, ATELIER, ex, "précontrôle", None)
        pre = ansible(noms, precontrole=True)
        for n, suivi in pre.hotes.items():
            if suivi.echec:
                resultats[n] = ResultatHote(
                    n, StatutHote.injoignable if suivi.injoignable else StatutHote.echec,
                    etape="précontrôle : " + ("connexion SSH" if suivi.injoignable else "connexion et droits root"),
                    raison=suivi.raison,
                )  # fmt: skip
        suivant = "la vérification" if seulement_verifier else "la préparation (playbook)"
        if not seulement_verifier and not depasse(suivant):
            a_preparer = [n for n in noms if n not in resultats]
            for n in a_preparer:
                magasin.definir_etat(n, ATELIER, ex, "playbook", None)
            b = ansible(a_preparer, precontrole=False) if a_preparer else None
            bilan.duree_ansible_s = b.duree_s if b else 0.0
            for n, suivi in b.hotes.items() if b else ():
                bilan.durees_roles[n] = dict(suivi.durees_roles)
                if suivi.echec:
                    resultats[n] = ResultatHote(
                        n, StatutHote.injoignable if suivi.injoignable else StatutHote.echec,
                        etape=f"préparation : {suivi.etape_echec}", raison=suivi.raison,
                        details={"durees_roles": bilan.durees_roles[n]},
                    )  # fmt: skip
            suivant = "la vérification"
        if bilan.arret is None and not depasse(suivant):
            a_verifier = [n for n in noms if n not in resultats]
            if a_verifier:
                _, verifs = _verifier(t, a_verifier, connexion, parallele)
                resultats.update(verifs)
        for n in noms:
            r = resultats[n]
            r.details.setdefault("durees_roles", bilan.durees_roles.get(n, {}))
            r.details["prepare_le"] = dt.datetime.now(dt.UTC).isoformat()
            p = postes[n]
            magasin.enregistrer(ex, r, uai=p.uai, commune=p.commune)
            etat = _etat(r)
            magasin.definir_etat(
                n, etat, ex, r.etape if etat != PRET else None, r.raison if etat != PRET else None
            )
            bilan.resultats[n] = r
    except BaseException:
        magasin.terminer(ex, statut="interrompu")
        raise
    finally:
        runner.fermer_maitres(controle)
    etats = bilan.etats()
    magasin.terminer(ex, statut="arrete" if bilan.arret else "termine",
                     resume={"postes": len(noms), "prets": sum(e == PRET for e in etats.values()),
                             "echecs": sum(e == ECHEC for e in etats.values()),
                             "non_tentes": sum(e == NON_TENTE for e in etats.values()),
                             **({"arret": bilan.arret} if bilan.arret else {})})  # fmt: skip
    return bilan
