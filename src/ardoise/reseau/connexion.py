"""One SSH session to a switch through netmiko, with French errors and redaction.

Where to connect: the manifest's management address and port, unless an access file
(``--acces FICHIER`` / ``$ARDOISE_RESEAU_ACCES``: ``{"sw-nom": {"adresse": "127.0.91.1", "port": 2201}}``)
says otherwise (SSH tunnel, bastion, the lab's emulators on loopback). Credentials come from the vault.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

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
        try:
            self._cx = ConnectHandler(
                device_type=a.plateforme.netmiko, host=a.adresse, port=a.port, username=a.utilisateur,
                password=a.mot_de_passe.reveler(),
                secret=(a.enable or a.mot_de_passe).reveler(),
                conn_timeout=self.delai, auth_timeout=self.delai, banner_timeout=self.delai,
                read_timeout_override=None, fast_cli=True,
            )  # fmt: skip
            self._cx.enable()
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
