"""Wi-Fi access point configurations from the manifest: hostapd (Linux APs) and OpenWrt UCI.

Model
    Each school SSID (``EcoleChargee.modele.wifi``) is broadcast by the school's access points
    (``bornes`` of the SSID, every AP in service when empty), as one BSS per SSID bridged into its VLAN
    (hostapd: per-BSS ``bridge=br-vlan<ID>``; OpenWrt: ``option network 'vlan<ID>'``). The wired side
    (802.1Q sub-interface ``<uplink>.<ID>`` enslaved to ``br-vlan<ID>``) is the AP's network setup, not
    these files.

Schedule (``coupable`` SSIDs with ``horaires``)
    The schedule is data, turned into cron lines that run every minute of each state, each line being
    idempotent (it changes nothing when the AP is already in that state): an AP that reboots or misses
    a transition is back in the scheduled state within a minute. A ``coupable`` SSID without
    ``horaires`` is always on. hostapd cannot switch a single BSS off at run time without the global
    control interface, so for hostapd every distinct set of active SSIDs of the week is one complete
    configuration file (``hostapd-<n>.conf``, each checked by hostapd) and the cron line points the
    ``hostapd.conf`` link at it and restarts hostapd; when no SSID is active, hostapd is stopped. On
    OpenWrt the cron line sets ``wireless.<section>.disabled`` and runs ``wifi reload``.

Manual cut (``ardoise wifi couper|retablir``)
    Recorded in the results store (``wifi.couper`` / ``wifi.retablir`` events, target ``UAI/SSID``): the
    newest event is the state. A cut SSID is absent from every generated configuration of its APs (and
    from their schedule) until ``retablir``; the files are regenerated at once.

Secrets
    A PSK is decrypted (:meth:`Secret.reveler`) only while writing a device-bound file; such files are
    written with mode 0600 and their contents are never printed: callers get the list of files.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ardoise.erreurs import ArdoiseErreur, ErreurUsage
from ardoise.inventaire.modele import BorneWifi, Wifi
from ardoise.inventaire.territoire import EcoleChargee
from ardoise.inventaire.types import Etat, SecuriteWifi
from ardoise.secrets import Secret

PLATEFORMES = ("hostapd", "openwrt")
JOURS_CRON = {"dimanche": 0, "lundi": 1, "mardi": 2, "mercredi": 3, "jeudi": 4, "vendredi": 5, "samedi": 6}
MINUTES_SEMAINE = 7 * 1440
ACTION_COUPER, ACTION_RETABLIR = "wifi.couper", "wifi.retablir"


class ErreurWifi(ArdoiseErreur):
    """A Wi-Fi configuration that cannot be generated as asked (French message)."""


@dataclass(frozen=True)
class Fichier:
    nom: str  # relative to the AP's output folder
    contenu: str
    secret: bool  # contains a clear PSK: mode 0600


@dataclass
class ConfigBorne:
    borne: str
    plateforme: str
    fichiers: list[Fichier] = field(default_factory=list)


# ------------------------------------------------------------------ selection -------------------


def ssid(ecole: EcoleChargee, nom: str) -> Wifi:
    """The school's SSID of that name; a French usage error listing the SSIDs otherwise."""
    for w in ecole.modele.wifi:
        if w.ssid == nom:
            return w
    noms = ", ".join(w.ssid for w in ecole.modele.wifi) or "aucun"
    raise ErreurUsage(f"SSID « {nom} » inconnu à l'école {ecole.uai} ; SSID déclarés : {noms}")


def bornes(ecole: EcoleChargee) -> list[BorneWifi]:
    return [b for b in ecole.modele.bornes_wifi if b.etat is Etat.en_service]


def ssids_de(ecole: EcoleChargee, borne: BorneWifi, coupes: Iterable[str] = ()) -> list[Wifi]:
    """The SSIDs an AP broadcasts, manifest order, without the manually cut ones."""
    coupes = set(coupes)
    return [w for w in ecole.modele.wifi if (not w.bornes or borne.nom in w.bornes) and w.ssid not in coupes]


