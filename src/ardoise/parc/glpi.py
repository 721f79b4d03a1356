"""Push incidents to GLPI through its REST API (``apirest.php``), as published in GLPI's apirest.md.

``initSession`` (``Authorization: user_token …`` and ``App-Token``) → ``POST /Ticket`` →
``PUT /Ticket/:id`` and ``POST /ITILFollowup`` / ``POST /ITILSolution`` → ``killSession``.
Tokens are :class:`ardoise.secrets.Secret` values: revealed only into the request headers, never
logged, never part of an error message.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from ardoise.erreurs import ErreurAuthentification, ErreurConnexion
from ardoise.secrets import Secret, masquer

log = logging.getLogger(__name__)

# GLPI ticket statuses (CommonITILObject): 1 new, 2 processing (assigned), 4 pending, 5 solved, 6 closed
STATUT_NOUVEAU, STATUT_EN_COURS, STATUT_EN_ATTENTE, STATUT_RESOLU, STATUT_CLOS = 1, 2, 4, 5, 6
TYPE_INCIDENT = 1

_ERREURS = {
    "ERROR_GLPI_LOGIN_USER_TOKEN": "jeton utilisateur GLPI refusé (user_token)",
    "ERROR_WRONG_APP_TOKEN_PARAMETER": "jeton d'application GLPI refusé (App-Token)",
    "ERROR_APP_TOKEN_PARAMETERS_MISSING": "GLPI exige un jeton d'application (app_token)",
    "ERROR_SESSION_TOKEN_INVALID": "session GLPI invalide ou expirée",
    "ERROR_SESSION_TOKEN_MISSING": "session GLPI absente",
    "ERROR_NOT_ALLOWED_IP": "GLPI refuse l'adresse IP de ce poste (Configuration > Générale > API)",
    "ERROR_RIGHT_MISSING": "le compte GLPI n'a pas le droit de faire cette action",
    "ERROR_ITEM_NOT_FOUND": "ticket GLPI introuvable",
}


class ConnecteurGlpi:
    """One GLPI API root; use as a context manager (the session is killed on exit)."""

    def __init__(self, url: str, user_token: Secret, app_token: Secret | None = None,
                 entite: int | None = None, delai_s: float = 20.0) -> None:  # fmt: skip
        self.url = url.rstrip("/")
        self._user_token = user_token
        self._app_token = app_token
        self.entite = entite
        self.delai_s = delai_s
        self._session: str | None = None

    def __enter__(self) -> ConnecteurGlpi:
        self.ouvrir_session()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fermer_session()

    # -- HTTP ------------------------------------------------------------------------------------
    def _entetes(self, initial: bool = False) -> dict[str, str]:
        entetes = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._app_token is not None:
            entetes["App-Token"] = self._app_token.reveler()
        if initial:
            entetes["Authorization"] = f"user_token {self._user_token.reveler()}"
        elif self._session:
            entetes["Session-Token"] = self._session
        return entetes

    def _appel(self, methode: str, chemin: str, corps: dict | None = None, initial: bool = False) -> Any:
        donnees = json.dumps(corps).encode() if corps is not None else None
        req = urllib.request.Request(f"{self.url}/{chemin}", data=donnees, method=methode,
                                     headers=self._entetes(initial))  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=self.delai_s) as r:
                texte = r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            texte = e.read().decode("utf-8", "replace")
            code, detail = _erreur_glpi(texte)
            message = _ERREURS.get(code, f"GLPI a répondu {e.code} {code or ''}".strip())
            secrets = [s.reveler() for s in (self._user_token, self._app_token) if s] + [self._session or ""]
            message = masquer(f"{message} ({methode} {chemin}{' : ' + detail if detail else ''})", secrets)
            if e.code == 401 or code in ("ERROR_GLPI_LOGIN_USER_TOKEN", "ERROR_WRONG_APP_TOKEN_PARAMETER"):
                raise ErreurAuthentification(message) from None
            raise ErreurConnexion(message) from None
        except (urllib.error.URLError, OSError) as e:
            raison = getattr(e, "reason", e)
            raise ErreurConnexion(f"GLPI injoignable ({self.url}) : {raison}") from None
        try:
            return json.loads(texte) if texte.strip() else None
        except ValueError:
            raise ErreurConnexion(f"réponse GLPI illisible ({methode} {chemin})") from None

    # -- session ---------------------------------------------------------------------------------
    def ouvrir_session(self) -> None:
        r = self._appel("GET", "initSession", initial=True)
        if not isinstance(r, dict) or not r.get("session_token"):
            raise ErreurConnexion("GLPI n'a pas renvoyé de session (initSession)")
        self._session = str(r["session_token"])

    def fermer_session(self) -> None:
        if self._session is None:
            return
        try:
            self._appel("GET", "killSession")
        except ErreurConnexion as e:  # the ticket work is done; a stale session expires by itself
            log.warning("fermeture de la session GLPI impossible : %s", e)
        self._session = None

    # -- tickets ---------------------------------------------------------------------------------
    def creer_ticket(self, titre: str, contenu: str, urgence: int = 3) -> int:
        entree: dict[str, Any] = {"name": titre, "content": contenu, "type": TYPE_INCIDENT,
                                  "status": STATUT_NOUVEAU, "urgency": urgence}  # fmt: skip
        if self.entite is not None:
            entree["entities_id"] = self.entite
        r = self._appel("POST", "Ticket", {"input": entree})
        ident = r.get("id") if isinstance(r, dict) else None
        if not ident:
            raise ErreurConnexion("GLPI n'a pas renvoyé le numéro du ticket créé")
        return int(ident)

    def mettre_a_jour(self, ticket: int, statut: int | None = None, suivi: str | None = None) -> None:
        if statut is not None:
            self._appel("PUT", f"Ticket/{ticket}", {"input": {"status": statut}})
        if suivi:
            self._appel("POST", "ITILFollowup",
                        {"input": {"itemtype": "Ticket", "items_id": ticket, "content": suivi}})  # fmt: skip

    def clore(self, ticket: int, solution: str) -> None:
        self._appel("POST", "ITILSolution",
                    {"input": {"itemtype": "Ticket", "items_id": ticket, "content": solution}})  # fmt: skip
        self._appel("PUT", f"Ticket/{ticket}", {"input": {"status": STATUT_CLOS}})


def _erreur_glpi(texte: str) -> tuple[str | None, str | None]:
    """GLPI errors are a two-item JSON list: ``["ERROR_CODE", "message"]``."""
    try:
        r = json.loads(texte)
    except ValueError:
        return None, None
    if isinstance(r, list) and r and isinstance(r[0], str):
        return r[0], (str(r[1]) if len(r) > 1 else None)
    return None, None


def connecteur_pour(territoire, uai: str, mot_de_passe=None) -> ConnecteurGlpi | None:
    """The GLPI connector configured for a school's commune (``politique.parc.glpi``), or None."""
    from ardoise.inventaire.coffre import reveler

    cfg = territoire.ecole(uai).politique.parc.glpi
    if cfg is None:
        return None
    noms = [cfg.user_token.coffre] + ([cfg.app_token.coffre] if cfg.app_token else [])
    secrets = reveler(territoire.fichier_coffre, noms, mot_de_passe)
    return ConnecteurGlpi(
        cfg.url,
        secrets[cfg.user_token.coffre],
        secrets[cfg.app_token.coffre] if cfg.app_token else None,
        cfg.entite,
    )
