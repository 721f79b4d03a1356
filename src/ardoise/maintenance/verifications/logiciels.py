"""The apps of the device's effective profile are installed (Debian packages, Flatpak refs)."""

from __future__ import annotations

import shlex

from ardoise.maintenance.catalogue import Controle, Sortie, declarer
from ardoise.maintenance.cibles import Contexte
from ardoise.resultats.forme import Niveau


def _script(ctx: Contexte) -> str:
    paquets = [a.paquet for a in ctx.applications if not a.flatpak]
    lignes = ["echo @deb"]
    if paquets:
        lignes.append(
            "dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' "
            + " ".join(shlex.quote(p) for p in paquets)
            + " 2>/dev/null"
        )
    if any(a.flatpak for a in ctx.applications):
        lignes += [
            "echo @flatpak",
            "flatpak list --app --columns=application 2>/dev/null || echo @sans-flatpak",
        ]
    return "\n".join(lignes) + "\ntrue"


def _traiter(s: Sortie, ctx: Contexte):
    c = APPLICATIONS
    if not ctx.applications:
        return c.resultat(Niveau.OK, "aucune application attendue pour ce profil", "0")
    deb_part, _, flat_part = s.texte.partition("@flatpak")
    installes = {
        champs[1]
        for ligne in deb_part.splitlines()
        if len(champs := ligne.split()) == 2 and champs[0].startswith("ii")
    }
    flatpaks = {ligne.strip() for ligne in flat_part.splitlines() if ligne.strip()}
    manquantes = [
        a.nom
        for a in ctx.applications
        if (a.paquet not in flatpaks if a.flatpak else a.paquet not in installes)
    ]
    n = len(ctx.applications)
    if manquantes:
        return c.resultat(Niveau.ATTENTION, f"{len(manquantes)}/{n} application(s) du profil absente(s) : {', '.join(manquantes)}",
                          f"{n - len(manquantes)}/{n}", manquantes=len(manquantes))  # fmt: skip
    return c.resultat(Niveau.OK, f"les {n} applications du profil sont installées", f"{n}/{n}", manquantes=0)


APPLICATIONS = declarer(
    Controle("applications", "Applications du profil installées", _traiter, script=_script)
)
