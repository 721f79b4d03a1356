"""The filtering audit for the two policy modes the lab school does not use: a PAC file and DNS filtering.

Real peers on the loopback: an HTTP server publishes the PAC file and the ENT, and stands in for the proxy
(it answers absolute-URI requests: 403 for every site, and records them) — a STAND-IN for e2guardian, which
runs only in the lab; a real dnsmasq is the DNS filter. Name resolution is pinned to 127.0.0.1 for the
school's test domains so that no query leaves the machine.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ardoise.audit import filtrage, sonde
from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.modele import Ent, Proxy
from ardoise.inventaire.types import ModeProxy

RACINE = Path(__file__).resolve().parents[3]
JEUX, ADULTE, MALWARE = (
    "jeux-argent.test-ardoise.fr",
    "adulte.test-ardoise.fr",
    "logiciel-malveillant.test-ardoise.fr",
)
ENT = "ent.coteaux.example"


class _Serveur(BaseHTTPRequestHandler):
    pac = ""
    vus: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("http://"):  # a proxy request (absolute URI)
            self.vus.append(self.path)
            self._repondre(403, "Accès refusé par le filtrage")
        elif self.path == "/proxy.pac":
            self._repondre(200, self.pac, "application/x-ns-proxy-autoconfig")
        else:
            self._repondre(200, "<html><title>ENT</title>Bienvenue sur l'ENT</html>")

    def _repondre(self, code: int, corps: str, genre: str = "text/html") -> None:
        donnees = corps.encode()
        self.send_response(code)
        self.send_header("Content-Type", genre)
        self.send_header("Content-Length", str(len(donnees)))
        self.end_headers()
        self.wfile.write(donnees)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def serveur(monkeypatch):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Serveur)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    reel = socket.getaddrinfo

    def getaddrinfo(hote, *args, **kwargs):  # the school's test names -> loopback, nothing else resolves
        if isinstance(hote, str) and hote.endswith((".test-ardoise.fr", ".coteaux.example")):
            hote = "127.0.0.1"
        return reel(hote, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", lambda h: getaddrinfo(h, None, socket.AF_INET)[0][4][0])
    _Serveur.vus = []
    yield httpd.server_address[1]
    httpd.shutdown()


def _ecole(proxy: Proxy, port: int, dns: str = "127.0.0.1"):
    ecole = charger(RACINE / "inventaire").ecole("0331101T")
    pol = ecole.politique
    politique = pol.model_copy(update={
        "proxy": proxy, "dns": [dns], "ent": Ent(url=f"http://{ENT}:{port}/"),
        "filtrage": pol.filtrage.model_copy(update={"categories_bloquees": ["adult", "gambling", "malware"],
                                                    "doh_bloque": False}),
    })  # fmt: skip
    return dataclasses.replace(ecole, politique=politique)


def _origine(port_dns: int = 53) -> filtrage.Origine:
    def executer(sondes: list[dict]) -> list[dict]:
        return sonde.executer(
            [{**s, "port": port_dns} if s["genre"] == "dns" else s for s in sondes], "127.0.0.1"
        )

    return filtrage.Origine("127.0.0.1 (essai)", executer)


def test_pac_sends_pupils_to_the_proxy_it_names(serveur: int) -> None:
    _Serveur.pac = f"""function FindProxyForURL(url, host) {{
        if (shExpMatch(host, "*.coteaux.example") || host == "{JEUX}") return "DIRECT";
        return "PROXY 127.0.0.1:{serveur}; DIRECT";
    }}"""  # the gambling site slipped into the exceptions: pupils reach it without the proxy
    ecole = _ecole(Proxy(mode=ModeProxy.pac, pac=f"http://127.0.0.1:{serveur}/proxy.pac"), serveur)
    essais, constats, _ = filtrage.tester(ecole, _origine())
    assert {(k.code, k.sujet) for k in constats} == {("pac-sans-proxy", "gambling")}
    assert sorted(_Serveur.vus) == [f"http://{ADULTE}/", f"http://{MALWARE}/"]  # through the PAC's proxy
    resultats = {e.nom: e.conforme for e in essais}
    assert resultats["fichier PAC"] and resultats["catégorie adult"] and resultats["ENT accessible"]
    assert not resultats["PAC : catégorie gambling vers le proxy"]


def test_unreadable_pac_is_critical(serveur: int) -> None:
    _Serveur.pac = "function FindProxyForURL(url, host) { return PROXY; "  # broken JavaScript
    ecole = _ecole(Proxy(mode=ModeProxy.pac, pac=f"http://127.0.0.1:{serveur}/proxy.pac"), serveur)
    _, constats, _ = filtrage.tester(ecole, _origine())
    assert [(k.code, k.gravite.value) for k in constats] == [("pac-illisible", "critique")]


@pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq absent (scripts/installer-labo.sh)")
def test_dns_filtering_blocked_domains_do_not_resolve(serveur: int, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port_dns = s.getsockname()[1]
    dnsmasq = subprocess.Popen(
        ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
         "--listen-address=127.0.0.1", f"--port={port_dns}", f"--pid-file={tmp_path / 'pid'}",
         "--local=/test-ardoise.fr/", f"--address=/{JEUX}/0.0.0.0", f"--address=/{ADULTE}/198.51.100.2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip  # gambling -> block address, adult leaks through, malware -> NXDOMAIN
    try:
        for _ in range(50):
            try:
                sonde.requete_a(JEUX, "127.0.0.1", port=port_dns, delai=0.2)
                break
            except sonde.ErreurDns:
                time.sleep(0.1)
        essais, constats, _ = filtrage.tester(_ecole(Proxy(mode=ModeProxy.dns), serveur), _origine(port_dns))
    finally:
        dnsmasq.terminate()
        dnsmasq.wait(5)
    assert {(k.code, k.sujet, k.gravite.value) for k in constats} == {
        ("categorie-non-bloquee", "adult", "critique")
    }
    obtenus = {e.nom: e.obtenu for e in essais}
    assert obtenus["catégorie gambling"] == "bloqué" and obtenus["catégorie malware"] == "bloqué (NXDOMAIN)"
    assert obtenus["ENT accessible"] == "accessible" and not _Serveur.vus  # no proxy in DNS mode
    assert not [e for e in essais if e.nom.startswith("accès direct")]
