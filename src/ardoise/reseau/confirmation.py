"""Pending changes and the toolkit-side timer that rolls them back unless ``reseau confirmer`` comes in time.

PID 1 is not always systemd (containers, the lab host), so no ``systemd-run --on-active``: a small detached
worker (``python -m ardoise.reseau.confirmation DOSSIER``, own session via ``setsid``, stdin/stdout closed,
log in ``DOSSIER/minuteur.log``) watches the state files and exits when none is left.

State, one JSON file per switch in ``DOSSIER`` (``$ARDOISE_RESEAU_ETAT`` or ``var/ardoise/reseau/en-attente``):
device, school, deadline, backup version, perimeter, inventory, backup store, results store, access override.
Robustness:

* every read-modify of a state file happens under ``flock`` on ``<switch>.lock``: ``confirmer`` and the timer
  never both win; ``confirmer`` removes the file, the timer renames it ``<switch>.retour.json`` until its
  rollback is over (a worker dying midway leaves it to the next worker, which starts it again);
* one worker per directory (``flock`` on ``minuteur.lock``); every ``ardoise reseau`` command restarts it if
  pending changes exist and no worker holds the lock (after a reboot, a kill…), and an expired change is then
  rolled back at once;
* the rollback is the same :func:`ardoise.reseau.application.retour_arriere` as for a failed push, toward the
  committed backup; the outcome is journaled in the results store.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

VARIABLE_ETAT = "ARDOISE_RESEAU_ETAT"
TRAVAILLEURS = 20  # rollbacks run at once (as many as the workers of a run)
journal = logging.getLogger("ardoise.reseau.confirmation")


def dossier_par_defaut() -> Path:
    if os.environ.get(VARIABLE_ETAT):
        return Path(os.environ[VARIABLE_ETAT])
    return Path.cwd() / "var" / "ardoise" / "reseau" / "en-attente"


@contextlib.contextmanager
def verrou(chemin: Path, bloquant: bool = True) -> Iterator[bool]:
    chemin.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(chemin, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if bloquant else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def ecrire_attente(dossier: Path, etat: dict) -> Path:
    """Record a pending change (atomically)."""
    dossier.mkdir(parents=True, exist_ok=True)
    chemin = dossier / f"{etat['nom']}.json"
    with verrou(dossier / f"{etat['nom']}.lock"):
        temporaire = chemin.with_suffix(".tmp")
        temporaire.write_text(json.dumps(etat, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(temporaire, chemin)
    return chemin


def en_attente(dossier: Path) -> list[dict]:
    etats = []
    for chemin in sorted(dossier.glob("*.json")) if dossier.is_dir() else []:
        try:
            etats.append(json.loads(chemin.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return etats


def prendre(dossier: Path, nom: str, pour_retour: bool = False) -> dict | None:
    """Take a pending change under its lock; None if someone else already acted.

    ``confirmer`` removes the state file. The timer (``pour_retour``) renames it ``<nom>.retour.json`` and
    removes it with :func:`terminer` once the rollback is over: until then the switch still shows as pending
    (a new push waits, ``confirmer`` answers too late), and a worker that dies midway leaves it to the next one.
    """
    chemin = dossier / f"{nom}.json"
    with verrou(dossier / f"{nom}.lock"):
        if not chemin.exists():
            return None
        etat = json.loads(chemin.read_text(encoding="utf-8"))
        if pour_retour:
            os.replace(chemin, dossier / f"{nom}.retour.json")
        else:
            chemin.unlink()
        return etat


def terminer(dossier: Path, nom: str) -> None:
    """The rollback of ``nom`` is over: its state file goes."""
    with verrou(dossier / f"{nom}.lock"):
        (dossier / f"{nom}.retour.json").unlink(missing_ok=True)


def _reprendre_orphelins(dossier: Path) -> None:
    """Rollbacks a dead worker left midway are pending again (a rollback starts from the running config)."""
    for chemin in dossier.glob("*.retour.json"):
        nom = chemin.name.removesuffix(".retour.json")
        with verrou(dossier / f"{nom}.lock"):
            if chemin.exists() and not (dossier / f"{nom}.json").exists():
                os.replace(chemin, dossier / f"{nom}.json")


def demarrer_minuteur(dossier: Path) -> bool:
    """Start the detached worker unless one already runs for ``dossier``; True if started."""
    dossier.mkdir(parents=True, exist_ok=True)
    with verrou(dossier / "minuteur.lock", bloquant=False) as libre:
        if not libre:
            return False
    journal_fichier = open(dossier / "minuteur.log", "a", encoding="utf-8")  # noqa: SIM115 (given to the child)
    with journal_fichier:
        subprocess.Popen(
            [sys.executable, "-m", "ardoise.reseau.confirmation", str(dossier)],
            stdin=subprocess.DEVNULL, stdout=journal_fichier, stderr=journal_fichier,
            start_new_session=True, close_fds=True, cwd=str(dossier), env=dict(os.environ),
        )  # fmt: skip
    return True


def relancer_si_besoin(dossier: Path | None = None) -> None:
    """Called by every ``ardoise reseau`` command: a pending change always has a live timer."""
    dossier = dossier or dossier_par_defaut()
    if en_attente(dossier):
        demarrer_minuteur(dossier)


_CONTEXTES: dict[tuple, object] = {}
_VERROU_CONTEXTES = threading.Lock()


def _contexte(etat: dict):  # noqa: ANN202 (ardoise.reseau.execution.Contexte, imported lazily)
    """The context of a pending change's run, built once per worker and shared by its rollbacks.

    A push to a commune expires all at once: loading the manifest and opening the vault once, not once per
    switch, is what lets the rollbacks start at their deadline.
    """
    from ardoise.inventaire.chargeur import charger
    from ardoise.reseau.execution import Contexte
    from ardoise.reseau.plateformes import Perimetre
    from ardoise.reseau.sauvegarde import Depot

    cle = (etat["inventaire"], etat["perimetre"], etat["depot"], etat.get("acces"), etat.get("delai", 10.0),
           etat.get("delai_lecture", 20.0))  # fmt: skip
    with _VERROU_CONTEXTES:
        if cle not in _CONTEXTES:
            _CONTEXTES[cle] = Contexte(charger(Path(etat["inventaire"])), Perimetre(etat["perimetre"]),
                                       Depot(Path(etat["depot"])),
                                       fichier_acces=Path(etat["acces"]) if etat.get("acces") else None,
                                       delai=etat.get("delai", 10.0), delai_lecture=etat.get("delai_lecture", 20.0))  # fmt: skip
        return _CONTEXTES[cle]


def annuler(etat: dict, raison: str) -> dict:
    """Roll a pending change back to its backup; returns a summary (never raises)."""
    from ardoise.reseau.application import retour_arriere
    from ardoise.reseau.rendu import Cible

    try:
        ctx = _contexte(etat)
        ecole = ctx.territoire.ecole(etat["uai"])
        commutateur = next(c for c in ecole.modele.commutateurs if c.nom == etat["nom"])
        cible = Cible(ecole, commutateur)
        with _VERROU_CONTEXTES:
            ctx.charger_secrets([cible])
        texte = ctx.depot.lire(etat["relatif"], etat["sauvegarde"])
        r = retour_arriere(ctx, cible, texte, etat["sauvegarde"], motif=raison, enregistrer=True)
        resume = {"resultat": "retour_arriere" if r.statut.value == "ok" else "echec", "raison": r.raison,
                  "diff": r.diff, "etape": r.etape}  # fmt: skip
    except Exception as e:  # the timer must survive anything and say why
        resume = {"resultat": "echec", "raison": f"retour arrière impossible : {type(e).__name__} : {e}"}
    _journaliser(etat, "reseau.retour_arriere", resume)
    return resume


_MAGASINS: dict[str | None, object] = {}
_VERROU_MAGASINS = threading.Lock()


def _magasin(url: str | None):  # noqa: ANN202 (ardoise.resultats.magasin.Magasin, imported lazily)
    """One store per URL for the whole worker: opening one migrates its schema, which is not thread-safe."""
    from ardoise.resultats.magasin import Magasin

    with _VERROU_MAGASINS:
        if url not in _MAGASINS:
            _MAGASINS[url] = Magasin(url)
        return _MAGASINS[url]


def _journaliser(etat: dict, action: str, details: dict) -> None:
    try:
        _magasin(etat.get("magasin")).journaliser(
            action, details.get("resultat", "ok"), cible=etat["nom"], commune=etat.get("commune"),
            details={**details, "uai": etat.get("uai"), "sauvegarde": etat.get("sauvegarde")},
            qui=etat.get("qui"),
        )  # fmt: skip
    except Exception as e:
        journal.warning("%s : journalisation impossible (%s)", etat.get("nom"), e)


def _annuler_et_noter(dossier: Path, etat: dict) -> None:
    try:
        resume = annuler(etat, "non confirmé dans le délai")
        print(
            f"{time.strftime('%F %T')} {etat['nom']} : {resume['resultat']} : {resume['raison']}", flush=True
        )
    finally:
        terminer(dossier, etat["nom"])


def boucle(dossier: Path, intervalle: float = 0.25, travailleurs: int = TRAVAILLEURS) -> int:
    """The worker: roll back every expired pending change, exit when nothing is pending.

    Expired changes are rolled back ``travailleurs`` at a time (a push to a whole commune expires at once:
    one after the other, the last switch would come back minutes after its deadline); a change is taken
    under its lock as soon as it expires, so it is handed to the pool once.
    """
    with ThreadPoolExecutor(max_workers=travailleurs) as pool:
        while True:
            with verrou(dossier / "minuteur.lock", bloquant=False) as libre:
                if not libre:
                    return 0  # another worker is on duty
                _reprendre_orphelins(dossier)
                en_cours: set[Future] = set()
                while (etats := en_attente(dossier)) or en_cours:
                    maintenant = time.time()
                    for etat in etats:
                        if etat.get("echeance", 0) <= maintenant:
                            pris = prendre(dossier, etat["nom"], pour_retour=True)
                            if pris is not None:
                                en_cours.add(pool.submit(_annuler_et_noter, dossier, pris))
                    en_cours = {f for f in en_cours if not f.done()}
                    time.sleep(intervalle)
            # lock released: a change written meanwhile saw the lock taken and counts on us
            if not en_attente(dossier):
                return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    return boucle(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main())
