"""System checks: disk, clock, failed units, uptime, reboot, hostname, SMART, battery."""

from __future__ import annotations

from ardoise.maintenance.catalogue import Controle, Sortie, declarer
from ardoise.maintenance.cibles import Contexte
from ardoise.resultats.forme import Niveau

# filesystems that are not storage (always kept: "/")
FS_VIRTUELS = {
    "tmpfs",
    "devtmpfs",
    "squashfs",
    "proc",
    "sysfs",
    "ramfs",
    "efivarfs",
    "overlay",
    "fuse.portal",
}


def _nombre(texte: str) -> float:
    return float(texte.strip().split()[0])


# -- clock (first in the batch: its timing brackets the remote clock reading) -------------------
def _horloge(s: Sortie, ctx: Contexte):
    c = CATALOGUE_LOCAL["horloge"]
    lignes = s.texte.split()
    distante = float(lignes[0])
    synchro = lignes[1] if len(lignes) > 1 else "?"
    # the remote clock was read after t_envoi and before t_ouvert (its section had arrived): outside that
    # window is offset (the window itself, milliseconds to a second under load, is the uncertainty)
    tolerance = 0.05
    if distante < s.t_envoi:
        decalage = distante - s.t_envoi
    elif distante > s.t_ouvert + tolerance:
        decalage = distante - (s.t_ouvert + tolerance)
    else:
        decalage = 0.0
    seuil = ctx.politique.seuils.decalage_horloge_max_s
    info = {"yes": "synchronisée par NTP", "no": "non synchronisée par NTP"}.get(synchro, "état NTP inconnu")
    texte = f"décalage {decalage:+.1f} s par rapport au serveur Ardoise ({info})"
    if abs(decalage) > 10 * seuil:
        return c.resultat(
            Niveau.CRITIQUE, texte + f" ; maximum {seuil:g} s", f"{decalage:+.1f} s", decalage_s=decalage
        )
    if abs(decalage) > seuil:
        return c.resultat(
            Niveau.ATTENTION, texte + f" ; maximum {seuil:g} s", f"{decalage:+.1f} s", decalage_s=decalage
        )
    return c.resultat(Niveau.OK, texte, f"{decalage:+.1f} s", decalage_s=decalage)


CATALOGUE_LOCAL: dict[str, Controle] = {}


def _d(c: Controle) -> Controle:
    CATALOGUE_LOCAL[c.nom] = declarer(c)
    return c


_d(Controle(
    "horloge", "Heure (décalage NTP)", _horloge,
    script=lambda _c: "date +%s.%N; timedatectl show -p NTPSynchronized --value 2>/dev/null || echo '?'",
))  # fmt: skip


# -- disk -----------------------------------------------------------------------------------
def _disque(s: Sortie, ctx: Contexte):
    c = CATALOGUE_LOCAL["disque"]
    seuils = ctx.politique.seuils
    pires: list[tuple[float, str]] = []
    mesures: dict[str, float] = {}
    for ligne in s.texte.splitlines()[1:]:
        champs = ligne.split()
        if len(champs) < 7:
            continue
        type_fs, taille, dispo, point = champs[1], int(champs[2]), int(champs[4]), " ".join(champs[6:])
        if taille <= 0 or (type_fs in FS_VIRTUELS and point != "/"):
            continue
        libre = 100.0 * dispo / taille
        mesures[f"libre_pct_{point}"] = round(libre, 1)
        pires.append((libre, point))
    if not pires:
        return c.resultat(Niveau.INCONNU, "aucun système de fichiers lu (df)")
    pires.sort()
    libre, point = pires[0]
    resume = ", ".join(f"{p} {v:.0f} %" for v, p in pires)
    if libre < seuils.disque_libre_critique_pct:
        niveau = Niveau.CRITIQUE
    elif libre < seuils.disque_libre_min_pct:
        niveau = Niveau.ATTENTION
    else:
        niveau = Niveau.OK
    message = f"espace libre : {resume}"
    if niveau is not Niveau.OK:
        message = (f"{point} presque plein ({libre:.0f} % libre ; minimum {seuils.disque_libre_min_pct} %,"
                   f" critique sous {seuils.disque_libre_critique_pct} %)")  # fmt: skip
    return c.resultat(niveau, message, f"{libre:.0f} %", **mesures)


_d(Controle("disque", "Espace disque libre", _disque, script=lambda _c: "LC_ALL=C df -P -k -T"))


# -- failed units ---------------------------------------------------------------------------
def _unites(s: Sortie, _ctx: Contexte):
    c = CATALOGUE_LOCAL["unites"]
    if s.code not in (0, None) and not s.texte.strip():
        return c.resultat(Niveau.INCONNU, f"systemctl indisponible (code {s.code})")
    unites = [ligne.split()[0] for ligne in s.texte.splitlines() if ligne.strip()]
    if unites:
        return c.resultat(Niveau.ATTENTION, f"{len(unites)} service(s) en échec : {', '.join(unites)}",
                          str(len(unites)), echecs=len(unites))  # fmt: skip
    return c.resultat(Niveau.OK, "aucun service en échec", "0", echecs=0)


_d(Controle("unites", "Services systemd en échec", _unites,
            script=lambda _c: "systemctl --failed --no-legend --plain --no-pager 2>/dev/null"))  # fmt: skip


# -- uptime ---------------------------------------------------------------------------------
def _disponibilite(s: Sortie, ctx: Contexte):
    c = CATALOGUE_LOCAL["disponibilite"]
    jours = _nombre(s.texte) / 86400
    maxi = ctx.politique.seuils.disponibilite_max_jours
    if jours > maxi:
        return c.resultat(Niveau.ATTENTION, f"allumé depuis {jours:.0f} jours sans redémarrage (maximum {maxi})",
                          f"{jours:.1f} j", jours=round(jours, 2))  # fmt: skip
    return c.resultat(
        Niveau.OK, f"allumé depuis {jours:.1f} jour(s)", f"{jours:.1f} j", jours=round(jours, 2)
    )


