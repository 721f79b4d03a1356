"""Background jobs of the console: each action runs in a worker thread, recorded in ``console_taches``.

Actions call the same Python functions as the CLI (``maintenance.execution.lancer``, ``reseau.wifi.basculer``,
``parc.edition.Edition``); a job's progress is read back from the store (the run's host results as they are
written). Manifest edits are serialised (one at a time per console process) and validated before writing.
Every job is journaled in ``evenements`` when launched and when it ends (who, when, what, result).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ardoise.erreurs import ArdoiseErreur, ErreurManifeste, ErreurUsage
from ardoise.inventaire.territoire import Territoire
from ardoise.maintenance.moteur import ParametresSsh
from ardoise.resultats.magasin import Magasin, processus_courant, processus_vivant
from ardoise.resultats.modeles import TacheConsole, maintenant
from ardoise.secrets import masquer

log = logging.getLogger(__name__)

ETATS_MARQUABLES = ("en_panne", "reserve")
LIBELLES_GENRES = {
    "maintenance": "balayage de maintenance",
    "audit": "audit",
    "demande": "demande d'application",
    "wifi": "Wi-Fi",
    "etat": "état d'appareil",
}


def audit_disponible() -> bool:
    """Whether the network audit is installed (the action appears only then)."""
    try:
        return importlib.util.find_spec("ardoise.audit.execution") is not None
    except ModuleNotFoundError:
        return False


@dataclass
class Reglages:
    """How the console reaches the manifest, the store and the devices."""

    inventaire: Path | None = None
    base: str | None = None
    ssh: ParametresSsh = field(default_factory=ParametresSsh)
    parallele: int = 20
    dossier_wifi: Path = Path("var/ardoise/wifi")
    http_local: bool = False  # cookies without Secure / __Host- (local HTTP demo only)
    labo: bool = False  # demo: sweeps only reach the running lab's PCs (refused when the lab is stopped)
    horloge: Callable[[], dt.datetime] = maintenant
    dossier_audit: Path = Path("sortie/audit")
    transformer: Callable | None = None  # points sweep targets elsewhere (tests)
    auditer: Callable | None = None  # None: ardoise.audit.execution.auditer (tests give a stand-in)


def hotes_du_labo() -> tuple[str, ...]:
    """The PCs of the running lab; a French error when it is stopped (nothing may leave the lab)."""
    from ardoise.labo.labo import Labo

    etat = Labo().etat()
    if not etat.get("demarre") or not etat.get("hotes"):
        raise ErreurUsage("le labo n'est pas démarré : la console de démonstration ne balaie que ses postes "
                          "(ardoise labo demarrer)")  # fmt: skip
    return tuple(etat["hotes"])


class _Relais:
    """The store as ``lancer`` sees it: the run it starts is linked to the job and credited to the user."""

    def __init__(self, magasin: Magasin, au_debut: Callable[[int], None], utilisateur: str) -> None:
        self._magasin, self._au_debut, self._utilisateur = magasin, au_debut, utilisateur

    def commencer(self, genre: str, selection: dict | None = None, utilisateur: str | None = None,
                  lot: str | None = None) -> int:  # fmt: skip
        ex = self._magasin.commencer(genre, selection, utilisateur or self._utilisateur, lot)
        self._au_debut(ex)
        return ex

    def __getattr__(self, nom: str) -> Any:
        return getattr(self._magasin, nom)


class Taches:
    """Runs jobs in worker threads; the job's row says where it stands."""

    def __init__(self, magasin: Magasin, reglages: Reglages, travailleurs: int = 2) -> None:
        self.magasin = magasin
        self.reglages = reglages
        self._pool = ThreadPoolExecutor(max_workers=travailleurs, thread_name_prefix="console-tache")
        self._manifeste = threading.Lock()
        self._en_cours: dict[int, Future] = {}
        self.reprendre_interrompues()

    def reprendre_interrompues(self) -> list[int]:
        """Close the jobs a console process of this machine left waiting or running and that no longer exists
        (it stopped mid-job): they say so instead of staying « en cours » for ever. Another live console on the
        same store keeps its jobs."""
        ici = processus_courant()
        with self.magasin.session() as s:
            en_suspens = s.scalars(
                select(TacheConsole).where(TacheConsole.statut.in_(("en_attente", "en_cours")))
            )
            restes = []
            for t in en_suspens:
                p = (t.details or {}).get("processus") or {}
                if not p or (p.get("machine") == ici["machine"] and not processus_vivant(p)):
                    restes.append(t)
            vus = [(t.id, t.genre) for t in restes]
            for t in restes:
                t.statut, t.fin = "echec", maintenant()
                t.message = "interrompue : la console s'est arrêtée avant la fin de la tâche ; relancez-la"
        for ident, genre in vus:
            log.warning("console : tâche n° %s (%s) interrompue par un arrêt de la console", ident, genre)
        return [ident for ident, _ in vus]

    def fermer(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    def attendre(self, ident: int, delai: float | None = None) -> None:
        futur = self._en_cours.get(ident)
        if futur is not None:
            futur.result(timeout=delai)

    def _modifier(self, ident: int, **champs: Any) -> None:
        with self.magasin.session() as s:
            t = s.get(TacheConsole, ident)
            for k, v in champs.items():
                setattr(t, k, v)

    def soumettre(self, genre: str, commune: str, uai: str | None, cible: str | None, qui: str,
                  travail: Callable[[int], str], attendus: int = 0, details: dict | None = None) -> int:  # fmt: skip
        with self.magasin.session() as s:
            t = TacheConsole(genre=genre, commune=commune, uai=uai, cible=cible, qui=qui, statut="en_attente",
                             attendus=attendus, details={**(details or {}), "processus": processus_courant()})  # fmt: skip
            s.add(t)
            s.flush()
            ident = t.id
        self.magasin.journaliser(f"console.{genre}", "lance", cible=cible or uai, commune=commune, qui=qui,
                                 details={"tache": ident, **(details or {})})  # fmt: skip
        log.info("console : %s lancé par « %s » sur %s (tâche n° %s)", genre, qui, cible or uai, ident)
        self._en_cours[ident] = self._pool.submit(
            self._executer, ident, genre, commune, uai, cible, qui, travail
        )
        return ident

    def _executer(self, ident: int, genre: str, commune: str, uai: str | None, cible: str | None, qui: str,
                  travail: Callable[[int], str]) -> None:  # fmt: skip
        self._modifier(ident, statut="en_cours")
        try:
            message, statut = travail(ident), "termine"
        except ErreurManifeste as e:
            message, statut = f"{e} : " + " ; ".join(p.texte() for p in e.problemes[:5]), "echec"
        except ArdoiseErreur as e:
            message, statut = str(e), "echec"
        except Exception as e:  # noqa: BLE001 - a bug: the job says so, the log has the trace
            log.exception("console : la tâche n° %s a échoué", ident)
            message, statut = f"erreur interne ({type(e).__name__}) : c'est un défaut d'Ardoise", "echec"
        message = masquer(message)[:2000]
        self._modifier(ident, statut=statut, message=message, fin=maintenant())
        self.magasin.journaliser(f"console.{genre}", "ok" if statut == "termine" else "echec", cible=cible or uai,
                                 commune=commune, qui=qui, details={"tache": ident, "message": message})  # fmt: skip
        log.info("console : tâche n° %s (%s) %s : %s", ident, genre, statut, message)

    # -- actions ---------------------------------------------------------------------------------
    def balayage(self, t: Territoire, uai: str, commune: str, qui: str) -> int:
        """A maintenance sweep of one school (the CLI's ``maintenance.execution.lancer``)."""
        from ardoise.inventaire.selection import Selection
        from ardoise.maintenance.catalogue import choisir
        from ardoise.maintenance.cibles import cibles
        from ardoise.maintenance.execution import lancer

        selection = Selection(ecoles=(uai,))
        if self.reglages.labo:
            selection = Selection(ecoles=(uai,), noms=hotes_du_labo())
        attendus = len(cibles(t, selection))
        r = self.reglages

        def travail(ident: int) -> str:
            relais = _Relais(
                self.magasin, lambda ex: self._modifier(ident, execution_id=ex), f"console:{qui}"
            )
            bilan = lancer(t, selection, choisir(None), relais, r.ssh, r.parallele,  # type: ignore[arg-type]
                           transformer=r.transformer)  # fmt: skip
            ligne = next(iter(bilan.par_ecole()), None)
            if ligne is None:
                return "aucun appareil à vérifier dans cette école"
            return (f"{ligne['appareils']} appareil(s) : {ligne['ok']} correct(s), {ligne['attention']} à surveiller, "
                    f"{ligne['critique']} critique(s), {ligne['injoignables']} injoignable(s), "
                    f"{ligne['refuses'] + ligne['echecs']} en échec")  # fmt: skip

        return self.soumettre("maintenance", commune, uai, uai, qui, travail, attendus)

    def audit(self, t: Territoire, uai: str, commune: str, qui: str) -> int:
        """A network audit of one school (the CLI's ``audit.execution.auditer``), stored when it ends."""
        auditer = self.reglages.auditer
        if auditer is None:
            from ardoise.audit.execution import auditer
        dossier = self.reglages.dossier_audit

        def travail(ident: int) -> str:
            relais = _Relais(
                self.magasin, lambda ex: self._modifier(ident, execution_id=ex), f"console:{qui}"
            )
            a = auditer(t, uai, dossier=dossier, magasin=relais,
                        progression=lambda m: self._modifier(ident, message=masquer(m)[:2000]))  # fmt: skip
            return f"audit terminé : {len(a.constats)} constat(s)"

        return self.soumettre("audit", commune, uai, uai, qui, travail)

    def decider_demande(self, t: Territoire, uai: str, commune: str, ident_demande: str, approuver: bool,
                        qui: str) -> int:  # fmt: skip
        """Approve or refuse a teacher's app request: a round-trip edit of the school's file."""
        from ardoise.parc.edition import Edition, fichier_ecole, mettre

        statut = "approuvee" if approuver else "refusee"

        def travail(_ident: int) -> str:
            with self._manifeste:
                ed = Edition(t.racine)
                chemin = fichier_ecole(t, uai)
                for d in ed.document(chemin).get("demandes") or []:
                    if str(d.get("id")) == ident_demande:
                        break
                else:
                    raise ErreurUsage(f"demande « {ident_demande} » introuvable dans {chemin.name}")
                if str(d.get("statut")) != "demandee":
                    raise ErreurUsage(
                        f"la demande « {ident_demande} » est déjà « {d.get('statut')} » : rien à faire"
                    )
                mettre(d, "statut", statut)
                ed.ecrire()
            return f"demande {ident_demande} ({d.get('application')}, {d.get('enseignant')}) : {statut}"

        return self.soumettre("demande", commune, uai, f"{uai}/{ident_demande}", qui, travail,
                              details={"demande": ident_demande, "decision": statut})  # fmt: skip

    def marquer(self, t: Territoire, uai: str, commune: str, nom: str, etat: str, qui: str) -> int:
        """Mark a device en_panne or reserve in the manifest."""
        from ardoise.parc.edition import Edition, fichier_ecole, mettre

        if etat not in ETATS_MARQUABLES:
            raise ErreurUsage(
                f"état « {etat} » : seuls {', '.join(ETATS_MARQUABLES)} se posent depuis la console"
            )

        def travail(_ident: int) -> str:
            with self._manifeste:
                ed = Edition(t.racine)
                p = ed.poste(fichier_ecole(t, uai), nom)
                avant = str(p.get("etat"))
                if avant == etat:
                    return f"{nom} est déjà « {etat} » : rien à faire"
                mettre(p, "etat", etat)
                ed.ecrire()
            return f"{nom} : {avant} → {etat}"

        return self.soumettre("etat", commune, uai, nom, qui, travail, details={"etat": etat})

    def basculer_wifi(self, t: Territoire, uai: str, commune: str, ssid: str, couper: bool, qui: str) -> int:
        """Switch a classroom SSID off (or back on): the Wi-Fi CLI's ``basculer``, files regenerated."""
        from ardoise.inventaire import coffre
        from ardoise.reseau import wifi

        dossier = self.reglages.dossier_wifi

        def travail(_ident: int) -> str:
            ecole = t.ecole(uai)
            message, _ = wifi.basculer(ecole, ssid, couper, self.magasin, dossier / ecole.uai,
                                       lambda noms: coffre.reveler(t.fichier_coffre, noms), qui=qui)  # fmt: skip
            return message

        return self.soumettre("wifi", commune, uai, f"{uai}/{ssid}", qui, travail,
                              details={"ssid": ssid, "action": "couper" if couper else "retablir"})  # fmt: skip
