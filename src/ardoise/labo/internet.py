"""The lab's fake internet: HTTP (80) and HTTPS (443) answering per Host header.

Run inside the internet namespace by the lab::

    python -m ardoise.labo.internet --config sites.json --dossier DIR

``sites.json`` is ``[{"domaine", "role", "categorie"}, ...]``. A self-signed certificate covering
every site is generated at start in DIR. Every request is logged on stdout.
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import logging
import socketserver
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)

TITRES = {
    "ent": "ENT de test",
    "gar": "GAR de test",
    "bloque": "Site à bloquer de test",
    "general": "Site de test",
}


def page(domaine: str, role: str, categorie: str | None, chemin: str) -> str:
    """The recognisable page of one site."""
    titre = TITRES.get(role, "Site de test")
    cat = f"<p>Catégorie UT1 : {html.escape(categorie)}</p>" if categorie else ""
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{titre}</title></head>'
        f"<body><h1>{titre}</h1><p>Domaine : {html.escape(domaine)}</p><p>Chemin : {html.escape(chemin)}</p>"
        f"{cat}<p>Servi par l'internet du laboratoire Ardoise.</p></body></html>\n"
    )


class Serveur(ThreadingHTTPServer):
    """HTTP server that never resolves its own name (no DNS reachable from the namespaces)."""

    daemon_threads = True

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class Statique(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        print(f"{self.client_address[0]} {format % args}", flush=True)


def fabrique(sites: dict[str, dict]) -> type[BaseHTTPRequestHandler]:
    class Gestionnaire(BaseHTTPRequestHandler):
        server_version = "ArdoiseInternet/1"

        def _repondre(self, corps: bool) -> None:
            hote = (self.headers.get("Host") or "").split(":")[0].lower().rstrip(".")
            site = sites.get(hote)
            if site is None:
                statut = 404
                contenu = (
                    f"<html><head><title>Site inconnu</title></head><body>{html.escape(hote)}</body></html>\n"
                )
            else:
                statut = 200
                contenu = page(hote, site["role"], site.get("categorie"), self.path)
            donnees = contenu.encode()
            self.send_response(statut)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(donnees)))
            self.end_headers()
            if corps:
                self.wfile.write(donnees)

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            self._repondre(True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._repondre(False)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            print(f"{self.client_address[0]} {format % args}", flush=True)

    return Gestionnaire


def certificat(dossier: Path, domaines: list[str]) -> tuple[Path, Path]:
    """Generate a self-signed certificate for every site (openssl)."""
    cert, cle = dossier / "internet.crt", dossier / "internet.key"
    san = ",".join(f"DNS:{d}" for d in domaines) or "DNS:localhost"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
         "/CN=internet.ardoise-labo", "-addext", f"subjectAltName={san}", "-keyout", str(cle), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, cle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Internet factice du laboratoire Ardoise")
    parser.add_argument("--config", type=Path, help="sites (JSON) : mode internet, ports 80 et 443")
    parser.add_argument("--dossier", type=Path, help="dossier du certificat (mode internet)")
    parser.add_argument("--statique", type=Path, help="sert ce dossier tel quel (mode fichiers)")
    parser.add_argument("--adresse", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=80)
    args = parser.parse_args(argv)
    if args.statique:
        serveur = Serveur(
            (args.adresse, args.port), functools.partial(Statique, directory=str(args.statique))
        )
        print("PRET", flush=True)
        serveur.serve_forever()
        return 0
    if not args.config or not args.dossier:
        parser.error("--config et --dossier sont requis hors mode --statique")
    sites = {s["domaine"].lower(): s for s in json.loads(args.config.read_text())}
    args.dossier.mkdir(parents=True, exist_ok=True)
    cert, cle = certificat(args.dossier, sorted(sites))
    gestionnaire = fabrique(sites)
    http = Serveur((args.adresse, args.port), gestionnaire)
    https = Serveur((args.adresse, 443), gestionnaire)
    contexte = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    contexte.load_cert_chain(cert, cle)
    https.socket = contexte.wrap_socket(https.socket, server_side=True)
    threading.Thread(target=https.serve_forever, daemon=True).start()
    print("PRET", flush=True)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
