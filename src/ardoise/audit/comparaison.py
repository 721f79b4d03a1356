"""Discovery against the manifest: each difference becomes a :class:`Constat` (severity, evidence, what to do).

Data in, findings out, no I/O: the tests feed it real nmap XML and real switch tables produced in the lab.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address

from ardoise.audit.cibles import Attendu, Cibles
from ardoise.audit.commutateurs import Tables, cle_port
from ardoise.audit.constat import Constat, Gravite
from ardoise.audit.decouverte import HoteVu

ROLES_ELEVES = ("pedagogique", "wifi-eleves")
ROLES_SENSIBLES = ("administratif", "serveurs", "gestion")
ROLE_INVITES = "wifi-invites"  # unknown devices are expected there


@dataclass(frozen=True)
class Service:
    """A service a device must not expose, and where."""

    ports: tuple[int, ...]
    libelle: str
    gravite: Gravite
    eleves_seulement: bool  # only on pupils' devices (pupil VLAN or pupil profile)
    quoi_faire: str


SERVICES = (
    Service((23,), "telnet (identifiants en clair)", Gravite.critique, False,
            "désactiver telnet sur l'appareil et n'administrer qu'en SSH"),
    Service((139, 445), "partage de fichiers SMB", Gravite.haute, True,
            "désactiver le partage SMB sur les postes élèves (pare-feu du poste, service arrêté)"),
    Service((3389,), "bureau à distance (RDP)", Gravite.haute, True,
            "désactiver le bureau à distance sur les postes élèves"),
)  # fmt: skip


@dataclass
class HoteAudite:
    """One host seen on the network (nmap and/or a switch), with what the manifest says of it."""

    ip: IPv4Address | None
    mac: str | None
    fournisseur: str | None = None
    ports: tuple[int, ...] = ()
    vlan: int | None = None
    commutateur: str | None = None
    port: str | None = None
    declare: Attendu | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def nom(self) -> str:
        if self.declare:
            return self.declare.nom
        return str(self.ip) if self.ip else f"inconnu-{(self.mac or '').replace(':', '')}"

    def details(self) -> dict:
        """The store's ``details`` (read back by ``parc reprendre --depuis-audit``)."""
        eq = self.declare.equipement if self.declare else None
        return {
            "mac": self.mac, "nom": eq.nom if eq else None, "modele": eq.modele if eq else None,
            "os": eq.os if eq else None, "type": eq.type.value if eq else None,
            "ip": str(self.ip) if self.ip else None, "vlan": self.vlan,
            "port": f"{self.commutateur} {self.port}" if self.commutateur else None,
            "fournisseur": self.fournisseur, "declare": bool(eq), "ports_ouverts": list(self.ports),
            "sources": self.sources,
        }  # fmt: skip


def _eleve(h: HoteAudite, c: Cibles) -> bool:
    profil = h.declare.equipement.profil if h.declare else None
    return c.role_vlan(h.vlan) in ROLES_ELEVES or bool(profil and "eleve" in profil)


