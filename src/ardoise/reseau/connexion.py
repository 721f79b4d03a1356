"""One SSH session to a switch through netmiko, with French errors and redaction.

Where to connect: the manifest's management address and port, unless an access file
(``--acces FICHIER`` / ``$ARDOISE_RESEAU_ACCES``: ``{"sw-nom": {"adresse": "127.0.91.1", "port": 2201}}``)
says otherwise (SSH tunnel, bastion, the lab's emulators on loopback). Credentials come from the vault.
Host keys follow Ardoise's one policy (``ardoise.cles_hote``): the fleet's known_hosts, a changed key refused,
an unknown key recorded on the first session (switches never pass through the workshop), strict afterwards.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ardoise import cles_hote
from ardoise.erreurs import ErreurApplication, ErreurAuthentification, ErreurConnexion, ErreurUsage
from ardoise.reseau.plateformes import Plateforme
from ardoise.secrets import Secret, masquer

VARIABLE_ACCES = "ARDOISE_RESEAU_ACCES"


@dataclass(frozen=True)
class Acces:
    """How to reach one switch."""

    nom: str
    adresse: str
    port: int
    utilisateur: str
    mot_de_passe: Secret
    enable: Secret | None
    plateforme: Plateforme
    known_hosts: Path | None = None  # None: the fleet's (``cles_hote.fichier_known_hosts``)
    accepter_nouvelles_cles: bool = True  # first session records an unknown key; a CHANGED key is refused


def lire_acces(chemin: Path | None) -> dict[str, tuple[str, int]]:
    """The access override file (device name -> address, port); empty when none."""
    if chemin is None and os.environ.get(VARIABLE_ACCES):
        chemin = Path(os.environ[VARIABLE_ACCES])
    if chemin is None:
        return {}
    try:
        donnees = json.loads(Path(chemin).read_text(encoding="utf-8"))
        return {str(k): (str(v["adresse"]), int(v.get("port", 22))) for k, v in donnees.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ErreurUsage(
            f'fichier d\'accès {chemin} illisible ({type(e).__name__}) : {{"nom": {{"adresse", "port"}}}} attendu'
        ) from None


class Session:
    """A live netmiko connection; use as a context manager."""

    def __init__(self, acces: Acces, delai: float = 10.0, delai_lecture: float = 20.0) -> None:
        self.acces = acces
        self.delai = delai
        self.delai_lecture = delai_lecture
        self._cx = None

    def __enter__(self) -> Session:
        from netmiko import ConnectHandler
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        a = self.acces
        cx = None
        try:
            cx = ConnectHandler(
                device_type=a.plateforme.netmiko, host=a.adresse, port=a.port, username=a.utilisateur,
                password=a.mot_de_passe.reveler(),
                secret=(a.enable or a.mot_de_passe).reveler(),
                conn_timeout=self.delai, auth_timeout=self.delai, banner_timeout=self.delai,
                read_timeout_override=None, fast_cli=True, auto_connect=False,
                system_host_keys=False, alt_host_keys=False,
            )  # fmt: skip
            cx.key_policy = _politique_cles(a)  # every host key goes through Ardoise's policy
            cx._open()
            self._cx = cx
            _lecture_vigilante(self._cx)
            self._cx.enable()
        except cles_hote.ErreurCleHote:
            if cx is not None and getattr(cx, "remote_conn_pre", None) is not None:
                cx.remote_conn_pre.close()
            raise
        except NetmikoAuthenticationException:
            raise ErreurAuthentification(
                f"{a.nom} : identifiants refusés par {a.adresse}:{a.port} (vérifiez le coffre)"
            ) from None
        except (NetmikoTimeoutException, TimeoutError):
            raise ErreurConnexion(
                f"{a.nom} : injoignable à {a.adresse}:{a.port} (délai de {self.delai:g} s dépassé)"
            ) from None
        except (OSError, EOFError) as e:
            raise ErreurConnexion(f"{a.nom} : injoignable à {a.adresse}:{a.port} ({_raison(e)})") from None
        except Exception as e:  # netmiko raises plain ValueError/ReadTimeout on odd prompts
            raise ErreurConnexion(
                f"{a.nom} : session impossible avec {a.adresse}:{a.port} ({_raison(e)})"
            ) from None
        return self

    def __exit__(self, *_: object) -> None:
        self.fermer()

    def fermer(self) -> None:
        if self._cx is not None:
            try:
                self._cx.disconnect()
            except Exception:  # the session may already be gone
                pass
            self._cx = None

    def commande(self, commande: str, textfsm: bool = False):
        try:
            return self._cx.send_command(commande, read_timeout=self.delai_lecture, use_textfsm=textfsm)
        except Exception as e:
            raise ErreurConnexion(f"{self.acces.nom} : « {commande} » sans réponse ({_raison(e)})") from None

    def running(self) -> str:
        return self.commande(self.acces.plateforme.show_running)

    def pousser(self, lignes: list[str]) -> str:
        """Send configuration lines; any device error or session loss raises :class:`ErreurApplication`."""
        p = self.acces.plateforme
        if not lignes:
            return ""
        hostname = [ligne for ligne in lignes if re.match(r"^hostname ", ligne)]
        corps = [ligne for ligne in lignes if ligne not in hostname]
        sortie = ""
        try:
            if corps:
                if p.fin_config:
                    corps = [*corps, p.fin_config]
                sortie += self._cx.send_config_set(
                    corps, read_timeout=self.delai_lecture, error_pattern=p.erreur, cmd_verify=True
                )
            for ligne in hostname:  # the prompt changes: wait for the new one, then re-learn it
                nouveau = ligne.split(None, 1)[1].strip().strip('"')
                self._cx.config_mode()
                self._cx.write_channel(f"{ligne.strip()}\nend\n")
                # the new prompt, or the device's refusal (then the old prompt comes back, never the new one)
                recu = self._cx.read_until_pattern(
                    pattern=rf"{re.escape(nouveau)}#\s*$|{p.erreur}", read_timeout=self.delai_lecture
                )
                sortie += recu
                if re.search(p.erreur, recu):
                    break
                self._cx.set_base_prompt()
        except Exception as e:
            raise ErreurApplication(_raison_envoi(e)) from None
        if re.search(p.erreur, sortie):
            raise ErreurApplication("commande refusée par l'équipement : " + _ligne_erreur(sortie, p.erreur))
        return masquer(sortie)

    def sauver(self) -> None:
        p = self.acces.plateforme
        try:
            if p.sauver:
                for commande in p.sauver:
                    self._cx.send_command(commande, read_timeout=self.delai_lecture)
            else:
                self._cx.save_config()
        except Exception as e:
            raise ErreurApplication(f"sauvegarde de la configuration impossible : {_raison(e)}") from None


def _politique_cles(acces: Acces):
    import paramiko  # lazily, like netmiko

    class PolitiqueCles(paramiko.MissingHostKeyPolicy):
        """No key is preloaded into paramiko: every server key is checked here against the fleet's file."""

        def __init__(self, acces: Acces) -> None:
            self.acces = acces

        def missing_host_key(self, _client, _hostname: str, key) -> None:
            a = self.acces
            chemin = cles_hote.fichier_known_hosts(a.known_hosts)
            nom = cles_hote.nom_known_hosts(a.adresse, a.port)
            connues = paramiko.HostKeys()
            if chemin.exists():
                try:
                    connues.load(str(chemin))
                except (OSError, ValueError) as e:
                    raise ErreurConnexion(f"fichier known_hosts illisible : {chemin} ({e})") from None
            entree = connues.lookup(nom)
            if entree:
                if entree.get(key.get_name()) == key:
                    return
                raise cles_hote.ErreurCleHote(
                    cles_hote.message_cle_changee(a.nom, a.adresse, a.port, chemin), changee=True
                )
            if not a.accepter_nouvelles_cles:
                raise cles_hote.ErreurCleHote(
                    cles_hote.message_cle_inconnue(a.nom, a.adresse, a.port, chemin), changee=False
                )
            cles_hote.retenir(chemin, [f"{nom} {key.get_name()} {key.get_base64()}"])

    return PolitiqueCles(acces)


