"""Daemons of the lab, started by us with explicit pid/log paths and stopped by PID.

Server namespace: dnsmasq (DHCP + DNS), squid + e2guardian (see :mod:`ardoise.labo.proxy`), nft
(pupils only get out through the proxy; NAT towards the internet), the ClamAV local signature
source (static HTTP), git daemon (the ansible-pull repositories). Internet namespace:
:mod:`ardoise.labo.internet`. Root namespace, on the root veth: apt-cacher-ng, the lab PCs' package
relay to this machine's Debian mirror.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ardoise.labo import proxy, reseau
from ardoise.labo.plan import PlanLabo
from ardoise.labo.rootfs import depots_debian, dossier_cache, miroir_debian
from ardoise.labo.systeme import arreter_pids, attendre, dans_ns, executer, lancer_demon, port_ecoute, vivant

log = logging.getLogger(__name__)

PORT_APT = 3142
PORT_CLAMAV = 8089
PORT_GIT = 9418  # git daemon serving the ansible-pull repositories (« ardoise echelle publier --labo »)
PORT_IPERF = 5201  # iperf3 server on the school server (throughput measured by « ardoise audit debit »)


@dataclass
class Service:
    """One daemon of the lab as recorded in the state file."""

    nom: str
    ns: str | None  # None = root namespace
    adresse: str
    port: int
    argv: list[str]
    journal: str
    pid: int | None = None
    debut: int | None = None
    autres_ports: list[int] = field(default_factory=list)
    delai_arret: float = 10.0  # grace after SIGTERM before SIGKILL

    def en_dict(self) -> dict:
        return asdict(self)

    def actif(self) -> bool:
        """Process alive and every port listening in its namespace."""
        if not vivant(self.pid, self.debut):
            return False
        assert self.pid is not None
        return all(port_ecoute(self.pid, p) for p in (self.port, *self.autres_ports))


def adresse_serveur(plan: PlanLabo) -> str:
    """The school server's service address (DNS, signatures): its own address, else its VLAN's gateway."""
    return str(plan.serveur_adresse or plan.vlan(plan.serveur_vlan).passerelle)


def adresses_serveur(plan: PlanLabo) -> list[str]:
    """Every address the server namespace holds on the school side (gateways + own address)."""
    adresses = [str(v.passerelle) for v in plan.vlans]
    if plan.serveur_adresse and str(plan.serveur_adresse) not in adresses:
        adresses.append(str(plan.serveur_adresse))
    return adresses


def dns_labo(plan: PlanLabo) -> list[str]:
    """The plan's DNS servers the lab actually holds, else the server's address."""
    tenues = adresses_serveur(plan)
    return [str(d) for d in plan.dns if str(d) in tenues] or [adresse_serveur(plan)]


def port_clamav(plan: PlanLabo) -> int:
    return PORT_CLAMAV if plan.proxy_port != PORT_CLAMAV else PORT_CLAMAV + 1


def _enveloppe_privee(etat: Path, argv: list[str]) -> list[str]:
    """Wrap ``argv`` so it runs with private tmpfs on /dev/shm and /run (the state dir stays visible)."""
    script = "set -e; mount -t tmpfs -o mode=1777 ard-shm /dev/shm; "
    if Path("/run") in etat.parents:
        script += (
            'mkdir /dev/shm/.etat; mount --bind "$ETAT" /dev/shm/.etat; '
            'mount -t tmpfs -o mode=0755 ard-run /run; mkdir -p "$ETAT"; '
            'mount --move /dev/shm/.etat "$ETAT"; rmdir /dev/shm/.etat 2>/dev/null || true; '
        )
    else:
        script += "mount -t tmpfs -o mode=0755 ard-run /run; "
    return ["env", f"ETAT={etat}", "sh", "-c", script + 'exec "$@"', "ard-enveloppe", *argv]


def config_dnsmasq(plan: PlanLabo, etat: Path, journaux: Path) -> Path:
    d = etat / "dnsmasq"
    d.mkdir(parents=True, exist_ok=True)
    serveur = adresse_serveur(plan)
    lignes = [
        "no-resolv", "no-hosts", "bind-interfaces", "user=root", "dhcp-authoritative", "log-dhcp",
        # no ping before an offer: dnsmasq handles no DHCP packet during that 3 s wait, so the audit's
        # DISCOVERs on every VLAN at once would be answered one VLAN at a time
        "no-ping",
        "listen-address=127.0.0.1", *[f"listen-address={a}" for a in adresses_serveur(plan)],
        f"local=/{plan.domaine}/", f"domain={plan.domaine}",
        f"pid-file={d}/dnsmasq.pid", f"dhcp-leasefile={d}/dnsmasq.leases", f"log-facility={journaux}/dnsmasq.log",
        f"host-record={plan.serveur_nom}.{plan.domaine},{plan.serveur_nom},{serveur}",
    ]  # fmt: skip
    for site in plan.sites:
        adresse = reseau.ADRESSE_ENT if site.role in ("ent", "gar") else reseau.ADRESSE_INTERNET
        lignes.append(f"address=/{site.domaine}/{adresse.ip}")
    for v in plan.vlans:
        if v.dhcp_debut and v.dhcp_fin:
            tag = f"vlan{v.id}"
            lignes += [
                f"dhcp-range=set:{tag},{v.dhcp_debut},{v.dhcp_fin},{v.reseau.netmask},12h",
                f"dhcp-option=tag:{tag},option:router,{v.passerelle}",
                f"dhcp-option=tag:{tag},option:dns-server,{','.join(dns_labo(plan))}",
                f"dhcp-option=tag:{tag},option:domain-name,{plan.domaine}",
            ]
    for p in plan.postes:
        lignes.append(f"dhcp-host={p.mac},{p.adresse},{p.nom}")
        lignes.append(f"host-record={p.nom}.{plan.domaine},{p.nom},{p.adresse}")
    for sw in plan.commutateurs:
        lignes.append(f"host-record={sw.nom}.{plan.domaine},{sw.nom},{sw.adresse}")
    conf = d / "dnsmasq.conf"
    conf.write_text("# Generated by ardoise.labo\n" + "\n".join(lignes) + "\n")
    return conf


def regles_nft(plan: PlanLabo) -> str:
    """nft ruleset of the server: pupils reach the internet only through the proxy; NAT out."""
    eleves = [reseau.pont(v.id) for v in plan.vlans if v.role in reseau.ROLES_ELEVES]
    filtre = ""
    if eleves:
        ensemble = ", ".join(f'"{b}"' for b in eleves)
        filtre = (
            f'    iifname {{ {ensemble} }} oifname "{reseau.LIEN_SERVEUR_INTERNET}" tcp dport {{ 80, 443 }} '
            "reject with tcp reset\n"
            f'    iifname {{ {ensemble} }} oifname "{reseau.LIEN_SERVEUR_INTERNET}" udp dport 443 reject\n'
        )
    return (
        "table inet ardoise_labo {\n"
        "  chain forward {\n    type filter hook forward priority 0; policy accept;\n"
        f"{filtre}  }}\n"
        "  chain postrouting {\n    type nat hook postrouting priority 100;\n"
        f'    oifname "{reseau.LIEN_SERVEUR_INTERNET}" masquerade\n  }}\n'
        "}\n"
    )


def appliquer_nft(plan: PlanLabo, etat: Path) -> None:
    fichier = etat / "nftables.conf"
    fichier.write_text(regles_nft(plan))
    executer(dans_ns(reseau.NS_SERVEUR, "nft", "-f", fichier))


def source_clamav(dossier: Path) -> None:
    """The ClamAV local signature source: an MD5 (.hdb) signature of the EICAR test file."""
    dossier.mkdir(parents=True, exist_ok=True)
    # Assembled at run time so no antivirus flags the repository itself.
    eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    donnees = eicar.encode()
    (dossier / "eicar.com.txt").write_bytes(donnees)
    md5 = hashlib.md5(donnees).hexdigest()
    (dossier / "ardoise-eicar.hdb").write_text(f"{md5}:{len(donnees)}:Ardoise.Test.EICAR\n")


def config_apt_cacher(etat: Path, journaux: Path) -> Path:
    """apt-cacher-ng config dir: backend = this machine's mirror, cache kept in the lab cache."""
    d = etat / "apt-cacher-ng"
    d.mkdir(parents=True, exist_ok=True)
    for f in Path("/etc/apt-cacher-ng").glob("*"):
        if f.is_file() and f.name not in ("acng.conf", "backends_debian", "zz_debconf.conf", "security.conf"):
            shutil.copy(f, d / f.name)
    (d / "backends_debian").write_text(miroir_debian().rstrip("/") + "/\n")
    cache = dossier_cache() / "apt-cacher-ng"
    cache.mkdir(parents=True, exist_ok=True)
    (journaux / "apt-cacher-ng").mkdir(parents=True, exist_ok=True)
    (d / "acng.conf").write_text(
        f"""CacheDir: {cache}
LogDir: {journaux}/apt-cacher-ng
SupportDir: /usr/lib/apt-cacher-ng
Port: {PORT_APT}
BindAddress: {reseau.ADRESSE_RACINE.ip}
PidFile: {d}/apt-cacher-ng.pid
SocketPath: {d}/socket
ForeGround: 1
Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian
Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security \
/debian-security ; deb.debian.org/debian-security
ReportPage: acng-report.html
ExThreshold: 4
PassThroughPattern: ^$
# Upstream stalls: give up on a dead upstream connection after 30 s and retry the download
# (defaults 40 s / 2 tries); clients see a 503 they retry rather than a connection left open.
NetworkTimeout: 30
DlMaxRetries: 6
# Index files (InRelease) are refreshed from upstream when older than this. Several PCs asking while a refresh
# runs once left one of them with a truncated answer and apt blocked (CI, stop 16): the lab fetches them once
# at start (prechauffer_relais_apt) and keeps them for a test session. A school's relay keeps the default.
FreshIndexMaxAge: 1800
"""
    )
    return d