def comparer(
    c: Cibles,
    hotes: list[HoteVu],
    tables: Tables | None = None,
    locales: set[IPv4Address] | None = None,
    dns: dict[str, list[IPv4Address] | str] | None = None,
) -> tuple[list[HoteAudite], list[Constat]]:
    """Merge nmap's hosts with the switches' tables, then compare with the manifest."""
    tables = tables or Tables()
    locales = locales or set()
    par_mac = {d.equipement.mac: d for d in c.declares if d.equipement.mac}
    par_ip = {d.equipement.adresse: d for d in c.declares if d.equipement.adresse}
    vus: dict[str, HoteAudite] = {}  # key: MAC, else "ip:<address>"
    for h in hotes:
        if h.local or h.ip in locales or h.ip in c.passerelles:
            continue
        mac = h.mac or tables.arp.get(h.ip)
        cle = mac or f"ip:{h.ip}"
        vus[cle] = HoteAudite(h.ip, mac, h.fournisseur, h.ports, c.vlan_de(h.ip), sources=["nmap"])
    for e in tables.macs:
        hote = vus.get(e.mac)
        if hote is None:
            hote = vus[e.mac] = HoteAudite(None, e.mac, vlan=e.vlan)
        hote.commutateur, hote.port = e.commutateur, e.port
        hote.sources.append(f"table MAC de {e.commutateur}")
        if hote.ip is None:
            hote.vlan = e.vlan
    constats: list[Constat] = []
    for hote in vus.values():
        hote.declare = par_mac.get(hote.mac or "") or (par_ip.get(hote.ip) if hote.ip else None)
        constats += [replace(k, hote=hote.nom) for k in _constats_hote(c, hote, par_ip, tables)]
    # answering is what counts: a switch keeps a silent device's MAC for minutes after it went off
    repondent = {h.declare.nom for h in vus.values() if h.declare and "nmap" in h.sources}
    dans_tables = {h.declare.nom: h for h in vus.values() if h.declare and h.commutateur}
    for d in c.declares:
        if d.nom in c.attendus and d.nom not in repondent:
            eq = d.equipement
            table = dans_tables.get(d.nom)
            encore = (
                f" ; MAC encore dans la table de {table.commutateur} (port {table.port})" if table else ""
            )
            constats.append(Constat(
                "hote-absent", Gravite.moyenne,
                f"L'appareil déclaré « {eq.nom} » ({eq.type.value}) ne répond pas sur le réseau.",
                f"aucune réponse de {eq.adresse or '(adresse non déclarée)'} ni de la MAC {eq.mac or '(non déclarée)'}"
                f" ; état dans le manifeste : {eq.etat.value}{encore}",
                "vérifier qu'il est allumé et branché ; s'il a été retiré, mettre à jour son état dans le manifeste",
                eq.nom, hote=eq.nom,
            ))  # fmt: skip
    for nom, reponse in (dns or {}).items():
        d = next((d for d in c.declares if d.nom == nom), None)
        if d is None or d.equipement.adresse is None:
            continue
        attendue = d.equipement.adresse
        if isinstance(reponse, str) or attendue not in reponse:
            obtenu = (
                reponse if isinstance(reponse, str) else (", ".join(map(str, reponse)) or "aucune adresse")
            )
            constats.append(Constat(
                "dns-different", Gravite.moyenne,
                f"Le serveur DNS de l'école ne donne pas la bonne adresse pour « {nom} ».",
                f"réponse : {obtenu} ; manifeste : {attendue}",
                "corriger l'enregistrement DNS (ou la réservation DHCP) sur le serveur de l'école",
                nom, hote=nom,
            ))  # fmt: skip
    for sw, raison in tables.erreurs.items():
        constats.append(Constat(
            "commutateur-injoignable", Gravite.moyenne,
            f"Le commutateur « {sw} » n'a pas pu être interrogé : l'audit des ports est incomplet.",
            raison, "vérifier son adresse de gestion, ses identifiants (coffre) et qu'il accepte SSH", sw,
            hote=sw,
        ))  # fmt: skip
    constats += ports_non_declares(c, tables)
    return sorted(vus.values(), key=lambda h: (h.ip is None, h.ip or IPv4Address(0), h.mac or "")), constats


