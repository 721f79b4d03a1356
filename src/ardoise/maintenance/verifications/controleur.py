"""Checks evaluated on the controller: the last successful run (from the store), reachability."""

from __future__ import annotations

import datetime as dt

from ardoise.maintenance.catalogue import Controle, Sortie, declarer
from ardoise.maintenance.cibles import Contexte
from ardoise.resultats.forme import Niveau

# No policy field for it: a device that has not had a successful pass for this long needs a look.
DERNIER_PASSAGE_MAX_JOURS = 35


def _dernier_passage(_s: Sortie, ctx: Contexte):
    c = DERNIER_PASSAGE
    if ctx.derniere_reussite is None:
        return c.resultat(
            Niveau.INCONNU, "aucun passage réussi (atelier ou maintenance) enregistré", "jamais"
        )
    quand = ctx.derniere_reussite
    if quand.tzinfo is None:
        quand = quand.replace(tzinfo=dt.UTC)
    jours = (ctx.maintenant - quand).total_seconds() / 86400
    date = quand.astimezone().strftime("%d/%m/%Y")
    court = quand.astimezone().strftime("%d/%m")
    if jours > DERNIER_PASSAGE_MAX_JOURS:
        return c.resultat(Niveau.ATTENTION, f"dernier passage réussi le {date}, il y a {jours:.0f} jours (maximum {DERNIER_PASSAGE_MAX_JOURS})",
                          court, jours=round(jours, 2))  # fmt: skip
    return c.resultat(Niveau.OK, f"dernier passage réussi le {date}", court, jours=round(jours, 2))


DERNIER_PASSAGE = declarer(
    Controle("dernier_passage", "Dernier passage réussi (atelier ou maintenance)", _dernier_passage)
)


def _joignabilite(s: Sortie, _ctx: Contexte):
    """``s.texte`` is ``"ok <ms>"`` or ``"echec <raison>"`` from the engine's TCP probe."""
    c = JOIGNABILITE
    etat, _, reste = s.texte.partition(" ")
    if etat == "ok":
        ms = float(reste)
        niveau = Niveau.ATTENTION if ms > 500 else Niveau.OK
        return c.resultat(niveau, f"répond en {ms:.0f} ms", f"{ms:.0f} ms", reponse_ms=round(ms, 1))
    return c.resultat(Niveau.CRITIQUE, f"ne répond pas ({reste})", "injoignable")


JOIGNABILITE = declarer(
    Controle("joignabilite", "Joignable sur le réseau de l'école", _joignabilite, ssh=False)
)