def index_apt() -> list[str]:
    """The InRelease URL of each suite the lab image's sources.list names (written from the same stanzas)."""
    return [
        f"{uri.rstrip('/')}/dists/{suite}/InRelease" for uri, suites, _ in depots_debian() for suite in suites
    ]


def prechauffer_relais_apt(journal: Path) -> None:
    """Fetch the PCs' index files through the relay, one at a time, so that the PCs' first concurrent
    ``apt-get update`` finds them fresh instead of all waiting on one upstream refresh. Best effort: a failure
    is written to ``journal`` and the PCs fetch them themselves."""
    import http.client
    from urllib.parse import urlsplit

    with journal.open("a") as j:
        for url in index_apt():
            debut = time.monotonic()
            # a proxy request written by hand: it can only go to the relay (no environment no_proxy to bypass it)
            c = http.client.HTTPConnection(str(reseau.ADRESSE_RACINE.ip), PORT_APT, timeout=60)
            try:
                c.request("GET", url, headers={"Host": urlsplit(url).netloc})
                r = c.getresponse()
                taille = len(r.read())
                j.write(f"{url} : HTTP {r.status}, {taille} octets en {time.monotonic() - debut:.1f} s\n")
            except (OSError, http.client.HTTPException) as e:
                j.write(f"{url} : échec ({e})\n")
            finally:
                c.close()


