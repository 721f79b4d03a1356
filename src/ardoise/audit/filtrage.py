"""Filtering tested from the pupils' side: from an address on a pupil VLAN, through the school's proxy.

Each test is an :class:`Essai` (what, expected, obtained, date and time); a failed test is a :class:`Constat`.
A blocked page of e2guardian comes back as HTTP 200: it is recognised by its content.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import re
import socket
import time
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address
from pathlib import Path
from urllib.parse import urlsplit

from ardoise.audit.constat import Constat, Gravite
from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.territoire import EcoleChargee
from ardoise.inventaire.types import ModeProxy
from ardoise.maintenance.verifications.securite import page_bloquee

log = logging.getLogger(__name__)

# Public DNS-over-HTTPS resolvers, by address (a pupil's browser reaches them without any DNS lookup).
RESOLVEURS_DOH = ("1.1.1.1", "8.8.8.8", "9.9.9.9")
DELAI = 5.0


@dataclass
class Essai:
    """One filtering test and its evidence."""

    nom: str
    cible: str
    attendu: str  # « refusé » / « accessible » / « journalisé »
    obtenu: str
    conforme: bool
    horodatage: str  # ISO 8601, local time with offset
    detail: str = ""

    def en_dict(self) -> dict:
        return asdict(self)


def _maintenant() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def source_sur_vlan(
    ecole: EcoleChargee, vlan: int | None, locales: set[IPv4Address]
) -> tuple[int, IPv4Address]:
    """(VLAN, this machine's address on it): the given VLAN, else the first pupil VLAN it is plugged into."""
    candidats = [v for v in ecole.modele.vlans if (v.id == vlan if vlan is not None else v.role.value in
                                                     ("pedagogique", "wifi-eleves"))]  # fmt: skip
    for v in candidats:
        for a in sorted(locales):
            if a in v.reseau:
                return v.id, a
    quoi = f"le VLAN {vlan}" if vlan is not None else "un VLAN élèves"
    reseaux = ", ".join(str(v.reseau) for v in candidats) or "aucun réseau"
    raise ErreurUsage(
        f"ce poste n'a aucune adresse sur {quoi} de {ecole.uai} ({reseaux}) : branchez-le sur une prise élève"
        " (ou donnez --depuis VLAN d'un réseau où il a une adresse)"
    )


def _via_proxy(proxy: tuple[str, int], url: str, source: str) -> tuple[int | None, str, str]:
    """(HTTP status, first 4 kB of the body, error) of a GET through the explicit proxy.

    ``https://`` goes through a CONNECT tunnel, as a browser does; the certificate is not checked (the
    audit tests reachability and filtering, not the site's certificate). A refused CONNECT (e2guardian
    answers 302 or 403) is returned as that status with its reason as body.
    """
    import ssl

    parties = urlsplit(url)
    hote = parties.hostname or ""
    try:
        if parties.scheme == "https":
            contexte = ssl.create_default_context()
            contexte.check_hostname, contexte.verify_mode = False, ssl.CERT_NONE
            cx: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxy[0], proxy[1], timeout=DELAI, source_address=(source, 0), context=contexte
            )
            cx.set_tunnel(hote, parties.port or 443)
            chemin = parties.path or "/"
        else:
            cx = http.client.HTTPConnection(proxy[0], proxy[1], timeout=DELAI, source_address=(source, 0))
            chemin = url
        cx.request("GET", chemin, headers={"Host": hote, "User-Agent": "ardoise-audit"})
        r = cx.getresponse()
        corps = r.read(4096).decode("utf-8", errors="replace")
        cx.close()
        return r.status, corps, ""
    except OSError as e:
        m = re.match(r"Tunnel connection failed: (\d{3}) ?(.*)", str(e))
        if m:
            return int(m.group(1)), f"CONNECT refusé : {m.group(2)}", ""
        return None, "", f"{type(e).__name__} : {e}"
    except http.client.HTTPException as e:
        return None, "", f"{type(e).__name__} : {e}"


def _connexion_directe(hote: str, port: int, source: str) -> tuple[bool, str]:
    """True if a direct TCP connection (no proxy) is established."""
    try:
        adresse = socket.gethostbyname(hote)
    except OSError as e:
        return False, f"nom non résolu ({e})"
    try:
        with socket.create_connection((adresse, port), timeout=DELAI / 2, source_address=(source, 0)):
            return True, f"connexion établie avec {adresse}:{port}"
    except TimeoutError:
        return False, f"{adresse}:{port} : délai dépassé (filtré)"
    except OSError as e:
        return False, f"{adresse}:{port} : {e.strerror or e}"


