"""The sweep: ONE remote command per host over asyncssh, bounded concurrency, strict host keys.

A host that is down, slow (per-host timeout) or refuses us is recorded as such and the sweep goes on.
Each host's result is handed to ``ecrire`` (the results store) as soon as that host is done, from one
writer thread, so a killed run keeps every finished host.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from ardoise import cles_hote
from ardoise.erreurs import ErreurAuthentification, ErreurConnexion
from ardoise.maintenance import script as batch
from ardoise.maintenance.catalogue import Controle, Sortie, pire
from ardoise.maintenance.cibles import Cible
from ardoise.resultats.forme import ResultatHote, StatutHote

log = logging.getLogger(__name__)
logging.getLogger("asyncssh").setLevel(logging.WARNING)

PORTS_SONDE = (22, 80, 443)


@dataclass
class ParametresSsh:
    cle: Path | None = None  # private key; None: $ARDOISE_CLE_SSH, else asyncssh's defaults (~/.ssh/id_*)
    known_hosts: Path | None = None  # None: $ARDOISE_KNOWN_HOSTS, else ~/.ssh/known_hosts
    accepter_nouvelles_cles: bool = False  # trust-on-first-use for unknown hosts; a CHANGED key is refused
    delai_connexion: float = 10.0
    delai_hote: float = 120.0

    def chemin_known_hosts(self) -> Path:
        return cles_hote.fichier_known_hosts(self.known_hosts)

    def chemin_cle(self) -> Path | None:
        if self.cle:
            return Path(self.cle)
        return Path(os.environ["ARDOISE_CLE_SSH"]) if os.environ.get("ARDOISE_CLE_SSH") else None


@dataclass
class Avancement:
    total: int
    faits: int = 0
    echecs: int = 0
    dernier: str = ""
    dernier_statut: str = ""  # the last host's status (already in the store when reported)


class _Client(asyncssh.SSHClient):
    """Accepts an unknown host's key only in trust-on-first-use mode, and remembers it."""

    def __init__(self, accepter: bool, inconnu: bool) -> None:
        self.accepter, self.inconnu = accepter, inconnu
        self.nouvelles: list[str] = []

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        if self.accepter and self.inconnu:
            nom = cles_hote.nom_known_hosts(host, port)
            self.nouvelles.append(f"{nom} {key.export_public_key().decode().strip()}\n")
            return True
        return False


