"""Security checks: pending security updates, antivirus daemon and signatures, proxy and filtering."""

from __future__ import annotations

import re

from ardoise.inventaire.types import ModeProxy
from ardoise.maintenance.catalogue import Controle, Sortie, declarer
from ardoise.maintenance.cibles import Contexte
from ardoise.resultats.forme import Niveau

_C: dict[str, Controle] = {}


def _d(c: Controle) -> Controle:
    _C[c.nom] = declarer(c)
    return c


# -- security updates -----------------------------------------------------------------------
# `apt-get -s upgrade` costs seconds of CPU: the device keeps its last answer keyed on the mtimes of the
# package lists and of dpkg's status, so it is recomputed only when either changed (an `apt update`, an
# install). The lock serialises concurrent sweeps.
SCRIPT_MAJ = r"""f=/var/tmp/ardoise-maj-$(id -u)
cle=$(stat -c %Y /var/lib/apt/lists /var/lib/dpkg/status 2>/dev/null | tr '\n' .)
if ! command -v apt-get >/dev/null; then echo @absent; else
exec 9>"$f.verrou"; flock -w 60 9
if [ "$(head -n1 "$f" 2>/dev/null)" != "$cle" ]; then
 { echo "$cle"; LC_ALL=C apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null | grep '^Inst '; } > "$f.$$" && mv "$f.$$" "$f"
fi
tail -n +2 "$f"; exec 9>&-; fi"""


def _mises_a_jour(s: Sortie, ctx: Contexte):
    c = _C["mises_a_jour"]
    if "@absent" in s.texte:
        return c.resultat(Niveau.INCONNU, "apt-get absent : système non Debian ?")
    lignes = [ligne for ligne in s.texte.splitlines() if ligne.startswith("Inst ")]
    securite = [ligne.split()[1] for ligne in lignes if "securi" in ligne.lower()]
    maxi = ctx.politique.seuils.mises_a_jour_securite_max
    mesures = {"securite": len(securite), "toutes": len(lignes)}
    if len(securite) > maxi:
        liste = ", ".join(securite[:8]) + ("…" if len(securite) > 8 else "")
        return c.resultat(Niveau.ATTENTION, f"{len(securite)} mise(s) à jour de sécurité en attente (maximum {maxi}) : {liste}",
                          str(len(securite)), **mesures)  # fmt: skip
    return c.resultat(Niveau.OK, f"aucune mise à jour de sécurité en attente ({len(lignes)} autre(s))",
                      str(len(securite)), **mesures)  # fmt: skip


_d(
    Controle(
        "mises_a_jour", "Mises à jour de sécurité en attente", _mises_a_jour, script=lambda _c: SCRIPT_MAJ
    )
)


# -- antivirus ------------------------------------------------------------------------------
SCRIPT_CLAMAV = r"""echo "etat $(systemctl is-active clamav-daemon.service 2>/dev/null)"
echo "maintenant $(date +%s)"
[ -d /var/lib/clamav ] && find /var/lib/clamav -maxdepth 1 -type f \( -name '*.cvd' -o -name '*.cld' -o -name '*.hdb' -o -name '*.hsb' -o -name '*.ndb' -o -name '*.ldb' \) -printf 'signature %T@ %f\n'
true"""


def _antivirus(s: Sortie, ctx: Contexte):
    c = _C["antivirus"]
    av = ctx.politique.antivirus
    if av.moteur != "clamav":
        return c.resultat(
            Niveau.INCONNU, f"moteur antivirus « {av.moteur} » : vérification non prise en charge"
        )
    etat, maintenant, signatures = "", None, []
    for ligne in s.texte.splitlines():
        champs = ligne.split()
        if champs[:1] == ["etat"]:
            etat = champs[1] if len(champs) > 1 else ""
        elif champs[:1] == ["maintenant"]:
            maintenant = float(champs[1])
        elif champs[:1] == ["signature"] and len(champs) >= 3:
            signatures.append((float(champs[1]), champs[2]))
    if etat != "active":
        raison = (
            "n'est pas installé"
            if etat in ("", "inactive", "unknown") and not signatures
            else f"est arrêté ({etat or 'inconnu'})"
        )
        return c.resultat(Niveau.CRITIQUE, f"l'antivirus ClamAV (clamav-daemon) {raison}", etat or "absent")
    if not signatures or maintenant is None:
        return c.resultat(
            Niveau.CRITIQUE, "ClamAV tourne sans base de signatures (/var/lib/clamav)", "sans signatures"
        )
    recente, fichier = max(signatures)
    age = (maintenant - recente) / 86400
    maxi = min(ctx.politique.seuils.signatures_age_max_jours, av.age_max_signatures_jours)
    texte = f"ClamAV actif ; signatures du {age:.1f} jour(s) ({fichier})"
    if age > 2 * maxi:
        return c.resultat(Niveau.CRITIQUE, f"signatures ClamAV périmées : {age:.0f} jours (maximum {maxi}) ; vérifier freshclam et le miroir {av.miroir_signatures}",
                          f"{age:.1f} j", age_signatures_j=round(age, 2))  # fmt: skip
    if age > maxi:
        return c.resultat(Niveau.ATTENTION, f"signatures ClamAV anciennes : {age:.0f} jours (maximum {maxi})",
                          f"{age:.1f} j", age_signatures_j=round(age, 2))  # fmt: skip
    return c.resultat(Niveau.OK, texte, f"{age:.1f} j", age_signatures_j=round(age, 2))


