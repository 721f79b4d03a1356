"""Nagios/Centreon plugin contract over the latest maintenance results of one school.

Reads the store (the sweep itself is scheduled: a plugin must answer in seconds). Contract: exit code
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; ONE line ``ARDOISE <STATUS> - <text> | <perfdata>`` where the
status word is the protocol's (English), the text French, the perfdata ``'label'=value[UOM];warn;crit;min;max``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ardoise.erreurs import ArdoiseErreur

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
MOTS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


def _ligne(code: int, texte: str, perf: dict[str, str] | None = None) -> tuple[str, int]:
    texte = texte.replace("|", "/").replace("\n", " ")
    perfdata = " ".join(f"'{k}'={v}" for k, v in (perf or {}).items())
    return f"ARDOISE {MOTS[code]} - {texte}" + (f" | {perfdata}" if perfdata else ""), code


def verifier(uai: str, base: str | None, inventaire: Path | None, age_max_h: float = 26) -> tuple[str, int]:
    """(status line, exit code) for school ``uai``; never raises (any error is UNKNOWN)."""
    try:
        return _verifier(uai, base, inventaire, age_max_h)
    except ArdoiseErreur as e:
        return _ligne(UNKNOWN, str(e))
    except Exception as e:  # noqa: BLE001 - the contract wants UNKNOWN, not a traceback
        return _ligne(UNKNOWN, f"erreur interne ({type(e).__name__} : {e})")


def _verifier(uai: str, base: str | None, inventaire: Path | None, age_max_h: float) -> tuple[str, int]:
    from ardoise.inventaire.cache import charger_avec_cache
    from ardoise.maintenance.historique import derniers_etats, lignes
    from ardoise.resultats.magasin import Magasin

    t = charger_avec_cache(inventaire)
    ecole = t.ecole(uai)
    tout = lignes(Magasin(base), uai=[ecole.uai])
    if not tout:
        return _ligne(UNKNOWN, f"{ecole.uai} : aucune maintenance enregistrée")
    dernier_run = max(lg.execution_id for lg in tout)
    etats = derniers_etats([lg for lg in tout if lg.execution_id == dernier_run])
    age_h = (dt.datetime.now(dt.UTC) - max(lg.horodatage for lg in etats.values())).total_seconds() / 3600
    critiques, attentions, injoignables = [], [], []
    for hote, lg in sorted(etats.items()):
        if lg.statut != "ok":
            injoignables.append(hote)
            continue
        mauvais_c = [v["nom"] for v in lg.verifications if v["niveau"] == "CRITIQUE"]
        mauvais_a = [v["nom"] for v in lg.verifications if v["niveau"] == "ATTENTION"]
        if mauvais_c:
            critiques.append(f"{hote} ({', '.join(mauvais_c)})")
        elif mauvais_a:
            attentions.append(f"{hote} ({', '.join(mauvais_a)})")
    n = len(etats)
    ok = n - len(critiques) - len(attentions) - len(injoignables)
    perf = {
        "appareils": f"{n};;;0", "ok": f"{ok};;;0;{n}", "attention": f"{len(attentions)};1;;0;{n}",
        "critique": f"{len(critiques)};;1;0;{n}", "injoignables": f"{len(injoignables)};;1;0;{n}",
        "age": f"{age_h * 3600:.0f}s;;{age_max_h * 3600:.0f};0",
    }  # fmt: skip
    if age_h > age_max_h:
        return _ligne(
            UNKNOWN,
            f"{ecole.uai} : dernière maintenance il y a {age_h:.0f} h (maximum {age_max_h:g} h)",
            perf,
        )
    parties = []
    if critiques:
        parties.append(f"critique : {', '.join(critiques)}")
    if injoignables:
        parties.append(f"injoignable(s) : {', '.join(injoignables)}")
    if attentions:
        parties.append(f"attention : {', '.join(attentions)}")
    code = CRITICAL if critiques or injoignables else WARNING if attentions else OK
    texte = f"{ecole.uai} {ecole.nom} : {ok}/{n} appareil(s) correct(s)" + (
        " ; " + " ; ".join(parties) if parties else ""
    )
    return _ligne(code, texte, perf)
