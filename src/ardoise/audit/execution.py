"""One audit of one school: discovery, switches, DNS, filtering, throughput; stored in the results store.

Store layout (no schema of its own): an ``Execution`` of genre ``audit`` (``lot`` = UAI, ``resume`` = the
report's summary), one ``ResultatHoteLigne`` per discovered host (``details``: mac, nom, modele, os, type,
ip, vlan, port, fournisseur, declare…; read back by ``parc reprendre --depuis-audit``), one per declared
device that did not answer, one « filtrage » row (each test with its date and time) and one « debit »
row; every finding is a ``VerificationLigne`` of its row (``nom`` = code, ``valeur`` = JSON with the
severity, evidence, what to do and the key used to compare two audits).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path

from ardoise.audit import cibles as mod_cibles
from ardoise.audit import commutateurs, debit, decouverte, dhcp, filtrage, sonde
from ardoise.audit.comparaison import HoteAudite, comparer
from ardoise.audit.constat import Constat, Gravite, trier
from ardoise.inventaire.territoire import Territoire
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification

log = logging.getLogger(__name__)

PARTIES = ("reseau", "filtrage", "debit")


@dataclass
class Audit:
    uai: str
    ecole: str
    commune: str
    parties: tuple[str, ...]
    debut: str
    duree_s: float = 0.0
    cibles: list[str] = field(default_factory=list)
    commande_nmap: list[str] = field(default_factory=list)
    duree_nmap_s: float | None = None
    hotes: list[HoteAudite] = field(default_factory=list)
    constats: list[Constat] = field(default_factory=list)
    essais: list[filtrage.Essai] = field(default_factory=list)
    categories_non_testees: list[str] = field(default_factory=list)
    source_filtrage: str | None = None
    mesure: debit.Mesure | None = None
    sondage_dhcp: dhcp.Sondage | None = None
    execution_id: int | None = None
    precedent: dict | None = None  # {"id", "debut"} of the previous audit of the school
    nouveaux: list[str] = field(default_factory=list)  # keys of findings absent from the previous audit
    resolus: list[dict] = field(default_factory=list)  # findings of the previous audit gone now

    def resume(self) -> dict:
        par_gravite = {g.value: sum(1 for c in self.constats if c.gravite is g) for g in Gravite}
        return {
            "uai": self.uai, "ecole": self.ecole, "parties": list(self.parties), "debut": self.debut,
            "duree_s": round(self.duree_s, 1), "constats": len(self.constats), "par_gravite": par_gravite,
            "hotes_vus": len(self.hotes), "cibles": self.cibles,
            "duree_nmap_s": round(self.duree_nmap_s, 1) if self.duree_nmap_s is not None else None,
            "nouveaux": len(self.nouveaux), "resolus": len(self.resolus),
        }  # fmt: skip

    def en_dict(self) -> dict:
        return {
            "resume": self.resume(),
            "execution_id": self.execution_id,
            "precedent": self.precedent,
            "constats": [{**c.en_dict(), "nouveau": c.cle in self.nouveaux} for c in self.constats],
            "resolus": self.resolus,
            "hotes": [{"hote": h.nom, **h.details()} for h in self.hotes],
            "filtrage": {
                "source": self.source_filtrage, "essais": [e.en_dict() for e in self.essais],
                "categories_non_testees": self.categories_non_testees,
            } if "filtrage" in self.parties else None,
            "debit": self.mesure.en_dict() if self.mesure else None,
            "dhcp": self.sondage_dhcp.en_dict() if self.sondage_dhcp else None,
            "nmap": {"commande": self.commande_nmap, "duree_s": self.duree_nmap_s} if self.commande_nmap else None,
        }  # fmt: skip


def auditer(
    t: Territoire,
    uai: str,
    parties: tuple[str, ...] = PARTIES,
    dossier: Path = Path("sortie/audit"),
    vlans: list[int] | None = None,
    attendus: list[str] | None = None,
    depuis_vlan: int | None = None,
    depuis_poste: str | None = None,
    ssh=None,
    journal_proxy: Path | None = None,
    fichier_acces: Path | None = None,
    magasin=None,
    progression: Callable[[str], None] = lambda _m: None,
) -> Audit:
    """Run the requested parts on ``uai`` from this machine; store the audit when ``magasin`` is given.

    Filtering runs from ``depuis_poste`` (a declared pupil PC, over SSH with ``ssh``, a
    :class:`~ardoise.maintenance.moteur.ParametresSsh`) when given, else from this machine's address on
    ``depuis_vlan`` (default: its first pupil VLAN)."""
    ecole = t.ecole(uai)
    debut = time.monotonic()
    a = Audit(ecole.uai, ecole.nom, ecole.commune, tuple(p for p in PARTIES if p in parties),
              dt.datetime.now().astimezone().isoformat(timespec="seconds"))  # fmt: skip
    c = mod_cibles.cibles(ecole, vlans, attendus)
    a.cibles = c.liste_nmap()
    locales = decouverte.adresses_locales()
    constats: list[Constat] = []
    if "reseau" in a.parties:
        progression(f"découverte (nmap) : {', '.join(a.cibles)} ; offres DHCP sur chaque VLAN à plage DHCP")
        with ThreadPoolExecutor(max_workers=1) as fond:  # the DHCP wait overlaps the sweep
            sondage = fond.submit(dhcp.sonder, ecole, vlans, dhcp.ATTENTE_S, dossier / ecole.uai.lower())
            d = decouverte.scanner(c, dossier / ecole.uai.lower())
            a.sondage_dhcp = sondage.result()
        a.commande_nmap, a.duree_nmap_s = d.commande, d.duree_s
        progression(f"{len(d.hotes)} hôte(s) en {d.duree_s:.1f} s ; tables des commutateurs")
        tables = commutateurs.lire_tables(t, ecole, fichier_acces)
        reponses_dns = _dns(c, ecole)
        a.hotes, trouves = comparer(c, d.hotes, tables, locales, reponses_dns)
        constats += trouves
        constats += dhcp.comparer(ecole, a.sondage_dhcp)
    if "filtrage" in a.parties:
        origine = (filtrage.depuis_poste(t, ecole, depuis_poste, ssh) if depuis_poste else
                   filtrage.depuis_vlan(ecole, depuis_vlan, locales))  # fmt: skip
        a.source_filtrage = origine.libelle
        progression(f"filtrage depuis {a.source_filtrage}")
        a.essais, trouves, a.categories_non_testees = filtrage.tester(ecole, origine, journal_proxy)
        constats += trouves
    if "debit" in a.parties:
        serveur = ecole.modele.serveur.adresse if ecole.modele.serveur else None
        if serveur is None:
            progression("débit : pas de serveur dans le manifeste, mesure sautée")
        else:
            progression(f"débit vers {serveur} (iperf3)")
            a.mesure = debit.mesurer(str(serveur))
            constats += debit.constats(a.mesure)
    a.constats = trier(constats)
    a.duree_s = time.monotonic() - debut
    if magasin is not None:
        comparer_au_precedent(a, magasin)
        enregistrer(a, magasin)
    return a


def _dns(c: mod_cibles.Cibles, ecole) -> dict[str, list[IPv4Address] | str]:
    """The school DNS's answer for each expected device with an address (``nom.<uai>.<domaine>``)."""
    serveurs = [str(s) for s in ecole.politique.dns]
    if not serveurs:
        return {}
    domaine = f"{ecole.uai.lower()}.{ecole.politique.domaine}"
    r: dict[str, list[IPv4Address] | str] = {}
    for d in c.declares:
        if d.nom in c.attendus and d.equipement.adresse:
            try:
                r[d.nom] = [IPv4Address(a) for a in sonde.requete_a(f"{d.nom}.{domaine}", serveurs[0])]
            except sonde.ErreurDns as e:
                r[d.nom] = str(e)
    return r