def _constats_hote(
    c: Cibles, h: HoteAudite, par_ip: dict[IPv4Address, Attendu], tables: Tables
) -> list[Constat]:
    r: list[Constat] = []
    ou = f"{h.ip or 'sans adresse IP'} (VLAN {h.vlan})" + (
        f", port {h.port} de {h.commutateur}" if h.commutateur else ""
    )
    if h.declare is None:
        role = c.role_vlan(h.vlan)
        if role != ROLE_INVITES:
            gravite = Gravite.critique if role in ROLES_SENSIBLES else Gravite.haute
            services = f" ; ports ouverts : {', '.join(map(str, h.ports))}" if h.ports else ""
            r.append(Constat(
                "hote-inconnu", gravite,
                f"Un appareil inconnu du manifeste est branché sur le réseau {_role(role)}.",
                f"{ou} ; MAC {h.mac or 'inconnue'} ({h.fournisseur or 'fabricant inconnu'}){services}"
                f" ; vu par : {', '.join(h.sources)}",
                "identifier l'appareil sur place (prise, salle) ; le retirer s'il n'a rien à faire là,"
                " sinon le déclarer dans le manifeste (ardoise parc reprendre --depuis-audit)",
                h.mac or str(h.ip),
            ))  # fmt: skip
        return r
    eq = h.declare.equipement
    if eq.vlan is not None and h.vlan is not None and h.vlan != eq.vlan:
        r.append(Constat(
            "mauvais-vlan", Gravite.haute,
            f"« {eq.nom} » est sur le mauvais réseau (VLAN {h.vlan} au lieu de {eq.vlan}).",
            f"vu à {ou} ; manifeste : VLAN {eq.vlan}, adresse {eq.adresse or '-'} ; vu par : {', '.join(h.sources)}",
            f"rebrancher l'appareil sur une prise du VLAN {eq.vlan} (ou corriger le VLAN du port du commutateur)",
            eq.nom,
        ))  # fmt: skip
    elif h.ip and eq.adresse and h.ip != eq.adresse:
        r.append(Constat(
            "adresse-differente", Gravite.basse,
            f"« {eq.nom} » n'a pas l'adresse prévue par le manifeste.",
            f"vu à {h.ip}, manifeste : {eq.adresse} (MAC {h.mac})",
            "vérifier la réservation DHCP ou l'adresse fixe du poste", eq.nom,
        ))  # fmt: skip
    if h.ip and eq.mac and h.mac and h.mac != eq.mac and par_ip.get(h.ip) is h.declare:
        r.append(Constat(
            "mac-differente", Gravite.haute,
            f"L'adresse de « {eq.nom} » est tenue par un autre appareil que celui du manifeste.",
            f"{h.ip} répond avec la MAC {h.mac} ({h.fournisseur or 'fabricant inconnu'}), manifeste : {eq.mac}",
            "vérifier sur place : appareil remplacé sans mise à jour du manifeste, ou usurpation d'adresse",
            eq.nom,
        ))  # fmt: skip
    if (
        h.declare.commutateur
        and h.commutateur
        and (
            h.declare.commutateur != h.commutateur or cle_port(h.declare.port or "") != cle_port(h.port or "")
        )
    ):
        r.append(Constat(
            "port-inattendu", Gravite.moyenne,
            f"« {eq.nom} » n'est pas branché sur le port prévu.",
            f"vu sur {h.commutateur} {h.port} ; manifeste : {h.declare.commutateur} {h.declare.port}",
            "rebrancher l'appareil sur son port, ou corriger le manifeste", eq.nom,
        ))  # fmt: skip
    for s in SERVICES:
        ouverts = [p for p in s.ports if p in h.ports]
        if ouverts and (not s.eleves_seulement or _eleve(h, c)):
            r.append(Constat(
                "service-interdit", s.gravite,
                f"« {eq.nom} » expose un service interdit : {s.libelle}.",
                f"{h.ip} : port(s) TCP {', '.join(map(str, ouverts))} ouvert(s)",
                s.quoi_faire, f"{eq.nom}:{ouverts[0]}",
            ))  # fmt: skip
    return r


def _role(role: str | None) -> str:
    return {
        "pedagogique": "pédagogique (élèves)", "wifi-eleves": "Wi-Fi des élèves", "administratif": "administratif",
        "serveurs": "des serveurs", "gestion": "de gestion des équipements",
    }.get(role or "", "de l'école")  # fmt: skip


def ports_non_declares(c: Cibles, tables: Tables) -> list[Constat]:
    """Ports whose link is up but that the manifest does not declare on their switch."""
    declares = {(sw.nom, cle_port(p.nom)) for sw in c.ecole.modele.commutateurs for p in sw.ports}
    r = []
    for a in tables.actifs:
        if (a.commutateur, cle_port(a.port)) in declares:
            continue
        macs = sorted({e.mac for e in tables.macs
                       if e.commutateur == a.commutateur and cle_port(e.port) == cle_port(a.port)})  # fmt: skip
        r.append(Constat(
            "port-non-declare", Gravite.moyenne,
            f"Un port du commutateur « {a.commutateur} » est utilisé alors que le manifeste ne le prévoit pas.",
            f"{a.commutateur} port {a.port} : lien actif ; MAC vue(s) : {', '.join(macs) or 'aucune'}",
            "identifier ce qui est branché ; déclarer le port dans le manifeste (commutateurs[].ports) s'il "
            "doit servir, sinon le débrancher et désactiver le port (shutdown)",
            f"{a.commutateur} {a.port}", hote=a.commutateur,
        ))  # fmt: skip
    return r