_d(Controle("disponibilite", "Durée depuis le dernier démarrage", _disponibilite,
            script=lambda _c: "cat /proc/uptime"))  # fmt: skip


# -- reboot required ------------------------------------------------------------------------
def _redemarrage(s: Sortie, _ctx: Contexte):
    c = CATALOGUE_LOCAL["redemarrage"]
    lignes = s.texte.split()
    if lignes and lignes[0] == "oui":
        paquets = lignes[1:]
        detail = f" (après mise à jour de {', '.join(paquets[:5])})" if paquets else ""
        return c.resultat(Niveau.ATTENTION, f"redémarrage nécessaire{detail}", "oui")
    return c.resultat(Niveau.OK, "aucun redémarrage en attente", "non")


_d(Controle("redemarrage", "Redémarrage en attente", _redemarrage,
            script=lambda _c: "if [ -e /run/reboot-required ]; then echo oui; cat /run/reboot-required.pkgs 2>/dev/null;"
                              " else echo non; fi"))  # fmt: skip


# -- hostname -------------------------------------------------------------------------------
def _nom_hote(s: Sortie, ctx: Contexte):
    c = CATALOGUE_LOCAL["nom_hote"]
    nom = s.texte.strip().split(".")[0].lower()
    if not nom:
        return c.resultat(Niveau.INCONNU, "nom d'hôte illisible")
    if nom != ctx.nom.lower():
        return c.resultat(
            Niveau.ATTENTION, f"le poste s'appelle « {nom} », le manifeste dit « {ctx.nom} »", nom
        )
    return c.resultat(Niveau.OK, "conforme au manifeste", nom)


_d(Controle("nom_hote", "Nom d'hôte conforme au manifeste", _nom_hote,
            script=lambda _c: "cat /proc/sys/kernel/hostname"))  # fmt: skip


# -- SMART ----------------------------------------------------------------------------------
def _smart(s: Sortie, _ctx: Contexte):
    c = CATALOGUE_LOCAL["smart"]
    t = s.texte
    if "@absent" in t:
        return c.resultat(Niveau.INCONNU, "smartctl absent (paquet smartmontools non installé)")
    disques: dict[str, str] = {}
    courant = None
    for ligne in t.splitlines():
        if ligne.startswith("@disque "):
            courant = ligne.split()[1]
            disques[courant] = "?"
        elif courant and ("overall-health" in ligne or "SMART Health Status" in ligne):
            disques[courant] = ligne.rsplit(":", 1)[1].strip()
    if not disques:
        return c.resultat(Niveau.INCONNU, "aucun disque ne rapporte SMART (machine virtuelle ou conteneur ?)")
    mauvais = [d for d, e in disques.items() if e not in ("PASSED", "OK", "?")]
    inconnus = [d for d, e in disques.items() if e == "?"]
    if mauvais:
        return c.resultat(
            Niveau.CRITIQUE, f"SMART signale une défaillance : {', '.join(mauvais)} — disque à remplacer"
        )
    if len(inconnus) == len(disques):
        return c.resultat(Niveau.INCONNU, f"SMART illisible sur {', '.join(inconnus)} (droits sudo ?)")
    return c.resultat(Niveau.OK, f"SMART correct : {', '.join(d for d in disques if d not in inconnus)}")


_d(Controle("smart", "Santé des disques (SMART)", _smart, script=lambda _c: (
    "if ! command -v smartctl >/dev/null; then echo @absent; else "
    "for d in $(sudo -n smartctl --scan 2>/dev/null | cut -d' ' -f1); do echo \"@disque $d\";"
    " sudo -n smartctl -H \"$d\" 2>&1 | grep -E 'overall-health|Health Status'; done; fi"
)))  # fmt: skip


# -- battery --------------------------------------------------------------------------------
def _batterie(s: Sortie, ctx: Contexte):
    c = CATALOGUE_LOCAL["batterie"]
    sante = []
    for ligne in s.texte.splitlines():
        champs = ligne.split()
        if len(champs) == 3 and champs[1].isdigit() and champs[2].isdigit() and int(champs[2]) > 0:
            sante.append((champs[0], 100.0 * int(champs[1]) / int(champs[2])))
    if not sante:
        return c.resultat(Niveau.INCONNU, "le système n'expose pas de batterie (/sys/class/power_supply)")
    nom, pct = min(sante, key=lambda x: x[1])
    mini = ctx.politique.seuils.batterie_sante_min_pct
    if pct < mini:
        return c.resultat(Niveau.ATTENTION, f"batterie {nom} usée : {pct:.0f} % de sa capacité d'origine (minimum {mini} %)",
                          f"{pct:.0f} %", sante_pct=round(pct, 1))  # fmt: skip
    return c.resultat(Niveau.OK, f"batterie {nom} : {pct:.0f} % de sa capacité d'origine", f"{pct:.0f} %",
                      sante_pct=round(pct, 1))  # fmt: skip


_d(Controle("batterie", "Santé de la batterie", _batterie, s_applique=lambda c: c.portable, script=lambda _c: (
    "for b in /sys/class/power_supply/BAT*; do [ -d \"$b\" ] || continue;"
    " if [ -r \"$b/energy_full\" ]; then echo \"${b##*/} $(cat $b/energy_full) $(cat $b/energy_full_design)\";"
    " elif [ -r \"$b/charge_full\" ]; then echo \"${b##*/} $(cat $b/charge_full) $(cat $b/charge_full_design)\"; fi; done"
)))  # fmt: skip
