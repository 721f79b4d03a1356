"""The virtual school lab: start, inspect and stop one school built from a :class:`PlanLabo`.

Only one lab runs per machine. Its state (JSON) lives in the state dir (default
``/run/ardoise-labo/``, env ``ARDOISE_LABO_ETAT``) so another process (the CLI's ``arreter``) can
find every process, mount and namespace; :meth:`Labo.arreter` also sweeps anything carrying the lab
prefix, so it cleans up after a crashed lab too.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ardoise.labo import commutateurs, hotes, nettoyage, reseau, rootfs, services
from ardoise.labo.erreurs import LaboDejaDemarreErreur, LaboErreur
from ardoise.labo.hotes import Hote
from ardoise.labo.plan import PlanLabo
from ardoise.labo.services import Service
from ardoise.labo.systeme import verifier_root

log = logging.getLogger(__name__)

Progression = Callable[[str], None]
VERSION_ETAT = 1


def dossier_etat() -> Path:
    """The lab state directory."""
    return Path(os.environ.get("ARDOISE_LABO_ETAT", "/run/ardoise-labo"))


class Labo:
    """One school lab on this machine (state kept on disk, so any process can drive it)."""

    def __init__(self, etat: Path | None = None, taille_disque_hote: str = "1G") -> None:
        self.dossier = Path(etat) if etat else dossier_etat()
        self.taille_disque_hote = taille_disque_hote
        self.fichier_etat = self.dossier / "etat.json"
        self.journaux = self.dossier / "journaux"

    # -- state file ---------------------------------------------------------------------------
    def _lire(self) -> dict | None:
        try:
            return json.loads(self.fichier_etat.read_text())
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as e:
            raise LaboErreur(f"fichier d'état du labo illisible : {self.fichier_etat} ({e})") from e

    def _ecrire(self, etat: dict) -> None:
        tmp = self.fichier_etat.with_suffix(".tmp")
        tmp.write_text(json.dumps(etat, indent=1, ensure_ascii=False))
        tmp.replace(self.fichier_etat)

    @contextmanager
    def _verrou(self, attendre: bool = True) -> Iterator[None]:
        self.dossier.mkdir(parents=True, exist_ok=True)
        with open(self.dossier / ".verrou", "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | (0 if attendre else fcntl.LOCK_NB))
            except BlockingIOError as e:
                raise LaboDejaDemarreErreur("un démarrage du laboratoire est déjà en cours") from e
            yield

    def _hotes(self, etat: dict) -> list[Hote]:
        return [Hote(**h) for h in etat.get("hotes", [])]

    def _services(self, etat: dict, cle: str = "services") -> list[Service]:
        return [Service(**s) for s in etat.get(cle, [])]

    # -- public API ---------------------------------------------------------------------------
    @property
    def cle_ssh(self) -> Path:
        """The lab's private SSH key (authorised for the technician on every PC)."""
        return rootfs.dossier_cache() / "cle_labo"

    def demarrer(self, plan: PlanLabo, progression: Progression | None = None) -> dict:
        """Build and boot the school; return :meth:`etat`. Refused if a lab already runs."""
        prog = progression or (lambda _m: None)
        verifier_root()
        with self._verrou(attendre=False):
            if self.fichier_etat.exists() or reseau.namespaces_labo() or reseau.liens_racine_labo():
                raise LaboDejaDemarreErreur(
                    "un laboratoire est déjà démarré (ou n'a pas été arrêté proprement) : "
                    "arrêtez-le d'abord avec « ardoise labo arreter »"
                )
            debut = time.monotonic()
            shutil.rmtree(self.journaux, ignore_errors=True)
            self.journaux.mkdir(parents=True)
            self.dossier.chmod(0o755)
            etat: dict = {
                "version": VERSION_ETAT, "statut": "demarrage", "pid": os.getpid(),
                "uai": plan.uai, "ecole": plan.nom_ecole, "domaine": plan.domaine,
                "hotes": [], "services": [], "commutateurs": [],
            }  # fmt: skip
            self._ecrire(etat)
            try:
                self._construire(plan, etat, prog)
            except BaseException as e:
                prog("échec du démarrage du laboratoire : nettoyage")
                try:
                    self._arreter(prog)
                except Exception:  # noqa: BLE001 - keep the original error
                    log.exception("nettoyage après échec incomplet")
                if isinstance(e, LaboErreur | KeyboardInterrupt):
                    raise
                raise LaboErreur(f"échec du démarrage du laboratoire : {e}") from e
            etat["statut"] = "pret"
            self._ecrire(etat)
            prog(f"laboratoire prêt en {time.monotonic() - debut:.1f} s")
        return self.etat()

    def _construire(self, plan: PlanLabo, etat: dict, prog: Progression) -> None:
        prog("préparation de l'image des postes")
        lowerdir = rootfs.image_prete(prog)
        prog("création des réseaux (serveur, VLAN, internet)")
        reseau.creer_coeur(plan)
        prog("configuration et démarrage des services (DNS/DHCP, proxy, internet, dépôt APT)")
        svc = services.definir(plan, self.dossier, self.journaux)
        services.appliquer_nft(plan, self.dossier)
        etat["services"] = [s.en_dict() for s in svc]
        self._ecrire(etat)
        with ThreadPoolExecutor(max_workers=max(4, len(plan.postes) + 1)) as pool:
            attente_services = [pool.submit(services.demarrer, s) for s in svc]
            postes = self._preparer_postes(plan, lowerdir, etat, pool, prog)
            for f in attente_services:
                f.result()
            index_apt = pool.submit(services.prechauffer_relais_apt, self.journaux / "apt-prechauffage.log")
            etat["services"] = [s.en_dict() for s in svc]
            self._ecrire(etat)
            prog(f"démarrage de {len(postes)} poste(s) (systemd-nspawn)")
            for h in postes:
                hotes.demarrer(h, self.journaux / f"{h.nom}.log")
            etat["hotes"] = [h.en_dict() for h in postes]
            self._ecrire(etat)
            for f in [pool.submit(hotes.attendre_ssh, h) for h in postes]:
                f.result()
            index_apt.result()
        prog("postes joignables en ssh")
        prog("poste technicien (un pied dans chaque VLAN)")
        reseau.brancher_technicien(plan)
        commutateurs.ecrire_cablage(self.dossier, commutateurs.cablage_initial(plan))
        sws = []
        for i in range(1, len(plan.commutateurs) + 1):
            sws.append(commutateurs.definir(plan, i, self.dossier, self.journaux))
            etat["commutateurs"] = [s.en_dict() for s in sws]
            self._ecrire(etat)
        for s in sws:
            prog(f"démarrage de l'émulateur {s.nom}")
            commutateurs.demarrer(s)
        etat["commutateurs"] = [s.en_dict() for s in sws]
        etat["acces"] = self._acces(plan)

    def _acces(self, plan: PlanLabo) -> dict:
        serveur = services.adresse_serveur(plan)
        return {
            "serveur": serveur,
            "dns": services.dns_labo(plan),
            "proxy": f"http://{serveur}:{plan.proxy_port}",
            "proxy_apt": f"http://{reseau.ADRESSE_RACINE.ip}:{services.PORT_APT}",
            "signatures_clamav": f"http://{serveur}:{services.port_clamav(plan)}/",
            "internet": str(reseau.ADRESSE_INTERNET.ip),
            "cle_ssh": str(self.cle_ssh),
            "technicien": plan.technicien,
            "journal_proxy": str(self.journaux / "e2guardian-access.log"),
            "journal_squid": str(self.journaux / "squid-access.log"),
            "depot_git": f"git://{serveur}/",  # + a folder of depots_git (ansible-pull repositories)
            "depots_git": str(self.dossier / "depots"),
            "technicien_ns": reseau.NS_TECHNICIEN,
            "technicien_adresses": {
                str(v.id): str(reseau.adresse_technicien(v.reseau).ip) for v in plan.vlans
            },
        }

    def _fichiers_poste(self, plan: PlanLabo, nom: str, adresse: str) -> dict[str, str]:
        serveur = services.adresse_serveur(plan)
        return {
            "/etc/hostname": f"{nom}\n",
            "/etc/hosts": f"127.0.0.1 localhost\n{adresse} {nom}.{plan.domaine} {nom}\n"
            f"{serveur} {plan.serveur_nom}.{plan.domaine} {plan.serveur_nom}\n",
            "/etc/resolv.conf": f"search {plan.domaine}\n"
            + "".join(f"nameserver {d}\n" for d in services.dns_labo(plan)),
            # The relay (apt-cacher-ng) sometimes drops a connection: bounded waits and retries, so apt
            # fails or retries instead of waiting forever (default timeout 120 s, no retry).
            "/etc/apt/apt.conf.d/01ardoise-proxy": (
                f'Acquire::http::Proxy "http://{reseau.ADRESSE_RACINE.ip}:{services.PORT_APT}";\n'
                'Acquire::http::Timeout "30";\nAcquire::Retries "3";\n'
            ),
        }

    def _preparer_postes(
        self, plan: PlanLabo, lowerdir: Path, etat: dict, pool: ThreadPoolExecutor, prog: Progression
    ) -> list[Hote]:
        postes = []
        for i, p in enumerate(plan.postes, start=1):
            ns = reseau.brancher_poste(plan, i)
            postes.append(Hote(p.nom, ns, str(p.adresse), str(self.dossier / "hotes" / p.nom)))
        etat["hotes"] = [h.en_dict() for h in postes]
        self._ecrire(etat)
        prog(f"préparation de {len(postes)} poste(s) (overlay, clés d'hôte)")
        travaux = [
            pool.submit(
                hotes.preparer,
                h,
                lowerdir,
                fichiers=self._fichiers_poste(plan, h.nom, h.adresse),
                taille_disque=self.taille_disque_hote,
                technicien=plan.technicien,
            )
            for h in postes
        ]
        for t in travaux:
            t.result()
        return postes

    def etat(self) -> dict:
        """What runs, checked for real: ssh answers, PIDs alive and ports listening."""
        etat = self._lire()
        if etat is None:
            return {"demarre": False, "hotes": {}, "services": {}, "commutateurs": {}}
        rapport: dict = {
            "demarre": True,
            "statut": etat.get("statut"),
            "uai": etat.get("uai"),
            "domaine": etat.get("domaine"),
            "acces": etat.get("acces", {}),
            "hotes": {},
            "services": {},
            "commutateurs": {},
        }
        for h in self._hotes(etat):
            up = hotes.meneur(h) is not None and hotes.ssh_repond(h.adresse, 1.0)
            rapport["hotes"][h.nom] = {"adresse": h.adresse, "ns": h.ns, "etat": "up" if up else "down"}
        for cle in ("services", "commutateurs"):
            for s in self._services(etat, cle):
                nom = s.nom.split(":", 1)[-1]
                rapport[cle][nom] = {
                    "adresse": s.adresse,
                    "port": s.port,
                    "etat": "up" if s.actif() else "down",
                }
        return rapport

    def arreter(self, progression: Progression | None = None) -> None:
        """Stop everything, even after a crash; leave no namespace, link, mount or process."""
        verifier_root()
        with self._verrou():
            self._arreter(progression or (lambda _m: None))

    def _arreter(self, prog: Progression) -> None:
        debut = time.monotonic()
        etat = self._lire() or {}
        prog("arrêt des postes, des émulateurs et des services")
        hotes.arreter(self._hotes(etat))
        services.arreter(self._services(etat, "commutateurs") + self._services(etat, "services"))
        prog("nettoyage (processus, montages, espaces de noms, liens)")
        nettoyage.balayer(self.dossier)
        self.fichier_etat.unlink(missing_ok=True)
        for entree in self.dossier.iterdir() if self.dossier.exists() else []:
            if entree.name not in ("journaux", ".verrou"):
                shutil.rmtree(entree, ignore_errors=True) if entree.is_dir() else entree.unlink()
        prog(f"laboratoire arrêté en {time.monotonic() - debut:.1f} s")

    # -- used by pannes.py and tests ----------------------------------------------------------
    def _etat_requis(self) -> dict:
        etat = self._lire()
        if etat is None:
            raise LaboErreur("aucun laboratoire n'est démarré")
        return etat

    def hote(self, nom: str) -> Hote:
        for h in self._hotes(self._etat_requis()):
            if h.nom == nom:
                return h
        raise LaboErreur(f"poste inconnu dans le laboratoire : {nom}")

    def service(self, nom: str) -> Service:
        etat = self._etat_requis()
        for s in self._services(etat) + self._services(etat, "commutateurs"):
            if s.nom in (nom, f"commutateur:{nom}"):
                return s
        raise LaboErreur(f"service inconnu dans le laboratoire : {nom}")

    def _remplacer(self, cle: str, objet: Hote | Service) -> None:
        with self._verrou():
            etat = self._etat_requis()
            etat[cle] = [objet.en_dict() if o["nom"] == objet.nom else o for o in etat[cle]]
            self._ecrire(etat)

    def arreter_hote(self, nom: str) -> None:
        h = self.hote(nom)
        hotes.arreter([h])
        self._remplacer("hotes", h)

    def demarrer_hote(self, nom: str) -> None:
        h = self.hote(nom)
        if h.pid and hotes.meneur(h):
            return
        hotes.demarrer(h, self.journaux / f"{h.nom}.log")
        self._remplacer("hotes", h)
        hotes.attendre_ssh(h)

    def arreter_service(self, nom: str) -> None:
        s = self.service(nom)
        services.arreter([s])
        self._remplacer("commutateurs" if s.nom.startswith("commutateur:") else "services", s)

    def demarrer_service(self, nom: str) -> None:
        s = self.service(nom)
        if s.actif():
            return
        if s.nom.startswith("commutateur:"):
            commutateurs.demarrer(s)
            self._remplacer("commutateurs", s)
        else:
            services.demarrer(s)
            self._remplacer("services", s)