def references_coffre(ecole: EcoleChargee) -> list[str]:
    return sorted({w.psk.coffre for w in ecole.modele.wifi if w.psk})


# ------------------------------------------------------------------ schedule --------------------


def _minute(heure: str) -> int:
    h, m = heure.split(":")
    return int(h) * 60 + int(m)


def minutes_actives(w: Wifi) -> frozenset[int] | None:
    """Minutes of the week (0 = Sunday 00:00, cron's day 0) when a scheduled SSID is on; None: always on."""
    if not w.coupable or not w.horaires:
        return None
    actives: set[int] = set()
    for plage in w.horaires:
        debut, fin = _minute(plage.debut), _minute(plage.fin)
        if fin <= debut:  # over midnight
            fin += 1440
        for jour in plage.jours:
            base = JOURS_CRON[jour.value] * 1440
            actives.update((base + m) % MINUTES_SEMAINE for m in range(debut, fin))
    return frozenset(actives)


def _intervalles(valeurs: Iterable[int]) -> str:
    v = sorted(set(valeurs))
    morceaux, i = [], 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[j + 1] == v[j] + 1:
            j += 1
        morceaux.append(str(v[i]) if i == j else f"{v[i]}-{v[j]}")
        i = j + 1
    return ",".join(morceaux)