# -- store -------------------------------------------------------------------------------------------
def _verification(k: Constat) -> Verification:
    valeur = {"gravite": k.gravite.value, "preuve": k.preuve, "quoi_faire": k.quoi_faire, "cle": k.cle,
              "partie": k.partie, "sujet": k.sujet}  # fmt: skip
    return Verification(k.code, k.titre, k.gravite.niveau, k.titre, json.dumps(valeur, ensure_ascii=False))


def _statut(constats: list[Constat]) -> StatutHote:
    muet = any(k.code in ("hote-absent", "commutateur-injoignable") for k in constats)
    return StatutHote.injoignable if muet else StatutHote.ok


def enregistrer(a: Audit, magasin) -> int:
    """Write the audit to the results store; return the execution id."""
    ex = magasin.commencer("audit", selection={"uai": a.uai, "parties": list(a.parties), "cibles": a.cibles},
                           lot=a.uai)  # fmt: skip
    a.execution_id = ex
    par_hote: dict[str, list[Constat]] = {}
    for k in a.constats:
        par_hote.setdefault(k.hote or k.partie, []).append(k)
    for h in a.hotes:
        details = {**h.details(), "decouvert": True}
        ks = par_hote.pop(h.nom, [])
        r = ResultatHote(h.nom, _statut(ks), details=details, verifications=[_verification(k) for k in ks])
        magasin.enregistrer(ex, r, uai=a.uai, commune=a.commune)
    if "filtrage" in a.parties:
        verifs = [Verification(f"essai:{e.nom}", e.nom, Niveau.OK if e.conforme else Niveau.CRITIQUE,
                               f"{e.cible} : attendu {e.attendu}, obtenu {e.obtenu} ({e.horodatage})",
                               json.dumps(e.en_dict(), ensure_ascii=False)) for e in a.essais]  # fmt: skip
        verifs += [_verification(k) for k in par_hote.pop("filtrage", [])]
        magasin.enregistrer(ex, ResultatHote("filtrage", StatutHote.ok, verifications=verifs, details={
            "partie": "filtrage", "source": a.source_filtrage, "essais": [e.en_dict() for e in a.essais],
            "categories_non_testees": a.categories_non_testees}), uai=a.uai, commune=a.commune)  # fmt: skip
    if a.sondage_dhcp is not None:
        magasin.enregistrer(ex, ResultatHote("dhcp", StatutHote.ok, details={"partie": "dhcp", **a.sondage_dhcp.en_dict()},
                                             verifications=[_verification(k) for k in par_hote.pop("dhcp", [])]),
                            uai=a.uai, commune=a.commune)  # fmt: skip
    if a.mesure is not None:
        magasin.enregistrer(ex, ResultatHote("debit", StatutHote.ok, details={"partie": "debit", **a.mesure.en_dict()},
                                             verifications=[_verification(k) for k in par_hote.pop("debit", [])]),
                            uai=a.uai, commune=a.commune)  # fmt: skip
    for nom, ks in par_hote.items():  # declared devices that did not answer, DNS, unreachable switches
        magasin.enregistrer(ex, ResultatHote(nom, _statut(ks), details={"nom": nom, "declare": True, "decouvert": False},
                                             verifications=[_verification(k) for k in ks]),
                            uai=a.uai, commune=a.commune)  # fmt: skip
    magasin.terminer(ex, "termine", resume=a.resume())
    return ex


