"""Filtering tested from the pupils' side: from an address on a pupil VLAN or from a pupil PC (SSH).

The policy's mode decides the route: explicit proxy, PAC file (evaluated with pypac), or DNS filtering.

Each test is an :class:`Essai` (what, expected, obtained, date and time); a failed test is a :class:`Constat`.
A blocked page of e2guardian comes back as HTTP 200: it is recognised by its content.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ardoise.audit import sonde
from ardoise.audit.constat import Constat, Gravite
from ardoise.erreurs import ErreurConnexion, ErreurUsage
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import EcoleChargee, Territoire, equipements_ecole
from ardoise.inventaire.types import ModeProxy
from ardoise.maintenance.verifications.securite import page_bloquee

if TYPE_CHECKING:
    from ardoise.maintenance.moteur import ParametresSsh

log = logging.getLogger(__name__)

# Public DNS-over-HTTPS resolvers, by address (a pupil's browser reaches them without any DNS lookup).
RESOLVEURS_DOH = ("1.1.1.1", "8.8.8.8", "9.9.9.9")
ROLES_ELEVES = ("pedagogique", "wifi-eleves")


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


@dataclass(frozen=True)
class Origine:
    """Where the pupil-side tests run: this machine bound to its address on a pupil VLAN, or a pupil PC over SSH."""

    libelle: str  # « 10.11.10.254 (VLAN 10) », « pc-jean-jaures-03 (10.11.10.3, SSH) »
    executer: Callable[[list[dict]], list[dict]]  # probes in, results out (see sonde)


def depuis_vlan(ecole: EcoleChargee, vlan: int | None, locales: set[IPv4Address]) -> Origine:
    """This machine, bound to its address on ``vlan`` (default: the first pupil VLAN it is plugged into)."""
    vlan_id, source = source_sur_vlan(ecole, vlan, locales)
    return Origine(f"{source} (VLAN {vlan_id})", lambda sondes: sonde.executer(sondes, str(source)))


def depuis_poste(t: Territoire, ecole: EcoleChargee, nom: str, ssh: ParametresSsh | None = None) -> Origine:
    """A declared pupil PC, reached over SSH the way the maintenance reaches it (same key, same host-key
    policy); the probes run there with its python3."""
    from ardoise.maintenance.cibles import cibles
    from ardoise.maintenance.moteur import Balayage, ParametresSsh

    eq = next((e for e in equipements_ecole(ecole) if e.nom == nom), None)
    if eq is None:
        postes = sorted(e.nom for e in equipements_ecole(ecole) if e.type.value == "pc")
        raise ErreurUsage(
            f"--depuis {nom} : aucun appareil de ce nom dans le manifeste de {ecole.uai} ; donnez un poste élève"
            f" déclaré ({', '.join(postes[:5]) or 'aucun PC déclaré'}…) ou le numéro d'un VLAN élèves"
            " (ex. --depuis 10)"
        )
    vlan = eq.vlan if eq.vlan is not None else next(
        (v.id for v in ecole.modele.vlans if eq.adresse and eq.adresse in v.reseau), None)  # fmt: skip
    role = ecole.vlan(vlan).role.value if vlan is not None and ecole.vlan(vlan) else None
    if role not in ROLES_ELEVES:
        raise ErreurUsage(
            f"--depuis {nom} : ce poste n'est pas sur un VLAN élèves (VLAN {vlan if vlan is not None else '?'}"
            f", rôle {role or 'inconnu'}) : choisissez un poste d'une salle élèves, ou --depuis VLAN"
        )
    cible = cibles(t, Selection(ecoles=(ecole.uai,), noms=(nom,)))[0]
    if not cible.ssh:
        raise ErreurUsage(
            f"--depuis {nom} : ce poste ({eq.type.value}, {eq.os or 'OS inconnu'}) ne se gère pas en SSH :"
            " choisissez un PC Linux de la salle"
        )
    commande = f"python3 -c {shlex.quote(inspect.getsource(sonde))}"
    balayage = Balayage([], ssh or ParametresSsh())

    def executer(sondes: list[dict]) -> list[dict]:
        sortie = balayage.commande(cible, commande, json.dumps(sondes), delai=30 + 15 * len(sondes))
        try:
            resultats = json.loads(sortie)
        except ValueError:
            raise ErreurConnexion(f"{nom} : réponse illisible des essais ({sortie[-200:]!r})") from None
        if not isinstance(resultats, list) or len(resultats) != len(sondes):
            raise ErreurConnexion(f"{nom} : réponse incomplète des essais")
        return resultats

    return Origine(f"{nom} ({cible.adresse}, SSH)", executer)


def _proxy_pac(texte: str, url: str) -> tuple[str, int] | None | str:
    """The proxy a PAC file gives for ``url``: (host, port), None for DIRECT, or a French error."""
    from pypac.parser import MalformedPacError, PACFile

    try:
        reponse = PACFile(texte).find_proxy_for_url(url, urlsplit(url).hostname or "")
    except MalformedPacError as e:
        return f"fichier PAC invalide ({e})"
    except Exception as e:  # noqa: BLE001 (the PAC's JavaScript failed: dukpy raises its own errors)
        return f"erreur dans le fichier PAC ({type(e).__name__} : {e})"
    for choix in (reponse or "DIRECT").split(";"):
        mots = choix.split()
        if mots and mots[0].upper() in ("PROXY", "HTTP") and len(mots) > 1 and ":" in mots[1]:
            hote, port = mots[1].rsplit(":", 1)
            return hote, int(port)
        if mots and mots[0].upper() == "DIRECT":
            return None
    return None


def _bloquee_par_dns(ecole: EcoleChargee, adresses: list[str]) -> bool:
    """NXDOMAIN, or only « block » answers: 0.0.0.0, loopback, or an address of the school (its block page)."""
    for a in adresses:
        ip = IPv4Address(a)
        if not (ip.is_unspecified or ip.is_loopback or any(ip in v.reseau for v in ecole.modele.vlans)):
            return False
    return True


def tester(
    ecole: EcoleChargee, origine: Origine, journal_proxy: Path | None = None
) -> tuple[list[Essai], list[Constat], list[str]]:
    """Run every filtering test from ``origine``; return (tests, findings, categories without a test site).

    Explicit proxy (local, academique): everything through the proxy. PAC: the PAC file fetched as a pupil
    PC would, evaluated (pypac) for each URL, each test through the proxy it names. DNS filtering: each
    blocked category's domain must not resolve (or resolve to a block address) from the pupil side.
    """
    from ardoise.labo.depuis_manifeste import categories_disponibles  # the shipped UT1 sample lists

    pol = ecole.politique
    mode = pol.proxy.mode
    src = origine.libelle
    essais: list[Essai] = []
    constats: list[Constat] = []
    if mode in (ModeProxy.local, ModeProxy.academique) and not pol.proxy.adresse:
        raise ErreurUsage(f"proxy « {mode.value} » sans adresse pour {ecole.uai} : complétez proxy.adresse")

    def constat(code: str, gravite: Gravite, titre: str, preuve: str, quoi: str, sujet: str) -> None:
        constats.append(
            Constat(code, gravite, titre, preuve, quoi, sujet, partie="filtrage", hote="filtrage")
        )

    dispo = categories_disponibles()
    sans_site = [c for c in pol.filtrage.categories_bloquees if c not in dispo]
    categories = [c for c in pol.filtrage.categories_bloquees if c in dispo]
    sites = [(r, str(u)) for r, u in (("ENT", pol.ent.url), ("GAR", pol.ent.gar)) if u]
    ent = urlsplit(str(pol.ent.url)).hostname or ""
    urls = [f"http://{dispo[c]}/" for c in categories] + [u for _, u in sites]
    route: dict[str, tuple[str, int] | None] = {}  # URL -> proxy, None = direct
    if mode in (ModeProxy.local, ModeProxy.academique):
        route = dict.fromkeys(urls, (str(pol.proxy.adresse), int(pol.proxy.port or 3128)))
    elif mode is ModeProxy.pac:
        pac = str(pol.proxy.pac)
        r = origine.executer([{"genre": "http", "url": pac}])[0]
        texte = r["corps"] if r["statut"] == 200 else ""
        erreur = (r["erreur"] or f"HTTP {r['statut']}") if not texte else ""
        reponses = {u: _proxy_pac(texte, u) for u in urls} if texte else {}
        erreur = erreur or next((x for x in reponses.values() if isinstance(x, str)), "")
        essais.append(Essai("fichier PAC", pac, "lu", f"erreur : {erreur}" if erreur else "lu", not erreur,
                            _maintenant()))  # fmt: skip
        if erreur:
            constat("pac-illisible", Gravite.critique,
                    "Le fichier de configuration du proxy (PAC) ne se lit pas depuis un poste élève : les "
                    "navigateurs vont sur internet sans filtrage.",
                    f"GET {pac} depuis {src} : {erreur}",
                    "vérifier le serveur qui publie le fichier PAC (adresse, DNS) et sa syntaxe", pac)  # fmt: skip
            return essais, constats, sans_site
        route = {u: x for u, x in reponses.items() if not isinstance(x, str)}
        for c in categories:
            u = f"http://{dispo[c]}/"
            essais.append(Essai(f"PAC : catégorie {c} vers le proxy", u, "proxy",
                                "proxy" if route[u] else "DIRECT", route[u] is not None, _maintenant()))  # fmt: skip
            if route[u] is None:
                constat("pac-sans-proxy", Gravite.critique,
                        f"Le fichier PAC envoie les élèves directement sur les sites « {c} », sans le proxy.",
                        f"FindProxyForURL({u}) = DIRECT dans {pac}",
                        "corriger le fichier PAC : tout ce qui n'est pas en liste blanche passe par le proxy", c)  # fmt: skip
    elif mode is ModeProxy.dns:
        route = dict.fromkeys(urls)
    dns = [str(d) for d in pol.dns]
    if mode is ModeProxy.dns:
        noms = [dispo[c] for c in categories]
        resultats = origine.executer([{"genre": "dns", "nom": n, "serveur": dns[0]} for n in noms])
        for c, n, r in zip(categories, noms, resultats, strict=True):
            adresses = r.get("adresses")
            ok = adresses is not None and _bloquee_par_dns(ecole, adresses)
            obtenu = (f"erreur : {r['erreur']}" if adresses is None else
                      ("bloqué (NXDOMAIN)" if not adresses else ("bloqué" if ok else "résolu")))  # fmt: skip
            essais.append(Essai(f"catégorie {c}", n, "refusé", obtenu, ok, _maintenant(),
                                ", ".join(adresses or [])))  # fmt: skip
            if adresses is None:
                constat("dns-injoignable", Gravite.critique,
                        "Le DNS filtrant de l'école ne répond pas aux postes élèves.",
                        f"{n} demandé à {dns[0]} depuis {src} : {r['erreur']}",
                        "vérifier le serveur DNS filtrant de l'école et son adresse dans le DHCP", dns[0])  # fmt: skip
                break
            if not ok:
                constat("categorie-non-bloquee", Gravite.critique,
                        f"Un site de la catégorie interdite « {c} » s'ouvre depuis un poste élève.",
                        f"{n} résolu en {', '.join(adresses)} par {dns[0]} depuis {src} (ni NXDOMAIN ni adresse de blocage)",
                        f"vérifier les listes du filtrage DNS (catégorie {c}) et recharger le DNS filtrant", c)  # fmt: skip
    web = [u for _, u in sites] if mode is ModeProxy.dns else urls  # DNS mode: categories were tested above
    sondes = [({"genre": "proxy", "proxy": list(p), "url": u} if (p := route.get(u)) else {"genre": "http", "url": u})
              for u in web]  # fmt: skip
    # direct bypass, to a site the policy sends through the proxy (a PAC may let the ENT go direct)
    contourne = ent if route.get(str(pol.ent.url)) or not categories else dispo[categories[0]]
    directs = [(contourne, port) for port in (80, 443)] if mode is not ModeProxy.dns else []
    doh = list(RESOLVEURS_DOH) if pol.filtrage.doh_bloque else []
    sondes += [{"genre": "directe", "hote": h, "port": p} for h, p in directs]
    sondes += [{"genre": "directe", "hote": h, "port": 443} for h in doh]
    journalise = journal_proxy is not None and mode is not ModeProxy.dns
    taille_journal = (
        journal_proxy.stat().st_size if journalise and journal_proxy and journal_proxy.exists() else None
    )
    resultats = iter(origine.executer(sondes))

    def via(u: str) -> str:
        p = route.get(u)
        return f"via {p[0]}:{p[1]}" if p else "sans proxy"

    injoignable = False
    for c in categories if mode is not ModeProxy.dns else []:
        u = f"http://{dispo[c]}/"
        r = next(resultats)
        statut, corps, erreur = r["statut"], r["corps"], r["erreur"]
        direct = route.get(u) is None
        ok = page_bloquee(statut, corps) if statut is not None else direct  # direct and refused: blocked
        obtenu = "refusé" if ok else (f"erreur : {erreur}" if statut is None else f"chargé (HTTP {statut})")
        essais.append(
            Essai(f"catégorie {c}", u, "refusé", obtenu, ok, _maintenant(), erreur if direct else "")
        )
        if statut is not None and not ok:
            constat("categorie-non-bloquee", Gravite.critique,
                    f"Un site de la catégorie interdite « {c} » s'ouvre depuis un poste élève.",
                    f"GET {u} {via(u)} depuis {src} : HTTP {statut}, page non bloquée",
                    f"vérifier les listes du filtrage (catégorie {c}) et recharger le proxy", c)  # fmt: skip
        elif statut is None and not direct and not injoignable:
            injoignable = True
            p = route[u]
            assert p is not None
            constat("proxy-injoignable", Gravite.critique,
                    "Le proxy de l'école ne répond pas : les élèves n'ont pas d'accès web filtré.",
                    f"GET {u} {via(u)} depuis {src} : {erreur}",
                    "redémarrer le proxy/filtrage sur le serveur de l'école et vérifier son adresse",
                    f"{p[0]}:{p[1]}")  # fmt: skip
    for role, u in sites:
        r = next(resultats)
        statut, corps, erreur = r["statut"], r["corps"], r["erreur"]
        ok = statut is not None and 200 <= statut < 400 and not page_bloquee(statut, corps)
        obtenu = "accessible" if ok else (f"erreur : {erreur}" if statut is None else
                                          ("bloqué" if page_bloquee(statut, corps) else f"HTTP {statut}"))  # fmt: skip
        essais.append(Essai(f"{role} accessible", u, "accessible", obtenu, ok, _maintenant()))
        if not ok:
            constat(f"{role.lower()}-injoignable", Gravite.haute,
                    f"L'{role} ne s'ouvre pas depuis un poste élève." if role == "ENT" else
                    "Les ressources du GAR ne s'ouvrent pas depuis un poste élève.",
                    f"GET {u} {via(u)} depuis {src} : {obtenu}",
                    "vérifier la liste blanche du filtrage, la résolution DNS et l'accès internet du serveur",
                    role.lower())  # fmt: skip
    for hote, port in directs:
        r = next(resultats)
        essais.append(Essai(f"accès direct sans proxy (port {port})", f"{hote}:{port}", "refusé",
                            "établi" if r["etablie"] else "refusé", not r["etablie"], _maintenant(), r["detail"]))  # fmt: skip
        if r["etablie"]:
            constat("contournement-proxy", Gravite.critique,
                    "Un poste élève peut aller sur internet sans passer par le filtrage.",
                    f"depuis {src} : {r['detail']} (sans proxy)",
                    "bloquer sur le pare-feu/routeur les sorties web des VLAN élèves autres que le proxy",
                    f"direct:{port}")  # fmt: skip
    for resolveur in doh:
        r = next(resultats)
        essais.append(Essai("DNS chiffré (DoH) bloqué", f"{resolveur}:443", "refusé",
                            "établi" if r["etablie"] else "refusé", not r["etablie"], _maintenant(), r["detail"]))  # fmt: skip
        if r["etablie"]:
            constat("doh-possible", Gravite.haute,
                    "Un poste élève peut contourner le filtrage par le DNS chiffré (DNS-over-HTTPS).",
                    f"depuis {src} : {r['detail']}",
                    f"bloquer {', '.join(RESOLVEURS_DOH)} port 443 en sortie des VLAN élèves", resolveur)  # fmt: skip
    if journalise and journal_proxy is not None:
        trace = ent if route.get(str(pol.ent.url)) else next(
            (urlsplit(u).hostname or "" for u in urls if route.get(u)), ent)  # fmt: skip  # a request the proxy saw
        grandi, detail = _journal_grandit(journal_proxy, taille_journal, trace)
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