def expressions_cron(minutes: Iterable[int]) -> list[str]:
    """Cron time fields (``M H * * J``) matching exactly these minutes of the week."""
    par_jour_heure: dict[tuple[int, int], set[int]] = defaultdict(set)
    for m in minutes:
        jour, reste = divmod(m, 1440)
        par_jour_heure[(jour, reste // 60)].add(reste % 60)
    # same minutes in the same hour on several days -> one day list; then same days -> one hour list
    jours_de: dict[tuple[int, str], set[int]] = defaultdict(set)
    for (jour, heure), mins in par_jour_heure.items():
        jours_de[(heure, _intervalles(mins))].add(jour)
    heures_de: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (heure, mins), jours in jours_de.items():
        heures_de[(mins, _intervalles(jours))].add(heure)
    return sorted(
        f"{'*' if mins == '0-59' else mins} {'*' if h == set(range(24)) else _intervalles(h)} * * "
        f"{'*' if jours == '0-6' else jours}"
        for (mins, jours), h in heures_de.items()
    )


def etats_semaine(wifis: list[Wifi]) -> dict[tuple[str, ...], set[int]]:
    """Each distinct set of active SSIDs over the week -> the minutes it holds."""
    actives = {w.ssid: minutes_actives(w) for w in wifis}
    etats: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for m in range(MINUTES_SEMAINE):
        etats[tuple(s for s, a in actives.items() if a is None or m in a)].add(m)
    return dict(etats)


# ------------------------------------------------------------------ rendering -------------------


def _nom_section(texte: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", texte.lower())


def _psk(w: Wifi, secrets: dict[str, Secret]) -> str:
    if not w.psk:
        raise ErreurWifi(f"le SSID « {w.ssid} » ({w.securite.value}) n'a pas de clé dans le manifeste")
    if w.psk.coffre not in secrets:
        raise ErreurWifi(f"secret « {w.psk.coffre} » du SSID « {w.ssid} » non déchiffré")
    valeur = secrets[w.psk.coffre].reveler()
    if not 8 <= len(valeur) <= 63:
        raise ErreurWifi(
            f"la clé du SSID « {w.ssid} » doit faire de 8 à 63 caractères (secret « {w.psk.coffre} »)"
        )
    return valeur


def _refuser_entreprise(w: Wifi) -> None:
    if w.securite is SecuriteWifi.wpa2_entreprise:
        raise ErreurWifi(
            f"le SSID « {w.ssid} » est en wpa2-entreprise : le manifeste ne déclare pas de serveur RADIUS, "
            "Ardoise ne sait pas encore générer cette configuration"
        )


def _bss_hostapd(w: Wifi, secrets: dict[str, Secret]) -> list[str]:
    _refuser_entreprise(w)
    lignes = [f"ssid={w.ssid}", "utf8_ssid=1", f"bridge=br-vlan{w.vlan}", "wmm_enabled=1"]
    if w.masque:
        lignes.append("ignore_broadcast_ssid=1")
    if w.securite is SecuriteWifi.ouvert:
        return lignes + ["auth_algs=1"]
    cle = _psk(w, secrets)
    lignes += ["auth_algs=1", "wpa=2", "rsn_pairwise=CCMP"]
    if w.securite is SecuriteWifi.wpa2_psk:
        lignes += ["wpa_key_mgmt=WPA-PSK", f"wpa_passphrase={cle}"]
    elif w.securite is SecuriteWifi.wpa3_sae:
        lignes += ["wpa_key_mgmt=SAE", "ieee80211w=2", "sae_require_mfp=1", f"sae_password={cle}"]
    else:  # wpa2-wpa3 transition mode
        lignes += ["wpa_key_mgmt=WPA-PSK SAE", "ieee80211w=1", f"wpa_passphrase={cle}", f"sae_password={cle}"]
    return lignes


def hostapd_conf(ecole: EcoleChargee, borne: BorneWifi, wifis: list[Wifi], secrets: dict[str, Secret],
                 interface: str = "wlan0", driver: str = "nl80211") -> str:  # fmt: skip
    """One complete hostapd configuration: the radio, then one BSS per SSID (first on ``interface``)."""
    tete = [
        f"# Ardoise : {borne.nom} ({ecole.nom}, {ecole.uai}) — fichier généré, ne pas modifier",
        f"# SSID actifs : {', '.join(w.ssid for w in wifis) or 'aucun'}",
        f"interface={interface}",
        f"driver={driver}",
        "ctrl_interface=/var/run/hostapd",
        "ctrl_interface_group=0",
        "country_code=FR",
        "ieee80211d=1",
        "hw_mode=g",
        "channel=6",
        "ieee80211n=1",
        "logger_syslog=-1",
        "logger_syslog_level=2",
    ]
    blocs = []
    for i, w in enumerate(wifis):
        entete = [f"# SSID {w.ssid} (VLAN {w.vlan}, {w.securite.value})"]
        if i:
            entete.append(f"bss={interface}_{i}")
        blocs.append("\n".join(entete + _bss_hostapd(w, secrets)))
    return "\n".join(tete) + "\n\n" + "\n\n".join(blocs) + "\n"


def _hostapd(ecole, borne, wifis, secrets) -> list[Fichier]:
    etats = etats_semaine(wifis)
    ordre = sorted(etats, key=lambda e: (-len(e), e))
    fichiers: list[Fichier] = []
    cron = [f"# Ardoise : horaires Wi-Fi de {borne.nom} ({ecole.uai}) — /etc/cron.d/ardoise-wifi",
            "# chaque ligne est idempotente et tourne chaque minute de son état (rattrapage après coupure)",
            "SHELL=/bin/sh", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]  # fmt: skip
    noms = {}
    for n, etat in enumerate(ordre, start=1):
        if etat:
            noms[etat] = f"hostapd-{n}.conf"
            fichiers.append(
                Fichier(
                    noms[etat],
                    hostapd_conf(ecole, borne, [w for w in wifis if w.ssid in etat], secrets),
                    True,
                )
            )
    for etat in ordre:
        if etat:
            conf = noms[etat]
            commande = (f'[ "$(readlink /etc/hostapd/hostapd.conf)" = {conf} ] && systemctl -q is-active hostapd || '
                        f"{{ ln -sfn {conf} /etc/hostapd/hostapd.conf && systemctl restart hostapd; }}")  # fmt: skip
        else:
            commande = "systemctl -q is-active hostapd && systemctl stop hostapd || true"
        cron.append(f"# {', '.join(etat) or 'aucun SSID'} -> {noms.get(etat, 'hostapd arrêté')}")
        cron += [f"{expr} root {commande}" for expr in expressions_cron(etats[etat])]
    fichiers.append(Fichier("ardoise-wifi.cron", "\n".join(cron) + "\n", False))
    return fichiers


def _openwrt(ecole, borne, wifis, secrets) -> list[Fichier]:
    lignes = [f"# Ardoise : {borne.nom} ({ecole.nom}, {ecole.uai}) — /etc/config/wireless généré", "",
              "config wifi-device 'radio0'", "\toption type 'mac80211'", "\toption band '2g'",
              "\toption channel '6'", "\toption htmode 'HT20'", "\toption country 'FR'", "\toption disabled '0'"]  # fmt: skip
    cron = [f"# Ardoise : horaires Wi-Fi de {borne.nom} ({ecole.uai}) — /etc/crontabs/root",
            "# chaque ligne est idempotente et tourne chaque minute de son état (rattrapage après coupure)"]  # fmt: skip
    for w in wifis:
        _refuser_entreprise(w)
        section = f"ardoise_{_nom_section(w.ssid)}"
        lignes += ["", f"config wifi-iface '{section}'", "\toption device 'radio0'", "\toption mode 'ap'",
                   f"\toption ssid '{w.ssid}'", f"\toption network 'vlan{w.vlan}'"]  # fmt: skip
        if w.masque:
            lignes.append("\toption hidden '1'")
        chiffrement = {SecuriteWifi.ouvert: "none", SecuriteWifi.wpa2_psk: "psk2+ccmp",
                       SecuriteWifi.wpa3_sae: "sae", SecuriteWifi.wpa2_wpa3: "sae-mixed"}[w.securite]  # fmt: skip
        lignes.append(f"\toption encryption '{chiffrement}'")
        if w.securite is not SecuriteWifi.ouvert:
            lignes.append(f"\toption key '{_psk(w, secrets)}'")
        actives = minutes_actives(w)
        lignes.append("\toption disabled '0'")
        if actives is None:
            continue
        for valeur, minutes in (("0", actives), ("1", set(range(MINUTES_SEMAINE)) - actives)):
            commande = (f'[ "$(uci -q get wireless.{section}.disabled)" = {valeur} ] || '
                        f"{{ uci set wireless.{section}.disabled={valeur} && uci commit wireless && wifi reload; }}")  # fmt: skip
            cron.append(f"# {w.ssid} : {'allumé' if valeur == '0' else 'éteint'}")
            cron += [f"{expr} {commande}" for expr in expressions_cron(minutes)]
    return [
        Fichier("wireless", "\n".join(lignes) + "\n", True),
        Fichier("crontab", "\n".join(cron) + "\n", False),
    ]


def configurations(ecole: EcoleChargee, secrets: dict[str, Secret], coupes: Iterable[str] = (),
                   noms: Iterable[str] = ()) -> list[ConfigBorne]:  # fmt: skip
    """The files of every AP in service of the school (or the named ones)."""
    noms = set(noms)
    resultat = []
    for borne in bornes(ecole):
        if noms and borne.nom not in noms:
            continue
        if borne.plateforme not in PLATEFORMES:
            raise ErreurWifi(
                f"borne {borne.nom} : plateforme « {borne.plateforme} » non gérée ({', '.join(PLATEFORMES)})"
            )
        wifis = ssids_de(ecole, borne, coupes)
        rendu = _hostapd if borne.plateforme == "hostapd" else _openwrt
        resultat.append(ConfigBorne(borne.nom, borne.plateforme, rendu(ecole, borne, wifis, secrets)))
    return resultat


def ecrire(configs: list[ConfigBorne], dossier: Path) -> list[Path]:
    """Write each AP's files under ``dossier/<borne>/`` (PSK files 0600, from creation); the paths written."""
    ecrits = []
    for c in configs:
        sous = dossier / c.borne
        sous.mkdir(parents=True, exist_ok=True)
        for ancien in sous.glob("hostapd-*.conf"):  # variants of a previous generation
            ancien.unlink()
        for f in c.fichiers:
            chemin = sous / f.nom
            mode = 0o600 if f.secret else 0o644
            fd = os.open(chemin, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as sortie:
                sortie.write(f.contenu)
            ecrits.append(chemin)
    return ecrits


# ------------------------------------------------------------------ manual cut ------------------


def cible(uai: str, nom_ssid: str) -> str:
    return f"{uai}/{nom_ssid}"


def ssids_coupes(magasin, ecole: EcoleChargee) -> set[str]:
    """SSIDs of the school whose newest couper/retablir event in the store is a cut."""
    from sqlalchemy import select

    from ardoise.resultats.modeles import Evenement

    prefixe = f"{ecole.uai}/"
    dernier: dict[str, str] = {}
    with magasin.session() as s:
        req = (select(Evenement.cible, Evenement.action)
               .where(Evenement.action.in_([ACTION_COUPER, ACTION_RETABLIR]), Evenement.cible.startswith(prefixe))
               .order_by(Evenement.horodatage, Evenement.id))  # fmt: skip
        for c, action in s.execute(req):
            dernier[c.removeprefix(prefixe)] = action
    return {s for s, a in dernier.items() if a == ACTION_COUPER}


def basculer(ecole: EcoleChargee, nom_ssid: str, couper: bool, magasin, dossier: Path,
             reveler: Callable[[list[str]], dict[str, Secret]], qui: str | None = None) -> tuple[str, list[Path]]:  # fmt: skip
    """Cut (or restore) a ``coupable`` SSID now: record it, regenerate the files of its APs.

    Returns a French sentence saying what happened and the files written (none if nothing changed).
    """
    w = ssid(ecole, nom_ssid)
    if not w.coupable:
        raise ErreurUsage(
            f"le SSID « {w.ssid} » n'est pas coupable : seuls les SSID marqués « coupable: true » dans le "
            f"manifeste de l'école {ecole.uai} se coupent"
        )
    coupes = ssids_coupes(magasin, ecole)
    if couper == (w.ssid in coupes):
        return (
            f"le SSID « {w.ssid} » est déjà {'coupé' if couper else 'actif (pas de coupure en cours)'} : rien à faire",
            [],
        )
    coupes = coupes | {w.ssid} if couper else coupes - {w.ssid}
    concernees = [b.nom for b in bornes(ecole) if not w.bornes or b.nom in w.bornes]
    configs = configurations(ecole, reveler(references_coffre(ecole)), coupes, concernees)
    ecrits = ecrire(configs, dossier)
    magasin.journaliser(ACTION_COUPER if couper else ACTION_RETABLIR, "ok", cible=cible(ecole.uai, w.ssid),
                        commune=ecole.commune, qui=qui,
                        details={"uai": ecole.uai, "ssid": w.ssid, "bornes": concernees,
                                 "fichiers": [str(p) for p in ecrits]})  # fmt: skip
    etat = "coupé" if couper else "rétabli"
    return (
        f"SSID « {w.ssid} » {etat} sur {', '.join(concernees) or 'aucune borne'} : configurations régénérées",
        ecrits,
    )


def resume_horaires(ecole: EcoleChargee) -> list[dict[str, str]]:
    """The schedule as data, for listings and JSON."""
    return [
        {"ssid": w.ssid, "coupable": "oui" if w.coupable else "non",
         "horaires": "; ".join(f"{','.join(j.value for j in p.jours)} {p.debut}-{p.fin}" for p in w.horaires)
         or "toujours actif"}
        for w in ecole.modele.wifi
    ]  # fmt: skip
