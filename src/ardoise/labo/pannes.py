"""Fault injection on a running lab, for tests of the product's error handling.

Every helper takes the :class:`~ardoise.labo.labo.Labo` and a name from the plan, and has an
inverse (stop/start, cut/restore, fill/free). Nothing here touches anything outside the lab.
"""

from __future__ import annotations

import json
import logging
import os
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from ardoise.labo import commutateurs, hotes, reseau
from ardoise.labo.erreurs import LaboErreur
from ardoise.labo.labo import Labo
from ardoise.labo.systeme import arreter_pids, attendre, dans_ns, executer, lancer_demon, port_ecoute, vivant

log = logging.getLogger(__name__)

FICHIER_REMPLISSAGE = "var/tmp/ardoise-disque-plein"
DISQUE_MAX = 16 * 2**30  # refuse to fill anything bigger: it would not be the host's small tmpfs


# -- hosts ------------------------------------------------------------------------------------
def arreter_hote(labo: Labo, nom: str) -> None:
    """Power a PC off (clean systemd shutdown); its disk (overlay) is kept."""
    labo.arreter_hote(nom)


def demarrer_hote(labo: Labo, nom: str) -> None:
    """Boot a stopped PC again and wait for ssh."""
    labo.demarrer_hote(nom)


def eteindre_poste(labo: Labo, nom: str) -> None:
    """A powered-off PC: systemd shut down AND its network card silent.

    :func:`arreter_hote` alone leaves the PC's namespace answering ARP and ping (its kernel stays);
    the audit's discovery would still see it. :func:`rallumer_poste` is the inverse.
    """
    arreter_hote(labo, nom)
    couper_lien(labo, nom)


def rallumer_poste(labo: Labo, nom: str) -> None:
    retablir_lien(labo, nom)
    demarrer_hote(labo, nom)


def _lien(labo: Labo, nom: str) -> str:
    """Server-side veth of a PC or switch (``pc<i>`` / ``sw<i>``)."""
    try:
        ns = labo.hote(nom).ns
    except LaboErreur:
        ns = labo.service(nom).ns or ""
    if not ns.startswith(reseau.PREFIXE):
        raise LaboErreur(f"aucun lien réseau pour {nom}")
    return ns[len(reseau.PREFIXE) :]


def couper_lien(labo: Labo, nom: str) -> None:
    """Unplug a PC (or switch): its veth goes down on the server side."""
    reseau.ip("link", "set", _lien(labo, nom), "down", ns=reseau.NS_SERVEUR)


def retablir_lien(labo: Labo, nom: str) -> None:
    """Plug it back."""
    lien = _lien(labo, nom)
    reseau.ip("link", "set", lien, "up", ns=reseau.NS_SERVEUR)


# -- proxy ------------------------------------------------------------------------------------
def arreter_proxy(labo: Labo, e2guardian: bool = True) -> None:
    """Stop squid (and e2guardian unless told otherwise)."""
    if e2guardian:
        labo.arreter_service("e2guardian")
    labo.arreter_service("squid")


def demarrer_proxy(labo: Labo) -> None:
    """Start squid and e2guardian again (no-op for those already running)."""
    labo.demarrer_service("squid")
    _demarrer_e2guardian(labo)


def _demarrer_e2guardian(labo: Labo) -> None:
    """e2guardian refuses to start while its pid file exists (« I seem to be running already! »), and one
    killed when it was slow to stop leaves it behind: a stopped service's pid file is stale."""
    if not labo.service("e2guardian").actif():
        (labo.dossier / "e2guardian" / "e2guardian.pid").unlink(missing_ok=True)
    labo.demarrer_service("e2guardian")