def constats_enregistres(magasin, execution_id: int) -> list[dict]:
    """The findings of a stored audit: [{cle, code, partie, titre, gravite}]."""
    from sqlalchemy import select

    from ardoise.resultats.modeles import ResultatHoteLigne, VerificationLigne

    r = []
    with magasin.session() as s:
        req = (select(VerificationLigne).join(ResultatHoteLigne, VerificationLigne.resultat_id == ResultatHoteLigne.id)
               .where(ResultatHoteLigne.execution_id == execution_id).order_by(VerificationLigne.id))  # fmt: skip
        for v in s.scalars(req):
            if v.nom.startswith("essai:") or not v.valeur:
                continue
            try:
                valeur = json.loads(v.valeur)
            except ValueError:
                continue
            r.append({"cle": valeur.get("cle"), "code": v.nom, "partie": valeur.get("partie"),
                      "titre": v.message, "gravite": valeur.get("gravite")})  # fmt: skip
    return r


def comparer_au_precedent(a: Audit, magasin) -> None:
    """What is new and what was resolved since the previous audit of the same school."""
    precedents = [e for e in magasin.executions(genre="audit") if e.lot == a.uai and e.statut == "termine"]
    if not precedents:
        a.nouveaux = [k.cle for k in a.constats]
        return
    ex = precedents[-1]
    a.precedent = {"id": ex.id, "debut": ex.debut.isoformat(timespec="seconds") if ex.debut else None}
    anciens = [k for k in constats_enregistres(magasin, ex.id) if k["partie"] in a.parties]
    cles_anciennes = {k["cle"] for k in anciens}
    cles = {k.cle for k in a.constats}
    a.nouveaux = [k.cle for k in a.constats if k.cle not in cles_anciennes]
    a.resolus = [k for k in anciens if k["cle"] not in cles]