def tester(
    ecole: EcoleChargee, source: IPv4Address, journal_proxy: Path | None = None
) -> tuple[list[Essai], list[Constat], list[str]]:
    """Run every filtering test from ``source``; return (tests, findings, categories without a test site)."""
    from ardoise.labo.depuis_manifeste import categories_disponibles  # the shipped UT1 sample lists

    pol = ecole.politique
    src = str(source)
    essais: list[Essai] = []
    constats: list[Constat] = []
    if pol.proxy.mode not in (ModeProxy.local, ModeProxy.academique) or not pol.proxy.adresse:
        raise ErreurUsage(
            f"proxy « {pol.proxy.mode.value} » pour {ecole.uai} : l'audit du filtrage teste un proxy explicite"
            " (local ou académique) ; PAC et filtrage DNS ne sont pas encore pris en charge"
        )
    proxy = (str(pol.proxy.adresse), int(pol.proxy.port or 3128))
    taille_journal = journal_proxy.stat().st_size if journal_proxy and journal_proxy.exists() else None

    def constat(code: str, gravite: Gravite, titre: str, preuve: str, quoi: str, sujet: str) -> None:
        constats.append(
            Constat(code, gravite, titre, preuve, quoi, sujet, partie="filtrage", hote="filtrage")
        )

    dispo = categories_disponibles()
    sans_site = [c for c in pol.filtrage.categories_bloquees if c not in dispo]
    for categorie in [c for c in pol.filtrage.categories_bloquees if c in dispo]:
        url = f"http://{dispo[categorie]}/"
        statut, corps, erreur = _via_proxy(proxy, url, src)
        ok = statut is not None and page_bloquee(statut, corps)
        obtenu = "refusé" if ok else (f"erreur : {erreur}" if statut is None else f"chargé (HTTP {statut})")
        essais.append(Essai(f"catégorie {categorie}", url, "refusé", obtenu, ok, _maintenant()))
        if statut is not None and not ok:
            constat("categorie-non-bloquee", Gravite.critique,
                    f"Un site de la catégorie interdite « {categorie} » s'ouvre depuis un poste élève.",
                    f"GET {url} via {proxy[0]}:{proxy[1]} depuis {src} : HTTP {statut}, page non bloquée",
                    f"vérifier les listes du filtrage (catégorie {categorie}) et recharger le proxy", categorie)  # fmt: skip
        elif statut is None:
            constat("proxy-injoignable", Gravite.critique,
                    "Le proxy de l'école ne répond pas : les élèves n'ont pas d'accès web filtré.",
                    f"GET {url} via {proxy[0]}:{proxy[1]} depuis {src} : {erreur}",
                    "redémarrer le proxy/filtrage sur le serveur de l'école et vérifier son adresse",
                    f"{proxy[0]}:{proxy[1]}")  # fmt: skip
            break
    for role, url in (("ENT", pol.ent.url), ("GAR", pol.ent.gar)):
        if not url:
            continue
        statut, corps, erreur = _via_proxy(proxy, str(url), src)
        ok = statut is not None and 200 <= statut < 400 and not page_bloquee(statut, corps)
        obtenu = "accessible" if ok else (f"erreur : {erreur}" if statut is None else
                                          ("bloqué" if page_bloquee(statut, corps) else f"HTTP {statut}"))  # fmt: skip
        essais.append(Essai(f"{role} accessible", str(url), "accessible", obtenu, ok, _maintenant()))
        if not ok:
            constat(f"{role.lower()}-injoignable", Gravite.haute,
                    f"L'{role} ne s'ouvre pas depuis un poste élève." if role == "ENT" else
                    "Les ressources du GAR ne s'ouvrent pas depuis un poste élève.",
                    f"GET {url} via {proxy[0]}:{proxy[1]} depuis {src} : {obtenu}",
                    "vérifier la liste blanche du filtrage, la résolution DNS et l'accès internet du serveur",
                    role.lower())  # fmt: skip
    ent = urlsplit(str(pol.ent.url)).hostname or ""
    for port in (80, 443):
        etablie, detail = _connexion_directe(ent, port, src)
        essais.append(Essai(f"accès direct sans proxy (port {port})", f"{ent}:{port}", "refusé",
                            "établi" if etablie else "refusé", not etablie, _maintenant(), detail))  # fmt: skip
        if etablie:
            constat("contournement-proxy", Gravite.critique,
                    "Un poste élève peut aller sur internet sans passer par le filtrage.",
                    f"depuis {src} : {detail} (sans proxy)",
                    "bloquer sur le pare-feu/routeur les sorties web des VLAN élèves autres que le proxy",
                    f"direct:{port}")  # fmt: skip
    if pol.filtrage.doh_bloque:
        for resolveur in RESOLVEURS_DOH:
            etablie, detail = _connexion_directe(resolveur, 443, src)
            essais.append(Essai("DNS chiffré (DoH) bloqué", f"{resolveur}:443", "refusé",
                                "établi" if etablie else "refusé", not etablie, _maintenant(), detail))  # fmt: skip
            if etablie:
                constat("doh-possible", Gravite.haute,
                        "Un poste élève peut contourner le filtrage par le DNS chiffré (DNS-over-HTTPS).",
                        f"depuis {src} : {detail}",
                        f"bloquer {', '.join(RESOLVEURS_DOH)} port 443 en sortie des VLAN élèves", resolveur)  # fmt: skip
    if journal_proxy is not None:
        grandi, detail = _journal_grandit(journal_proxy, taille_journal, ent)
        essais.append(Essai("journal du proxy (conservation légale)", str(journal_proxy), "journalisé",
                            "journalisé" if grandi else "absent", grandi, _maintenant(), detail))  # fmt: skip
        if not grandi:
            constat("journal-proxy", Gravite.haute,
                    "Les accès web des élèves ne sont pas journalisés (obligation de conservation d'un an).",
                    detail, "vérifier la journalisation du proxy/filtrage et sa rotation", str(journal_proxy))  # fmt: skip
    return essais, constats, sans_site


def _journal_grandit(journal: Path, avant: int | None, trace: str, attente: float = 3.0) -> tuple[bool, str]:
    if avant is None:
        return False, f"{journal} n'existe pas"
    limite = time.monotonic() + attente
    while True:
        taille = journal.stat().st_size if journal.exists() else 0
        if taille > avant:
            with journal.open("rb") as f:
                f.seek(avant)
                ajout = f.read().decode("utf-8", errors="replace")
            if trace in ajout:
                return True, f"{taille - avant} octets ajoutés, dont la requête vers {trace}"
        if time.monotonic() > limite:
            return False, f"{journal} : {max(taille - avant, 0)} octets ajoutés, aucune trace de {trace}"
        time.sleep(0.1)