# -- disk -------------------------------------------------------------------------------------
def remplir_disque(labo: Labo, nom: str, marge_mo: int = 8) -> Path:
    """Fill a PC's disk until only ``marge_mo`` MiB remain; return the filler file (host path).

    The PC's root is an overlay whose upper dir sits on a size-limited tmpfs (``taille_disque_hote``),
    so this fills that tmpfs, never the machine's disk.
    """
    h = labo.hote(nom)
    if not os.path.ismount(h.dossier) or not os.path.ismount(h.racine):
        raise LaboErreur(f"le disque du poste {nom} n'est pas monté")
    vfs = os.statvfs(h.racine)
    if vfs.f_blocks * vfs.f_frsize > DISQUE_MAX:
        raise LaboErreur(f"disque du poste {nom} inattendu (trop grand) : remplissage refusé")
    fichier = h.racine / FICHIER_REMPLISSAGE
    fichier.unlink(missing_ok=True)
    vfs = os.statvfs(h.racine)
    taille = vfs.f_bavail * vfs.f_frsize - marge_mo * 2**20
    if taille > 0:
        executer(["fallocate", "-l", str(taille), fichier])
    log.info("disque du poste %s rempli (%d Mio)", nom, max(taille, 0) // 2**20)
    return fichier


def liberer_disque(labo: Labo, nom: str) -> None:
    """Remove the filler file."""
    (labo.hote(nom).racine / FICHIER_REMPLISSAGE).unlink(missing_ok=True)


# -- antivirus --------------------------------------------------------------------------------
def arreter_clamav(labo: Labo, nom: str) -> None:
    """Stop the ClamAV daemon of a PC (installed by the antivirus role)."""
    hotes.executer_dans(labo.hote(nom), "systemctl", "stop", "clamav-daemon.service")


def demarrer_clamav(labo: Labo, nom: str) -> None:
    hotes.executer_dans(labo.hote(nom), "systemctl", "start", "clamav-daemon.service")


# -- switches ---------------------------------------------------------------------------------
def _controle(labo: Labo, nom: str, *lignes: str) -> None:
    from ardoise.labo.emulateur import envoyer_instruction

    labo.service(nom)  # raises if the switch is unknown
    try:
        envoyer_instruction(commutateurs.controle(labo.dossier, nom), *lignes)
    except TimeoutError as e:
        raise LaboErreur(f"l'émulateur du commutateur {nom} ne lit pas son fichier de contrôle") from e


def couper_sessions_commutateur(labo: Labo, nom: str, apres: int | None = None) -> None:
    """Drop the switch's SSH sessions now, or after ``apres`` further configuration commands."""
    _controle(labo, nom, "couper" if apres is None else f"couper_apres {apres}")


def ralentir_commutateur(labo: Labo, nom: str, secondes: float) -> None:
    """Delay every response of the switch by ``secondes``."""
    _controle(labo, nom, f"lent {secondes}")


def retablir_commutateur(labo: Labo, nom: str) -> None:
    """Disarm a pending cut and remove any delay."""
    _controle(labo, nom, "normal")


# -- network audit: rogue host, PC on the wrong VLAN, filtering hole, ENT cut ----------------------
NS_INTRUS = "ard-intrus"
LIEN_INTRUS = "intrus0"
MAC_INTRUS = "b8:27:eb:5c:0f:42"  # Raspberry Pi Foundation's OUI: a vendor nmap names
TABLE_PANNE_ENT = "ardoise_panne_ent"


def _reseau_vlan(vlan: int) -> tuple[IPv4Interface, list[IPv4Address]]:
    """The gateway interface of a VLAN (read on the server's bridge) and its host addresses."""
    sortie = reseau.ip(
        "-4", "-o", "addr", "show", "dev", reseau.pont(vlan), ns=reseau.NS_SERVEUR, verifier=False
    )
    champs = sortie.split()
    if "inet" not in champs:
        raise LaboErreur(f"le VLAN {vlan} n'existe pas dans le laboratoire")
    passerelle = IPv4Interface(champs[champs.index("inet") + 1])
    return passerelle, list(passerelle.network.hosts())


def brancher_intrus(labo: Labo, vlan: int, mac: str = MAC_INTRUS, port_non_declare: bool = False) -> str:
    """Plug an undeclared device into ``vlan`` (own namespace, a real vendor's MAC); return its address.

    It takes a free access port of that VLAN on the emulated switches (their MAC table shows it), or with
    ``port_non_declare`` a port of the first switch the manifest does not declare (its link shows up).
    """
    passerelle, hotes_vlan = _reseau_vlan(vlan)
    adresse = IPv4Interface(
        f"{hotes_vlan[-2]}/{passerelle.network.prefixlen}"
    )  # .253: .254 is the technician
    if NS_INTRUS in reseau.namespaces_labo():
        raise LaboErreur("un intrus est déjà branché : débranchez-le d'abord")
    reseau.brancher(NS_INTRUS, LIEN_INTRUS, vlan, adresse, passerelle.ip, mac)
    cablage = commutateurs.lire_cablage(labo.dossier)
    place = (
        commutateurs.port_non_declare(cablage) if port_non_declare else commutateurs.port_libre(cablage, vlan)
    )
    if place:
        cablage["hotes"]["intrus"] = {"mac": mac, "vlan": vlan, "commutateur": place[0], "port": place[1]}
    commutateurs.ecrire_cablage(labo.dossier, cablage)
    log.info("intrus %s branché sur le VLAN %d (%s)", mac, vlan, adresse.ip)
    return str(adresse.ip)


def debrancher_intrus(labo: Labo) -> None:
    """Unplug the rogue device (no-op if none), its DHCP server stopped first."""
    arreter_dhcp_pirate(labo)
    if NS_INTRUS in reseau.namespaces_labo():
        reseau.ip("netns", "del", NS_INTRUS, verifier=False)
    for dossier in (reseau.ETC_NETNS / NS_INTRUS,):
        if dossier.exists():
            for f in dossier.iterdir():
                f.unlink()
            dossier.rmdir()
    cablage = commutateurs.lire_cablage(labo.dossier)
    if cablage["hotes"].pop("intrus", None) is not None:
        commutateurs.ecrire_cablage(labo.dossier, cablage)


def deplacer_poste(labo: Labo, nom: str, vlan: int) -> str:
    """Re-patch a PC into a port of another VLAN; it takes an address there, as DHCP would give it.

    Returns the new address; :func:`remettre_poste` puts it back.
    """
    h = labo.hote(nom)
    cablage = commutateurs.lire_cablage(labo.dossier)
    if nom in cablage.get("deplaces", {}):
        raise LaboErreur(f"le poste {nom} est déjà déplacé")
    ancien = cablage["hotes"].get(nom)
    if ancien is None:
        raise LaboErreur(f"le poste {nom} n'est branché sur aucun commutateur du laboratoire")
    ancienne_passerelle, _ = _reseau_vlan(ancien["vlan"])
    passerelle, hotes_vlan = _reseau_vlan(vlan)
    adresse = IPv4Interface(f"{hotes_vlan[-3]}/{passerelle.network.prefixlen}")  # .252
    cablage.setdefault("deplaces", {})[nom] = {
        **ancien, "adresse": f"{h.adresse}/{ancienne_passerelle.network.prefixlen}",
        "passerelle": str(ancienne_passerelle.ip),
    }  # fmt: skip
    _repatcher(h.ns, _lien(labo, nom), vlan, adresse, passerelle.ip)
    place = commutateurs.port_libre(cablage, vlan)
    del cablage["hotes"][nom]
    if place:
        cablage["hotes"][nom] = {
            "mac": ancien["mac"],
            "vlan": vlan,
            "commutateur": place[0],
            "port": place[1],
        }
    commutateurs.ecrire_cablage(labo.dossier, cablage)
    return str(adresse.ip)


def remettre_poste(labo: Labo, nom: str) -> None:
    """Put a moved PC back on its port, VLAN and address (no-op if it was not moved)."""
    cablage = commutateurs.lire_cablage(labo.dossier)
    avant = cablage.get("deplaces", {}).pop(nom, None)
    if avant is None:
        return
    h = labo.hote(nom)
    _repatcher(h.ns, _lien(labo, nom), avant["vlan"], IPv4Interface(avant["adresse"]),
               IPv4Address(avant["passerelle"]))  # fmt: skip
    cablage["hotes"][nom] = {k: avant[k] for k in ("mac", "vlan", "commutateur", "port")}
    commutateurs.ecrire_cablage(labo.dossier, cablage)


def _repatcher(ns: str, lien: str, vlan: int, adresse: IPv4Interface, passerelle: IPv4Address) -> None:
    reseau.ip("link", "set", lien, "nomaster", ns=reseau.NS_SERVEUR)
    reseau.ip("link", "set", lien, "master", reseau.pont(vlan), ns=reseau.NS_SERVEUR)
    reseau.ip("addr", "flush", "dev", "eth0", ns=ns)
    reseau.ip("addr", "add", str(adresse), "dev", "eth0", ns=ns)
    reseau.ip("route", "replace", "default", "via", str(passerelle), ns=ns)


def _listes_e2guardian(labo: Labo) -> list[Path]:
    d = labo.dossier / "e2guardian" / "lists"
    return [d / "bannedsitelist", d / "bannedurllist"]


def autoriser_categorie(labo: Labo, categorie: str) -> None:
    """A proxy rule that lets a blocked UT1 category through (its lists commented out), e2guardian restarted."""
    _basculer_categorie(labo, categorie, autoriser=True)


def rebloquer_categorie(labo: Labo, categorie: str) -> None:
    """Inverse of :func:`autoriser_categorie`."""
    _basculer_categorie(labo, categorie, autoriser=False)


def _basculer_categorie(labo: Labo, categorie: str, autoriser: bool) -> None:
    marque = "#ardoise-panne "
    change = False
    for liste in _listes_e2guardian(labo):
        lignes = liste.read_text().splitlines()
        for i, ligne in enumerate(lignes):
            if f"/blacklists/{categorie}/" not in ligne:
                continue
            if autoriser and ligne.startswith(".Include"):
                lignes[i], change = marque + ligne, True
            elif not autoriser and ligne.startswith(marque):
                lignes[i], change = ligne[len(marque) :], True
        liste.write_text("\n".join(lignes) + "\n")
    if change:  # e2guardian reads its lists at start
        labo.arreter_service("e2guardian")
        _demarrer_e2guardian(labo)


def couper_ent(labo: Labo) -> None:
    """Make the ENT (and GAR) unreachable: the school server rejects every packet to their address."""
    cible = reseau.ADRESSE_ENT.ip
    regles = (
        f"table inet {TABLE_PANNE_ENT} {{\n"
        f"  chain sortie {{ type filter hook output priority 0; ip daddr {cible} meta l4proto tcp reject with tcp reset; }}\n"
        f"  chain transit {{ type filter hook forward priority 0; ip daddr {cible} meta l4proto tcp reject with tcp reset; }}\n"
        "}\n"
    )
    fichier = labo.dossier / "panne-ent.nft"
    fichier.write_text(regles)
    executer(["ip", "netns", "exec", reseau.NS_SERVEUR, "nft", "-f", str(fichier)])


def retablir_ent(labo: Labo) -> None:
    """Inverse of :func:`couper_ent` (no-op if the ENT was not cut)."""
    executer(["ip", "netns", "exec", reseau.NS_SERVEUR, "nft", "delete", "table", "inet", TABLE_PANNE_ENT],
             verifier=False)  # fmt: skip


FICHIER_DHCP_PIRATE = "dhcp-pirate.json"


def demarrer_dhcp_pirate(labo: Labo) -> str:
    """The rogue device answers DHCP on its VLAN (a dnsmasq giving itself as router and DNS, as a home box
    plugged into a classroom socket would); return its address. :func:`arreter_dhcp_pirate` is the inverse."""
    if NS_INTRUS not in reseau.namespaces_labo():
        raise LaboErreur("aucun intrus branché : brancher_intrus d'abord")
    sortie = reseau.ip("-4", "-o", "addr", "show", "dev", "eth0", ns=NS_INTRUS)
    interface = IPv4Interface(sortie.split()[sortie.split().index("inet") + 1])
    fichier = labo.dossier / FICHIER_DHCP_PIRATE
    if fichier.exists() and vivant(**json.loads(fichier.read_text())):
        return str(interface.ip)  # already answering
    hotes_reseau = list(interface.network.hosts())
    d = labo.dossier / "dhcp-pirate"
    d.mkdir(parents=True, exist_ok=True)
    argv = dans_ns(
        NS_INTRUS, "dnsmasq", "-k", "--conf-file=/dev/null", "--port=0", "--user=root", "--no-ping",
        "--interface=eth0", "--bind-interfaces", f"--pid-file={d}/dnsmasq.pid", f"--dhcp-leasefile={d}/leases",
        f"--dhcp-range={hotes_reseau[len(hotes_reseau) // 2]},{hotes_reseau[len(hotes_reseau) // 2 + 9]},"
        f"{interface.network.netmask},1h",
        f"--dhcp-option=option:router,{interface.ip}", f"--dhcp-option=option:dns-server,{interface.ip}",
    )  # fmt: skip
    pid, debut = lancer_demon(argv, labo.journaux / "dhcp-pirate.log")
    fichier.write_text(json.dumps({"pid": pid, "debut": debut}))
    attendre(lambda: vivant(pid, debut) and port_ecoute(pid, 67, udp=True), 10, "démarrage du DHCP pirate")
    log.info("DHCP pirate lancé sur %s (pid %d)", interface, pid)
    return str(interface.ip)


def arreter_dhcp_pirate(labo: Labo) -> None:
    """Stop the rogue DHCP server (no-op if none runs)."""
    fichier = labo.dossier / FICHIER_DHCP_PIRATE
    if not fichier.exists():
        return
    etat = json.loads(fichier.read_text())
    if vivant(etat["pid"], etat["debut"]):
        arreter_pids([(etat["pid"], etat["debut"])], 5)
    fichier.unlink()


# -- a school that filters by DNS instead of an explicit proxy -------------------------------------
COMMENTAIRE_WEB_DIRECT = "ardoise-web-direct"


def ouvrir_web_direct(labo: Labo) -> None:
    """Pupils reach the lab's web sites (test sites, ENT) directly, as in a school filtered by DNS rather than by
    an explicit proxy; other destinations (DoH resolvers…) stay refused. :func:`fermer_web_direct` is the inverse."""
    if _regle_web_direct(labo) is not None:
        return
    cibles = f"{reseau.ADRESSE_INTERNET.ip}, {reseau.ADRESSE_ENT.ip}"
    executer(dans_ns(reseau.NS_SERVEUR, "nft", "insert", "rule", "inet", "ardoise_labo", "forward",
                     "ip", "daddr", f"{{ {cibles} }}", "tcp", "dport", "{ 80, 443 }", "accept",
                     "comment", f'"{COMMENTAIRE_WEB_DIRECT}"'))  # fmt: skip


def fermer_web_direct(labo: Labo) -> None:
    """Inverse of :func:`ouvrir_web_direct` (no-op when closed)."""
    poignee = _regle_web_direct(labo)
    if poignee is not None:
        executer(dans_ns(reseau.NS_SERVEUR, "nft", "delete", "rule", "inet", "ardoise_labo", "forward",
                         "handle", poignee))  # fmt: skip


def _regle_web_direct(labo: Labo) -> str | None:
    sortie = executer(
        dans_ns(reseau.NS_SERVEUR, "nft", "-a", "list", "chain", "inet", "ardoise_labo", "forward")
    ).stdout
    for ligne in sortie.splitlines():
        if COMMENTAIRE_WEB_DIRECT in ligne and "# handle " in ligne:
            return ligne.rsplit("# handle ", 1)[1].strip()
    return None


def filtrer_par_dns(labo: Labo, domaines: list[str]) -> None:
    """The lab's DNS answers 0.0.0.0 for ``domaines`` (a DNS filter's block answer), dnsmasq restarted.
    :func:`arreter_filtrage_dns` is the inverse."""
    conf = labo.dossier / "dnsmasq" / "dnsmasq.conf"
    origine = conf.with_suffix(".conf.sans-filtrage")
    if not origine.exists():
        origine.write_text(conf.read_text())
    lignes = [ligne for ligne in origine.read_text().splitlines()
              if not any(ligne.startswith(f"address=/{d}/") for d in domaines)]  # fmt: skip
    conf.write_text("\n".join([*lignes, *(f"address=/{d}/0.0.0.0" for d in domaines)]) + "\n")
    _redemarrer_dns(labo)


def arreter_filtrage_dns(labo: Labo) -> None:
    """Inverse of :func:`filtrer_par_dns` (no-op when the DNS does not filter)."""
    conf = labo.dossier / "dnsmasq" / "dnsmasq.conf"
    origine = conf.with_suffix(".conf.sans-filtrage")
    if origine.exists():
        conf.write_text(origine.read_text())
        origine.unlink()
        _redemarrer_dns(labo)


def _redemarrer_dns(labo: Labo) -> None:  # dnsmasq reads address= lines at start only
    labo.arreter_service("dnsmasq")
    labo.demarrer_service("dnsmasq")