class Balayage:
    """One sweep over ``cibles`` with ``controles`` (reusable: connections can be kept between sweeps)."""

    def __init__(
        self,
        controles: list[Controle],
        ssh: ParametresSsh | None = None,
        parallele: int = 50,
        ecrire: Callable[[Cible, ResultatHote], None] | None = None,
        progression: Callable[[Avancement], None] | None = None,
        garder_connexions: bool = False,
    ) -> None:
        if parallele < 1:
            raise ValueError("parallele doit valoir au moins 1")
        self.controles = controles
        self.ssh = ssh or ParametresSsh()
        self.parallele = parallele
        self.ecrire = ecrire
        self.progression = progression
        self.garder = garder_connexions
        self._connexions: dict[tuple[str, int, str], asyncssh.SSHClientConnection] = {}
        self._cles = None
        self._known_hosts: asyncssh.SSHKnownHosts | None = None
        self._kh_lu = False

    # -- public -----------------------------------------------------------------------------
    def executer(self, cibles: list[Cible]) -> list[ResultatHote]:
        return asyncio.run(self.balayer(cibles))

    async def balayer(self, cibles: list[Cible]) -> list[ResultatHote]:
        self._preparer()
        avancement = Avancement(len(cibles))
        semaphore = asyncio.Semaphore(self.parallele)
        ecrivain = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ardoise-ecriture")
        boucle = asyncio.get_running_loop()

        async def un(cible: Cible) -> ResultatHote:
            async with semaphore:
                r = await self._hote(cible)
            if self.ecrire is not None:
                await boucle.run_in_executor(ecrivain, self.ecrire, cible, r)
            avancement.faits += 1
            avancement.echecs += r.echoue
            avancement.dernier = cible.nom
            avancement.dernier_statut = r.statut.value
            if self.progression:
                self.progression(avancement)
            return r

        try:
            return list(await asyncio.gather(*(un(c) for c in cibles)))
        finally:
            ecrivain.shutdown(wait=True)
            if not self.garder:
                await self.fermer()

    def commande(self, cible: Cible, commande: str, entree: str = "", delai: float = 60.0) -> str:
        """Run one command on one host over this sweep's SSH settings (key, host-key policy); return its
        stdout. Raises the French errors of :mod:`ardoise.erreurs` (unknown or changed host key, refused
        key, host down, command failed)."""
        return asyncio.run(self._commande(cible, commande, entree, delai))

    async def _commande(self, cible: Cible, commande: str, entree: str, delai: float) -> str:
        self._preparer()
        try:
            conn = await self._connexion(cible)
        except asyncssh.HostKeyNotVerifiable:
            refus = self._refus_cle(cible)
            raise cles_hote.ErreurCleHote(
                refus.raison or "", refus.details.get("cause") == "cle_changee"
            ) from None
        except asyncssh.PermissionDenied:
            raise ErreurAuthentification(
                f"authentification refusée pour {cible.utilisateur}@{cible.adresse} (clé SSH non autorisée ?) :"
                " donnez la clé du compte technicien (--cle ou ARDOISE_CLE_SSH)"
            ) from None
        except (OSError, asyncssh.Error, TimeoutError) as e:
            raise ErreurConnexion(
                f"{cible.nom} ({cible.adresse}:{cible.port}) ne répond pas ({_raison(e)})"
            ) from None
        try:
            r = await asyncio.wait_for(conn.run(commande, input=entree, check=False), delai)
        except (OSError, asyncssh.Error, TimeoutError) as e:
            raise ErreurConnexion(f"{cible.nom} : la commande a échoué ({_raison(e)})") from None
        finally:
            await self.fermer()
        if r.exit_status != 0:
            erreur = str(r.stderr or "").strip()[-300:]
            raise ErreurConnexion(f"{cible.nom} : la commande a échoué (code {r.exit_status}) : {erreur}")
        return str(r.stdout or "")

    async def fermer(self) -> None:
        connexions, self._connexions = list(self._connexions.values()), {}
        for c in connexions:
            c.close()
        for c in connexions:
            try:
                await asyncio.wait_for(c.wait_closed(), 5)
            except (TimeoutError, OSError):
                pass

    # -- per host ---------------------------------------------------------------------------
    def _preparer(self) -> None:
        cle = self.ssh.chemin_cle()
        if cle is not None and self._cles is None:
            try:
                self._cles = [asyncssh.read_private_key(str(cle))]
            except (OSError, asyncssh.KeyImportError) as e:
                raise ErreurConnexion(f"clé SSH illisible : {cle} ({e})") from None
        if not self._kh_lu:
            chemin = self.ssh.chemin_known_hosts()
            if chemin.exists():
                try:
                    self._known_hosts = asyncssh.read_known_hosts(str(chemin))
                except (OSError, ValueError) as e:
                    raise ErreurConnexion(f"fichier known_hosts illisible : {chemin} ({e})") from None
            elif not self.ssh.accepter_nouvelles_cles:
                log.warning("known_hosts absent (%s) : toutes les clés d'hôte seront refusées", chemin)
            self._kh_lu = True

    async def _hote(self, cible: Cible) -> ResultatHote:
        debut = time.monotonic()
        try:
            async with asyncio.timeout(self.ssh.delai_hote):
                r = await (self._par_ssh(cible) if cible.ssh else self._sonde(cible))
        except TimeoutError:
            self._oublier(cible)
            r = ResultatHote(cible.nom, StatutHote.echec, etape="delai",
                             raison=f"le poste n'a pas répondu en {self.ssh.delai_hote:g} s (lent ou bloqué)",
                             details={"cause": "lent"})  # fmt: skip
        r.duree_s = round(time.monotonic() - debut, 3)
        r.details.setdefault("adresse", cible.adresse)
        if r.verifications:
            r.details["pire"] = pire([v.niveau for v in r.verifications]).value
        return r

    def _oublier(self, cible: Cible) -> None:
        conn = self._connexions.pop((cible.adresse, cible.port, cible.utilisateur), None)
        if conn is not None:
            conn.abort()

    def _connu(self, cible: Cible) -> bool:
        if self._known_hosts is None:
            return False
        cles = self._known_hosts.match(cible.adresse, cible.adresse, cible.port)
        return bool(cles[0] or cles[1])

    async def _connexion(self, cible: Cible) -> asyncssh.SSHClientConnection:
        cle = (cible.adresse, cible.port, cible.utilisateur)
        conn = self._connexions.get(cle)
        if conn is not None and not conn.is_closed():
            return conn
        client = _Client(accepter=self.ssh.accepter_nouvelles_cles, inconnu=not self._connu(cible))
        options = {"client_keys": self._cles} if self._cles is not None else {}
        conn = await asyncssh.connect(
            cible.adresse, port=cible.port, username=cible.utilisateur, known_hosts=self._known_hosts or asyncssh.import_known_hosts(""),
            client_factory=lambda: client, config=None, agent_path=None,
            connect_timeout=self.ssh.delai_connexion, keepalive_interval=30, **options,
        )  # fmt: skip
        if client.nouvelles:
            self._retenir(client.nouvelles)
        self._connexions[cle] = conn
        return conn

    def _retenir(self, lignes: list[str]) -> None:
        chemin = self.ssh.chemin_known_hosts()
        cles_hote.retenir(chemin, lignes)
        self._known_hosts = asyncssh.read_known_hosts(str(chemin))

    async def _par_ssh(self, cible: Cible) -> ResultatHote:
        try:
            conn = await self._connexion(cible)
        except asyncssh.HostKeyNotVerifiable:
            return self._refus_cle(cible)
        except asyncssh.PermissionDenied:
            return ResultatHote(cible.nom, StatutHote.refuse, etape="authentification",
                                raison=f"authentification refusée pour {cible.utilisateur}@{cible.adresse} (clé SSH non autorisée ?)",
                                details={"cause": "authentification"})  # fmt: skip
        except (OSError, asyncssh.Error, TimeoutError) as e:
            return ResultatHote(cible.nom, StatutHote.injoignable, etape="connexion",
                                raison=f"{cible.adresse}:{cible.port} ne répond pas ({_raison(e)})",
                                details={"cause": "arret"})  # fmt: skip
        ctx = cible.contexte
        controles = [c for c in self.controles if c.ssh and c.s_applique(ctx)]
        commande = "bash -c " + shlex.quote(batch.construire(controles, ctx))
        t_envoi = time.time()
        try:
            proc = await conn.create_process(
                commande, encoding="utf-8", errors="replace", stderr=asyncssh.DEVNULL
            )
            # the first section's end marker brackets the clock reading: [t_envoi, t_ouvert]
            debut_sortie = []
            async for ligne in proc.stdout:
                debut_sortie.append(ligne)
                if ligne.startswith(f"{batch.MARQUE}:fin:"):
                    break
            t_ouvert = time.time()
            sortie = "".join(debut_sortie) + await proc.stdout.read()
            await proc.wait()
        except (OSError, asyncssh.Error) as e:
            self._oublier(cible)
            return ResultatHote(cible.nom, StatutHote.echec, etape="commande",
                                raison=f"la commande de vérification a échoué ({_raison(e)})", details={"cause": "session"})  # fmt: skip
        sections = batch.decouper(sortie or "")
        verifs = []
        for c in controles:
            texte, code = sections.get(c.nom, ("", None)) if c.script else ("", 0)
            verifs.append(c.evaluer(Sortie(texte, code, t_envoi, t_ouvert), ctx))
        return ResultatHote(cible.nom, StatutHote.ok, verifications=verifs)

    def _refus_cle(self, cible: Cible) -> ResultatHote:
        chemin = self.ssh.chemin_known_hosts()
        if self._connu(cible):
            raison = cles_hote.message_cle_changee(cible.nom, cible.adresse, cible.port, chemin)
            cause = "cle_changee"
        else:
            raison = cles_hote.message_cle_inconnue(cible.nom, cible.adresse, cible.port, chemin)
            cause = "cle_inconnue"
        return ResultatHote(
            cible.nom, StatutHote.refuse, etape="cle_hote", raison=raison, details={"cause": cause}
        )

    async def _sonde(self, cible: Cible) -> ResultatHote:
        """Devices without SSH: reachability and response time (TCP: an answer, even a refusal, is alive)."""
        ctrl = [c for c in self.controles if not c.ssh and c.s_applique(cible.contexte)]
        debut = time.monotonic()
        reponse = await _sonder(cible.adresse, self.ssh.delai_connexion)
        texte = f"ok {(time.monotonic() - debut) * 1000:.1f}" if reponse is None else f"echec {reponse}"
        verifs = [c.evaluer(Sortie(texte, 0), cible.contexte) for c in ctrl]
        statut = StatutHote.ok if reponse is None else StatutHote.injoignable
        return ResultatHote(cible.nom, statut, verifications=verifs,
                            raison=None if reponse is None else f"{cible.adresse} ne répond pas ({reponse})",
                            details={"cause": "arret"} if reponse else {})  # fmt: skip


async def _sonder(adresse: str, delai: float) -> str | None:
    """None when the address answers on any probed port (accept or refuse), else the reason."""

    async def port(p: int) -> bool:
        try:
            _, w = await asyncio.open_connection(adresse, p)
            w.close()
            return True
        except ConnectionRefusedError:
            return True

    taches = [asyncio.ensure_future(port(p)) for p in PORTS_SONDE]
    raison = f"aucune réponse en {delai:g} s"
    try:
        for fut in asyncio.as_completed(taches, timeout=delai):
            try:
                if await fut:
                    return None
            except OSError as e:
                raison = _raison(e)
    except TimeoutError:
        pass
    finally:
        for t in taches:
            t.cancel()
    return raison


def _raison(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "délai de connexion dépassé"
    if isinstance(e, ConnectionRefusedError):
        return "connexion refusée : sshd arrêté ?"
    if isinstance(e, OSError) and e.errno in (113, 101):
        return "hôte injoignable (éteint ou débranché ?)"
    texte = str(e) or type(e).__name__
    return texte
