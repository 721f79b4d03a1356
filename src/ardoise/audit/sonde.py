"""The network probes of the filtering audit, standard library only, run here or on a pupil PC.

This module imports nothing from Ardoise: ``ardoise audit filtrage --depuis HOTE`` sends its source to the
PC over SSH (``python3 -c``) with the probes as JSON on stdin, and reads the results as JSON on stdout; run
here, the same functions are called bound to this machine's address on the pupil VLAN. Either way a probe
list gives the same result list.

Probes (dicts): ``{"genre": "proxy", "proxy": [host, port], "url": …}`` a GET through an explicit proxy
(``https://`` through a CONNECT tunnel, as a browser does); ``{"genre": "http", "url": …}`` a GET without
proxy; ``{"genre": "directe", "hote": …, "port": …}`` a TCP connection without proxy; ``{"genre": "dns",
"nom": …, "serveur": …}`` an A query to a given DNS server (``serveur`` empty: the host's own resolver).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import ssl
import struct
import sys
from urllib.parse import urlsplit

DELAI = 5.0


class ErreurDns(Exception):
    pass


def requete_a(nom: str, serveur: str, delai: float = 2.0, source: str | None = None, port: int = 53) -> list:
    """The A records ``serveur`` answers for ``nom`` as strings (empty list: NXDOMAIN or no record)."""
    ident = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode("idna") for p in nom.rstrip(".").split(".")) + b"\0"
    paquet = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(delai)
        if source:
            s.bind((source, 0))
        try:
            s.sendto(paquet, (serveur, port))
            reponse, _ = s.recvfrom(4096)
        except OSError as e:
            raise ErreurDns(f"pas de réponse de {serveur} ({e.__class__.__name__})") from None
    rid, drapeaux, nq, nr, _, _ = struct.unpack("!HHHHHH", reponse[:12])
    if rid != ident:
        raise ErreurDns("réponse DNS d'une autre requête")
    if drapeaux & 0x000F not in (0, 3):
        raise ErreurDns(f"erreur DNS (code {drapeaux & 0x000F})")
    i = 12
    for _ in range(nq):
        i = _sauter_nom(reponse, i) + 4
    adresses = []
    for _ in range(nr):
        i = _sauter_nom(reponse, i)
        type_, _classe, _ttl, longueur = struct.unpack("!HHIH", reponse[i : i + 10])
        i += 10
        if type_ == 1 and longueur == 4:
            adresses.append(socket.inet_ntoa(reponse[i : i + 4]))
        i += longueur
    return adresses


def _sauter_nom(donnees: bytes, i: int) -> int:
    while True:
        longueur = donnees[i]
        if longueur == 0:
            return i + 1
        if longueur & 0xC0 == 0xC0:
            return i + 2
        i += longueur + 1


def _source(source: str | None) -> tuple[str, int] | None:
    return (source, 0) if source else None


def get(url: str, source: str | None, proxy: tuple[str, int] | None = None) -> dict:
    """``{"statut", "corps" (first 64 kB), "erreur"}`` of a GET, through ``proxy`` or direct.

    The certificate is not checked (the audit tests reachability and filtering, not the site's
    certificate). A refused CONNECT (e2guardian answers 302 or 403) is returned as that status with its
    reason as body.
    """
    parties = urlsplit(url)
    hote = parties.hostname or ""
    port = parties.port or (443 if parties.scheme == "https" else 80)
    chemin = (parties.path or "/") + (f"?{parties.query}" if parties.query else "")
    try:
        if parties.scheme == "https":
            contexte = ssl.create_default_context()
            contexte.check_hostname, contexte.verify_mode = False, ssl.CERT_NONE
            if proxy:
                cx: http.client.HTTPConnection = http.client.HTTPSConnection(
                    proxy[0], proxy[1], timeout=DELAI, source_address=_source(source), context=contexte
                )
                cx.set_tunnel(hote, port)
            else:
                cx = http.client.HTTPSConnection(hote, port, timeout=DELAI, source_address=_source(source),
                                                 context=contexte)  # fmt: skip
        elif proxy:
            cx = http.client.HTTPConnection(proxy[0], proxy[1], timeout=DELAI, source_address=_source(source))
            chemin = url
        else:
            cx = http.client.HTTPConnection(hote, port, timeout=DELAI, source_address=_source(source))
        cx.request("GET", chemin, headers={"Host": hote, "User-Agent": "ardoise-audit"})
        r = cx.getresponse()
        corps = r.read(65536).decode("utf-8", errors="replace")
        cx.close()
        return {"statut": r.status, "corps": corps, "erreur": ""}
    except OSError as e:
        m = re.match(r"Tunnel connection failed: (\d{3}) ?(.*)", str(e))
        if m:
            return {"statut": int(m.group(1)), "corps": f"CONNECT refusé : {m.group(2)}", "erreur": ""}
        return {"statut": None, "corps": "", "erreur": f"{type(e).__name__} : {e}"}
    except http.client.HTTPException as e:
        return {"statut": None, "corps": "", "erreur": f"{type(e).__name__} : {e}"}


def directe(hote: str, port: int, source: str | None) -> dict:
    """``{"etablie", "detail"}``: is a direct TCP connection (no proxy) established?"""
    try:
        adresse = socket.gethostbyname(hote)
    except OSError as e:
        return {"etablie": False, "detail": f"nom non résolu ({e})"}
    try:
        with socket.create_connection((adresse, port), timeout=DELAI / 2, source_address=_source(source)):
            return {"etablie": True, "detail": f"connexion établie avec {adresse}:{port}"}
    except TimeoutError:
        return {"etablie": False, "detail": f"{adresse}:{port} : délai dépassé (filtré)"}
    except OSError as e:
        return {"etablie": False, "detail": f"{adresse}:{port} : {e.strerror or e}"}


def resoudre(nom: str, serveur: str | None, source: str | None, port: int = 53) -> dict:
    """``{"adresses", "erreur"}``: the A records of ``nom`` from ``serveur`` (else the host's resolver)."""
    try:
        if serveur:
            return {"adresses": requete_a(nom, serveur, source=source, port=port), "erreur": ""}
        infos = socket.getaddrinfo(nom, None, socket.AF_INET, socket.SOCK_STREAM)
        return {"adresses": sorted({i[4][0] for i in infos}), "erreur": ""}
    except socket.gaierror as e:
        if e.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return {"adresses": [], "erreur": ""}
        return {"adresses": None, "erreur": f"{e}"}
    except ErreurDns as e:
        return {"adresses": None, "erreur": str(e)}


def executer(sondes: list[dict], source: str | None = None) -> list[dict]:
    """Run each probe in order; one result dict per probe."""
    r = []
    for s in sondes:
        if s["genre"] == "proxy":
            r.append(get(s["url"], source, (s["proxy"][0], int(s["proxy"][1]))))
        elif s["genre"] == "http":
            r.append(get(s["url"], source))
        elif s["genre"] == "directe":
            r.append(directe(s["hote"], int(s["port"]), source))
        elif s["genre"] == "dns":
            r.append(resoudre(s["nom"], s.get("serveur"), source, int(s.get("port", 53))))
        else:
            r.append({"erreur": f"sonde inconnue : {s['genre']}"})
    return r


if __name__ == "__main__":  # on the PC: probes on stdin, results on stdout
    json.dump(executer(json.load(sys.stdin)), sys.stdout, ensure_ascii=False)