_d(Controle("antivirus", "Antivirus actif et signatures à jour", _antivirus, script=lambda _c: SCRIPT_CLAMAV))


# -- proxy ----------------------------------------------------------------------------------
# Marks of a filter's block page (e2guardian answers 200). Not « bloqu… »: a test site may be titled « à bloquer ».
# The one list: the audit and the workshop use it too.
MARQUES_BLOCAGE = (
    "access denied",
    "accès refusé",
    "acces refuse",
    "accès interdit",
    "acces interdit",
    "blocked site",
    "e2guardian",
    "squidguard",
)


def page_bloquee(code_http: int | None, contenu: str) -> bool:
    """A filter's refusal: a redirect/forbidden status, or a 200 block page carrying a filter's mark."""
    return code_http in (403, 302, 303, 307, 451) or any(m in contenu.lower() for m in MARQUES_BLOCAGE)


def _attendu(ctx: Contexte) -> str | None:
    p = ctx.politique.proxy
    if p.mode in (ModeProxy.local, ModeProxy.academique):
        return f"http://{p.adresse}:{p.port}"
    return None


def _script_proxy(ctx: Contexte) -> str:
    lire = "grep -h -i -E '^[[:space:]]*(export[[:space:]]+)?(http|https)_proxy=' /etc/environment /etc/profile.d/*proxy* 2>/dev/null; true"
    p = ctx.politique.proxy
    if _attendu(ctx) is None or ctx.domaine_bloque is None:
        return lire
    dom = ctx.domaine_bloque[1]
    requete = f"GET http://{dom}/ HTTP/1.0\\r\\nHost: {dom}\\r\\nUser-Agent: ardoise-maintenance\\r\\n\\r\\n"
    return (
        f"{lire}\necho @essai\n"
        f"timeout 6 bash -c 'exec 3<>/dev/tcp/{p.adresse}/{p.port} && printf \"{requete}\" >&3 && head -c 4000 <&3' 2>&1"
        '\necho "@code $?"'
    )


def _proxy(s: Sortie, ctx: Contexte):
    c = _C["proxy"]
    p = ctx.politique.proxy
    attendu = _attendu(ctx)
    if p.mode is ModeProxy.dns:
        return c.resultat(Niveau.OK, "filtrage par DNS : aucun réglage de proxy attendu sur le poste")
    if attendu is None:
        return c.resultat(
            Niveau.INCONNU,
            f"mode de proxy « {p.mode.value} » : vérification du fichier PAC non prise en charge",
        )
    config, _, essai = s.texte.partition("@essai")
    reglages = {}
    for ligne in config.splitlines():
        m = re.match(r"\s*(?:export\s+)?(\w+)=[\"']?([^\"'\s]*)", ligne)
        if m:
            reglages[m.group(1).lower()] = m.group(2).rstrip("/")
    http = reglages.get("http_proxy")
    if not http:
        return c.resultat(
            Niveau.CRITIQUE,
            f"aucun proxy configuré sur le poste (/etc/environment) ; attendu {attendu}",
            "absent",
        )
    if http != attendu:
        return c.resultat(Niveau.CRITIQUE, f"proxy configuré {http}, le manifeste demande {attendu}", http)
    if ctx.domaine_bloque is None:
        return c.resultat(
            Niveau.OK, f"proxy conforme ({http}) ; pas de domaine de test pour les catégories bloquées", http
        )
    categorie, domaine = ctx.domaine_bloque
    m = re.search(r"@code (\d+)", essai)
    code = int(m.group(1)) if m else None
    reponse = essai.split("@code")[0]
    statut = re.search(r"HTTP/1\.[01] (\d{3})", reponse)
    if not statut:
        raison = "délai dépassé" if code == 124 else "connexion refusée ou impossible"
        return c.resultat(Niveau.CRITIQUE, f"proxy {attendu} injoignable depuis le poste ({raison})", http)
    code_http = int(statut.group(1))
    if not page_bloquee(code_http, reponse):
        return c.resultat(
            Niveau.CRITIQUE,
            f"filtrage inopérant : {domaine} (catégorie {categorie}) passe par le proxy (HTTP {code_http})",
            http,
        )
    return c.resultat(
        Niveau.OK, f"proxy conforme ({http}) ; {domaine} (catégorie {categorie}) bien refusé", http
    )


_d(Controle("proxy", "Proxy conforme et filtrage actif", _proxy, script=_script_proxy))
