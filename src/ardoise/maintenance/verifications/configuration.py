"""The PC configures itself: the last ansible-pull run (``/var/lib/ardoise/pull/resultat.json``, role ardoise_pull).

The result comes back through the sweep rather than a listening endpoint: the sweep already reaches every PC
over SSH, and a PC then needs no credential to write into the results store (see ARCHITECTURE.md « Échelle »).
"""

from __future__ import annotations

import datetime as dt
import json

from ardoise.maintenance.catalogue import Controle, Sortie, declarer
from ardoise.maintenance.cibles import Contexte
from ardoise.resultats.forme import Niveau
from ardoise.secrets import masquer

RESULTAT = "/var/lib/ardoise/pull/resultat.json"
AGE_MAX_JOURS = 8  # maintenance windows come back every week


def _script(_ctx: Contexte) -> str:
    return f"if [ -r {RESULTAT} ]; then cat {RESULTAT}; else echo @absent; fi"


def _traiter(s: Sortie, ctx: Contexte):
    c = PULL
    if s.texte.strip() == "@absent":
        return c.resultat(
            Niveau.ATTENTION,
            "ansible-pull n'a encore jamais tourné sur ce poste (rôle ardoise_pull absent ou aucune fenêtre passée)",
        )
    r = json.loads(s.texte)
    fin = dt.datetime.fromisoformat(r["fin"])
    age = (ctx.maintenant - fin).total_seconds() / 86400
    quand = fin.astimezone().strftime("%d/%m/%Y %H:%M")
    mesures = {"changements": float(r.get("changements", 0)), "duree_s": float(r.get("duree_s", 0)),
               "echecs": float(len(r.get("echecs") or []))}  # fmt: skip
    if not r.get("succes"):
        echecs = r.get("echecs") or []
        detail = " ; ".join(
            f"{e.get('role') + ' : ' if e.get('role') else ''}{e.get('tache') or '?'} — {e.get('message') or ''}"
            for e in echecs[:3]
        )
        return c.resultat(Niveau.CRITIQUE, masquer(f"dernière exécution d'ansible-pull en échec ({quand}) : {detail}"),
                          "échec", **mesures)  # fmt: skip
    message = (f"dernière exécution réussie le {quand} en {r.get('duree_s', 0):.0f} s, "
               f"{r.get('changements', 0)} changement(s), révision {str(r.get('revision') or '?')[:10]}")  # fmt: skip
    if age > AGE_MAX_JOURS:
        return c.resultat(Niveau.ATTENTION, f"{message} : il y a {age:.0f} jours, le poste ne se met plus à jour",
                          "ancienne", **mesures)  # fmt: skip
    return c.resultat(Niveau.OK, message, "réussie", **mesures)


PULL = declarer(
    Controle(
        "pull",
        "Configuration par ansible-pull",
        _traiter,
        script=_script,
        s_applique=lambda ctx: ctx.type == "pc" and ctx.politique.depot_pull is not None,
    )
)
