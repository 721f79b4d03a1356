"""STAND-IN for GLPI's REST API (``apirest.php``) — NOT GLPI: GLPI cannot run here.

Follows GLPI's published API documentation (apirest.md): ``GET initSession`` with
``Authorization: user_token …`` and the ``App-Token`` header → ``{"session_token": …}``;
``POST /Ticket``, ``/ITILFollowup``, ``/ITILSolution`` with ``{"input": {…}}`` → 201 ``{"id": N}``;
``PUT /Ticket/:id`` → 200 ``[{"N": true, "message": ""}]``; ``GET killSession``; errors as
``["ERROR_CODE", "message"]`` with the documented HTTP statuses (400, 401, 404). Listens on
127.0.0.1 only; records every request (headers included) so tests can check what was sent.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GlpiDoublure:
    """``with GlpiDoublure(user_token, app_token) as g: g.url`` → ``http://127.0.0.1:PORT/apirest.php``."""

    def __init__(self, user_token: str, app_token: str | None = None) -> None:
        self.user_token = user_token
        self.app_token = app_token
        self.sessions: set[str] = set()
        self.sessions_fermees: list[str] = []
        self.tickets: dict[int, dict] = {}
        self.suivis: list[dict] = []
        self.solutions: list[dict] = []
        self.requetes: list[dict] = []  # method, path, headers, body
        self._suivant = 1
        self._verrou = threading.Lock()
        self._serveur = ThreadingHTTPServer(("127.0.0.1", 0), self._gestionnaire())
        self._fil = threading.Thread(target=self._serveur.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._serveur.server_address[1]}/apirest.php"

    def __enter__(self) -> GlpiDoublure:
        self._fil.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serveur.shutdown()
        self._serveur.server_close()

    def _gestionnaire(self):
        doublure = self

        class Gestionnaire(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _repondre(self, code: int, corps) -> None:
                donnees = json.dumps(corps).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(donnees)))
                self.end_headers()
                self.wfile.write(donnees)

            def _traiter(self, methode: str) -> None:
                longueur = int(self.headers.get("Content-Length") or 0)
                brut = self.rfile.read(longueur) if longueur else b""
                chemin = self.path.split("?")[0]
                with doublure._verrou:
                    doublure.requetes.append({"methode": methode, "chemin": chemin, "entetes": dict(self.headers),
                                              "corps": brut.decode()})  # fmt: skip
                if not chemin.startswith("/apirest.php/"):
                    return self._repondre(
                        404, ["ERROR_ITEMTYPE_NOT_FOUND_NOR_COMMONDBTM", "ressource inconnue"]
                    )
                ressource = chemin.removeprefix("/apirest.php/").strip("/")
                if doublure.app_token is not None:
                    app = self.headers.get("App-Token")
                    if not app:
                        return self._repondre(
                            400, ["ERROR_APP_TOKEN_PARAMETERS_MISSING", "App-Token manquant"]
                        )
                    if app != doublure.app_token:
                        return self._repondre(400, ["ERROR_WRONG_APP_TOKEN_PARAMETER", "App-Token incorrect"])
                if ressource == "initSession":
                    if methode != "GET" or brut:
                        return self._repondre(400, ["ERROR", "initSession : GET sans corps"])
                    if self.headers.get("Authorization") != f"user_token {doublure.user_token}":
                        return self._repondre(
                            401, ["ERROR_GLPI_LOGIN_USER_TOKEN", "le paramètre user_token semble incorrect"]
                        )
                    jeton = secrets.token_hex(20)
                    doublure.sessions.add(jeton)
                    return self._repondre(200, {"session_token": jeton})
                session = self.headers.get("Session-Token")
                if not session:
                    return self._repondre(400, ["ERROR_SESSION_TOKEN_MISSING", "Session-Token manquant"])
                if session not in doublure.sessions:
                    return self._repondre(
                        401, ["ERROR_SESSION_TOKEN_INVALID", "session_token semble incorrect"]
                    )
                if ressource == "killSession":
                    doublure.sessions.discard(session)
                    doublure.sessions_fermees.append(session)
                    return self._repondre(200, {})
                try:
                    corps = json.loads(brut) if brut else {}
                except ValueError:
                    return self._repondre(400, ["ERROR_JSON_PAYLOAD_INVALID", "JSON invalide"])
                entree = corps.get("input") if isinstance(corps, dict) else None
                if methode in ("POST", "PUT") and not isinstance(entree, dict):
                    return self._repondre(400, ["ERROR_BAD_ARRAY", "input attendu"])
                if methode == "POST" and ressource in ("Ticket", "ITILFollowup", "ITILSolution"):
                    with doublure._verrou:
                        ident = doublure._suivant
                        doublure._suivant += 1
                    if ressource == "Ticket":
                        doublure.tickets[ident] = dict(entree)
                    elif entree.get("items_id") not in doublure.tickets:
                        return self._repondre(400, ["ERROR_GLPI_ADD", "ticket inconnu"])
                    else:
                        (doublure.suivis if ressource == "ITILFollowup" else doublure.solutions).append(
                            dict(entree)
                        )
                    return self._repondre(201, {"id": ident, "message": ""})
                if methode == "PUT" and ressource.startswith("Ticket/"):
                    ident = int(ressource.split("/")[1])
                    if ident not in doublure.tickets:
                        return self._repondre(404, ["ERROR_ITEM_NOT_FOUND", "élément introuvable"])
                    doublure.tickets[ident].update(entree)
                    return self._repondre(200, [{str(ident): True, "message": ""}])
                return self._repondre(400, ["ERROR_METHOD_NOT_ALLOWED", f"{methode} {ressource}"])

            def do_GET(self) -> None:
                self._traiter("GET")

            def do_POST(self) -> None:
                self._traiter("POST")

            def do_PUT(self) -> None:
                self._traiter("PUT")

        return Gestionnaire