def _lecture_vigilante(cx) -> None:  # noqa: ANN001 (a netmiko connection)
    """A session the device dropped fails the read at once instead of waiting for the read timeout.

    netmiko only reads a paramiko channel when data is ready: a closed channel looks like a silent device, and
    every read of a dropped session (several per backup attempt) would wait its whole ``delai_lecture``.
    """
    from netmiko.exceptions import ReadException

    canal = getattr(cx, "channel", None)
    lire = getattr(canal, "read_buffer", None)
    if lire is None:
        return

    def read_buffer() -> str:
        sortie = lire()
        brut = canal.remote_conn
        if not sortie and brut is not None and getattr(brut, "closed", False):
            raise ReadException("session coupée par l'équipement")
        return sortie

    canal.read_buffer = read_buffer


def _raison_envoi(e: BaseException) -> str:
    """Why a push stopped, in French: the device refused a line (named), or the session went away."""
    texte = str(e)
    refus = re.search(r"Invalid input detected at command: (.*?), matched error: (.*)", texte, re.DOTALL)
    if type(e).__name__ == "ConfigInvalidException" and refus:
        commande, erreur = refus.group(1).strip(), refus.group(2).strip().splitlines()[0]
        return masquer(f"commande refusée par l'équipement : « {commande} » → {erreur}")
    if "Failed to exit configuration mode" in texte:
        return "commande refusée par l'équipement : « end » (sortie du mode configuration impossible)"
    return f"envoi interrompu : {_raison(e)}"


def _ligne_erreur(sortie: str, motif: str) -> str:
    lignes = sortie.splitlines()
    for i, ligne in enumerate(lignes):
        if re.search(motif, ligne):
            avant = lignes[i - 1].strip() if i else ""
            return masquer(f"{avant} → {ligne.strip()}")
    return ""


def _raison(e: BaseException) -> str:
    texte = str(e).strip().splitlines()
    premier = texte[0] if texte else ""
    if "Pattern not detected" in str(e) or type(e).__name__ == "ReadTimeout":
        premier = "pas de réponse (session coupée ?)"
    return masquer(f"{type(e).__name__} : {premier}"[:300])