def definir(plan: PlanLabo, etat: Path, journaux: Path) -> list[Service]:
    """Write every config and return the services to start, in start order."""
    serveur = adresse_serveur(plan)
    squid = proxy.config_squid(etat, journaux)
    e2g = proxy.config_e2guardian(etat, journaux, plan)
    dnsmasq = config_dnsmasq(plan, etat, journaux)
    sites = etat / "internet" / "sites.json"
    sites.parent.mkdir(parents=True, exist_ok=True)
    import json

    sites.write_text(json.dumps([{"domaine": s.domaine, "role": s.role, "categorie": s.categorie}
                                 for s in plan.sites], ensure_ascii=False))  # fmt: skip
    clamav = etat / "clamav"
    source_clamav(clamav)
    acng = config_apt_cacher(etat, journaux)
    depots = etat / "depots"
    depots.mkdir(parents=True, exist_ok=True)
    srv, net = reseau.NS_SERVEUR, reseau.NS_INTERNET
    return [
        Service("dnsmasq", srv, serveur, 53, dans_ns(srv, "dnsmasq", "-k", "-C", dnsmasq),
                str(journaux / "dnsmasq.sortie")),
        Service("internet", net, str(reseau.ADRESSE_INTERNET.ip), 80,
                dans_ns(net, sys.executable, "-m", "ardoise.labo.internet", "--config", sites,
                        "--dossier", etat / "internet"),
                str(journaux / "internet.log"), autres_ports=[443]),
        Service("squid", srv, "127.0.0.1", proxy.PORT_SQUID,
                dans_ns(srv, *_enveloppe_privee(etat, ["squid", "-N", "-f", str(squid)])),
                str(journaux / "squid.sortie")),
        Service("e2guardian", srv, serveur, plan.proxy_port,
                dans_ns(srv, *_enveloppe_privee(etat, ["e2guardian", "-N", "-c", str(e2g)])),
                str(journaux / "e2guardian.sortie"), delai_arret=1.0),  # hangs on SIGTERM (5.3.5)
        Service("clamav-signatures", srv, serveur, port_clamav(plan),
                dans_ns(srv, sys.executable, "-m", "ardoise.labo.internet", "--statique", clamav,
                        "--adresse", serveur, "--port", str(port_clamav(plan))),
                str(journaux / "clamav-signatures.log")),
        Service("iperf3", srv, serveur, PORT_IPERF,
                dans_ns(srv, "iperf3", "-s", "-B", serveur, "-p", str(PORT_IPERF)), str(journaux / "iperf3.log"),
                delai_arret=1.0),
        Service("depot-git", srv, serveur, PORT_GIT,
                dans_ns(srv, "git", "daemon", "--reuseaddr", "--export-all", "--informative-errors",
                        f"--base-path={depots}", f"--listen={serveur}", f"--port={PORT_GIT}"),
                str(journaux / "depot-git.log")),
        Service("apt-cacher-ng", None, str(reseau.ADRESSE_RACINE.ip), PORT_APT,
                ["apt-cacher-ng", "-c", str(acng), "ForeGround=1"], str(journaux / "apt-cacher-ng.sortie")),
    ]  # fmt: skip


def demarrer(service: Service, delai: float = 20) -> None:
    """Start one daemon and wait until its ports listen."""
    service.pid, service.debut = lancer_demon(service.argv, Path(service.journal))

    def pret() -> bool:
        if not vivant(service.pid, service.debut):
            from ardoise.labo.erreurs import LaboErreur

            fin = Path(service.journal).read_text(errors="replace").strip().splitlines()[-3:]
            raise LaboErreur(f"le service {service.nom} s'est arrêté au démarrage : {' / '.join(fin)}")
        return service.actif()

    attendre(pret, delai, f"démarrage du service {service.nom}")


def arreter(services: list[Service], delai: float = 10) -> None:
    """Stop daemons by PID (SIGTERM, wait, SIGKILL)."""
    for s in services:
        if vivant(s.pid, s.debut):
            assert s.pid is not None
            os.kill(s.pid, signal.SIGTERM)
    for grace in sorted({min(s.delai_arret, delai) for s in services}):
        arreter_pids(
            [(s.pid, s.debut) for s in services if s.pid and min(s.delai_arret, delai) == grace], grace
        )
    for s in services:
        s.pid = s.debut = None
