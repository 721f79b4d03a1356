"""The workshop's verification checklist: the maintenance catalogue's checks, plus workshop-only checks.

Workshop-only checks are :class:`~ardoise.maintenance.catalogue.Controle` objects in the catalogue's style
but not declared in it (a maintenance sweep does not run them): the antivirus really detects the EICAR
test file, the ENT opens through the device's own proxy configuration, the versions of the profile's apps.
"""

from __future__ import annotations

import re
import shlex

from ardoise.maintenance.catalogue import Controle, Sortie, catalogue
from ardoise.maintenance.cibles import Contexte
from ardoise.resultats.forme import Niveau

# maintenance checks reused as they are, in checklist order
REPRIS = ("nom_hote", "proxy", "antivirus", "applications", "mises_a_jour", "disque", "horloge")

# Assembled at run time so no antivirus flags Ardoise's own files.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


# -- the antivirus detects the test file ----------------------------------------------------------
def _script_detection(_ctx: Contexte) -> str:
    return (
        'f=$(mktemp /tmp/ardoise-eicar.XXXXXX) && chmod 0644 "$f" && '
        f"printf '%s' {shlex.quote(EICAR)} > \"$f\"\n"
        'timeout 60 clamdscan --no-summary --fdpass "$f"\n'
        'echo "@code $?"; rm -f "$f"'
    )


def _detection(s: Sortie, _ctx: Contexte):
    c = DETECTION
    m = re.search(r"@code (\d+)", s.texte)
    code = int(m.group(1)) if m else None
    trouve = re.search(r":\s*(\S+) FOUND", s.texte)
    if code == 1 and trouve:
        return c.resultat(Niveau.OK, f"fichier de test EICAR détecté ({trouve.group(1)})", trouve.group(1))
    if code == 0:
        return c.resultat(
            Niveau.CRITIQUE,
            "le fichier de test EICAR n'est PAS détecté : base de signatures incomplète",
            "non détecté",
        )
    detail = " ".join(s.texte.split("@code")[0].split())[:200]
    return c.resultat(
        Niveau.CRITIQUE, f"clamd ne répond pas à clamdscan ({detail or 'aucune réponse'})", "sans réponse"
    )


DETECTION = Controle(
    "antivirus_detection", "L'antivirus détecte le fichier de test", _detection, script=_script_detection
)


# -- the ENT opens through the device's configuration ----------------------------------------------
SCRIPT_ENT = r"""set -a; [ -r /etc/environment ] && . /etc/environment; set +a
python3 - %s <<'PY'
import ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the filter's verdict is checked here, not the ENT's certificate
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=15, context=ctx)
    print("@statut", r.status)
    print(r.read(4000).decode("utf-8", "replace"))
except urllib.error.HTTPError as e:
    print("@statut", e.code)
    print(e.read(4000).decode("utf-8", "replace"))
except Exception as e:
    print("@erreur", type(e).__name__, e)
PY"""


def _script_ent(ctx: Contexte) -> str:
    return SCRIPT_ENT % shlex.quote(ctx.politique.ent.url)


def _ent(s: Sortie, ctx: Contexte):
    from ardoise.maintenance.verifications.securite import page_bloquee

    c = ENT
    url = ctx.politique.ent.url
    if "@erreur" in s.texte:
        raison = s.texte.split("@erreur", 1)[1].strip()[:200]
        return c.resultat(
            Niveau.CRITIQUE, f"l'ENT ({url}) ne s'ouvre pas depuis le poste : {raison}", "injoignable"
        )
    m = re.search(r"@statut (\d+)", s.texte)
    if not m:
        return c.resultat(Niveau.INCONNU, "python3 absent ou sortie illisible")
    statut = int(m.group(1))
    if page_bloquee(None, s.texte):  # marks only: the status is judged below
        return c.resultat(Niveau.CRITIQUE, f"l'ENT ({url}) est bloqué par le filtrage de l'école", "bloqué")
    if statut >= 400:
        return c.resultat(Niveau.CRITIQUE, f"l'ENT ({url}) répond HTTP {statut}", f"HTTP {statut}")
    return c.resultat(Niveau.OK, f"l'ENT ({url}) s'ouvre (HTTP {statut})", f"HTTP {statut}")


ENT = Controle("ent", "L'ENT s'ouvre depuis le poste", _ent, script=_script_ent)


# -- versions of the profile's apps ----------------------------------------------------------------
def _script_versions(ctx: Contexte) -> str:
    paquets = [a.paquet for a in ctx.applications if not a.flatpak]
    lignes = []
    if paquets:
        lignes.append(
            "dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' "
            + " ".join(shlex.quote(p) for p in paquets)
            + " 2>/dev/null"
        )
    if any(a.flatpak for a in ctx.applications):
        lignes.append("flatpak list --app --columns=application,version 2>/dev/null | sed 's/^/flatpak /'")
    return "\n".join(lignes + ["true"])


def _versions(s: Sortie, ctx: Contexte):
    c = VERSIONS
    versions: dict[str, str] = {}
    for ligne in s.texte.splitlines():
        champs = ligne.split()
        if len(champs) >= 3 and champs[0] == "flatpak":
            versions[champs[1]] = champs[2]
        elif len(champs) >= 3 and champs[0].startswith("ii"):
            versions[champs[1]] = champs[2]
    lignes = [f"{a.nom} {versions[a.paquet]}" for a in ctx.applications if a.paquet in versions]
    manquantes = [a.nom for a in ctx.applications if a.paquet not in versions]
    valeur = "; ".join(lignes)
    if manquantes:
        return c.resultat(Niveau.ATTENTION, f"version introuvable : {', '.join(manquantes)}", valeur or None)
    return c.resultat(
        Niveau.OK,
        f"{len(lignes)} application(s) : {valeur}" if lignes else "aucune application",
        valeur or None,
    )


VERSIONS = Controle("versions", "Versions des applications installées", _versions, script=_script_versions)


def checklist() -> list[Controle]:
    """The workshop checklist, in the order shown on the delivery sheet."""
    tous = catalogue()
    return [tous[n] for n in REPRIS] + [DETECTION, ENT, VERSIONS]


LIBELLES_COURTS = {
    "joignabilite": "Joignable",
    "nom_hote": "Nom",
    "proxy": "Proxy/filtrage",
    "antivirus": "Antivirus",
    "antivirus_detection": "Détection EICAR",
    "ent": "ENT",
    "applications": "Applications",
    "versions": "Versions",
    "mises_a_jour": "Mises à jour",
    "disque": "Disque",
    "horloge": "Heure",
}
