"""Run one operation on many switches: a bounded worker pool, a progress line per device, results.

One unreachable or failing switch never stops the others: every exception of an operation becomes that
device's :class:`ResultatHote` (French reason, redacted), and each result is written to the results store
as soon as it is known.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ardoise.erreurs import ArdoiseErreur, ErreurAuthentification, ErreurConnexion
from ardoise.inventaire import coffre
from ardoise.inventaire.territoire import Territoire
from ardoise.reseau.connexion import Acces, lire_acces
from ardoise.reseau.diff import Preparation
from ardoise.reseau.modele import construire, references_coffre
from ardoise.reseau.plateformes import Perimetre, plateforme
from ardoise.reseau.rendu import Cible, rendre_modele
from ardoise.reseau.sauvegarde import Depot
from ardoise.resultats.forme import ResultatHote, StatutHote
from ardoise.secrets import Secret, masquer

journal = logging.getLogger("ardoise.reseau")
TRAVAILLEURS = 20


@dataclass
class Contexte:
    """Everything an operation on one switch needs, shared by the workers of one run."""

    territoire: Territoire
    perimetre: Perimetre = Perimetre.complet
    depot: Depot | None = None
    magasin: object | None = None  # ardoise.resultats.magasin.Magasin
    fichier_acces: Path | None = None
    delai: float = 10.0
    delai_lecture: float = 20.0
    progression: Callable[[str], None] = lambda _m: None
    secrets: dict[str, Secret] = field(default_factory=dict)
    known_hosts: Path | None = None  # None: the fleet's ($ARDOISE_KNOWN_HOSTS, else ~/.ssh/known_hosts)
    accepter_nouvelles_cles: bool = True  # a switch's first session records its key; a changed key is refused
    _acces: dict[str, tuple[str, int]] | None = None

    def charger_secrets(self, cibles: list[Cible]) -> None:
        """Decrypt, once per run, every vault entry the selected switches need."""
        noms = sorted(
            {n for c in cibles for n in references_coffre(c.commutateur, c.ecole)} - set(self.secrets)
        )
        if noms:
            self.secrets.update(coffre.reveler(self.territoire.fichier_coffre, noms))

    def acces(self, cible: Cible) -> Acces:
        if self._acces is None:
            self._acces = lire_acces(self.fichier_acces)
        c = cible.commutateur
        adresse, port = self._acces.get(c.nom, (str(c.gestion.adresse), c.gestion.port))
        ident = c.identifiants
        return Acces(
            nom=c.nom, adresse=adresse, port=port, utilisateur=ident.utilisateur,
            mot_de_passe=self.secrets[ident.mot_de_passe.coffre],
            enable=self.secrets[ident.secret_enable.coffre] if ident.secret_enable else None,
            plateforme=plateforme(c.plateforme), known_hosts=self.known_hosts,
            accepter_nouvelles_cles=self.accepter_nouvelles_cles,
        )  # fmt: skip

    def preparation(self, cible: Cible) -> Preparation:
        modele = construire(cible.ecole, cible.commutateur)
        return Preparation(plateforme(cible.commutateur.plateforme), self.perimetre, modele.ports_geres)

    def voulue(self, cible: Cible, clair: bool = False) -> str:
        return rendre_modele(construire(cible.ecole, cible.commutateur, self.secrets, clair))

    def relatif(self, cible: Cible) -> str:
        return Depot.chemin_relatif(cible.ecole.commune, cible.ecole.uai, cible.nom)


def resultat_erreur(nom: str, e: BaseException, etape: str, debut: float) -> ResultatHote:
    if isinstance(e, ErreurAuthentification):
        statut = StatutHote.refuse
    elif isinstance(e, ErreurConnexion):
        statut = StatutHote.injoignable
    else:
        statut = StatutHote.echec
    raison = str(e) if isinstance(e, ArdoiseErreur) else f"erreur interne ({type(e).__name__}) : {e}"
    return ResultatHote(nom, statut, etape=etape, raison=masquer(raison), duree_s=time.monotonic() - debut)


def executer(
    ctx: Contexte,
    cibles: list[Cible],
    operation: Callable[[Contexte, Cible], ResultatHote],
    travailleurs: int = TRAVAILLEURS,
    execution_id: int | None = None,
) -> list[ResultatHote]:
    """Run ``operation`` on every target with at most ``travailleurs`` at once; results in target order."""
    par_nom = {c.nom: c for c in cibles}

    def une(cible: Cible) -> ResultatHote:
        debut = time.monotonic()
        ctx.progression(f"{cible.nom} : en cours…")
        try:
            r = operation(ctx, cible)
        except Exception as e:  # one device never stops the others
            if not isinstance(e, ArdoiseErreur):
                journal.debug("trace", exc_info=True)
            r = resultat_erreur(
                cible.nom, e, "connexion" if isinstance(e, ErreurConnexion) else "execution", debut
            )
        r.duree_s = r.duree_s or time.monotonic() - debut
        ctx.progression(f"{cible.nom} : {_resume(r)}")
        if ctx.magasin is not None and execution_id is not None:
            try:
                ctx.magasin.enregistrer(execution_id, r, uai=cible.ecole.uai, commune=cible.ecole.commune)
            except ArdoiseErreur as e:
                journal.warning("%s : résultat non enregistré (%s)", cible.nom, e)
        return r

    resultats: dict[str, ResultatHote] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(travailleurs, len(cibles) or 1))) as pool:
        futurs = {pool.submit(une, c): c.nom for c in cibles}
        for futur in as_completed(futurs):
            resultats[futurs[futur]] = futur.result()
    return [resultats[n] for n in par_nom]


def _resume(r: ResultatHote) -> str:
    if r.statut is StatutHote.ok:
        return r.raison or ("modifié" if r.change else "ok")
    return f"{r.statut.value} ({r.etape}) : {r.raison}"
