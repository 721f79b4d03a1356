"""The checks catalogue: each check is a small declared object.

A check contributes one shell snippet to the host's batched command (``script``) and turns that
snippet's output into a :class:`~ardoise.resultats.forme.Verification` (``traiter``). Checks with no
snippet run on the controller (store history, reachability). A check never raises: the engine turns
any error of ``traiter`` into INCONNU with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ardoise.erreurs import ErreurUsage
from ardoise.resultats.forme import Niveau, Verification

if TYPE_CHECKING:
    from ardoise.maintenance.cibles import Contexte


@dataclass(frozen=True)
class Sortie:
    """What one snippet printed on the host, with the timing of the command around it."""

    texte: str
    code: int | None  # the snippet's exit code; None when the section is missing
    t_envoi: float = 0.0  # controller clock (epoch s) just before the command was sent
    t_ouvert: float = 0.0  # … once the remote command had started


@dataclass(frozen=True)
class Controle:
    nom: str
    libelle: str
    traiter: Callable[[Sortie, Contexte], Verification]
    script: Callable[[Contexte], str] | None = None  # None: evaluated on the controller
    s_applique: Callable[[Contexte], bool] = field(default=lambda _c: True)
    ssh: bool = True  # needs the host's shell (False: reachability-type checks)

    def resultat(
        self, niveau: Niveau, message: str, valeur: str | None = None, **mesures: float
    ) -> Verification:
        return Verification(self.nom, self.libelle, niveau, message, valeur, dict(mesures))

    def evaluer(self, sortie: Sortie, ctx: Contexte) -> Verification:
        """``traiter`` made total: a missing section or a parsing error is INCONNU, never an exception."""
        if self.script is not None and sortie.code is None:
            return self.resultat(
                Niveau.INCONNU, "aucune sortie pour cette vérification (commande interrompue)"
            )
        try:
            return self.traiter(sortie, ctx)
        except Exception as e:  # noqa: BLE001 - one unreadable output must not stop the sweep
            return self.resultat(Niveau.INCONNU, f"sortie illisible ({type(e).__name__} : {e})")


CATALOGUE: dict[str, Controle] = {}


def declarer(c: Controle) -> Controle:
    if c.nom in CATALOGUE:
        raise ValueError(f"vérification déclarée deux fois : {c.nom}")
    CATALOGUE[c.nom] = c
    return c


def catalogue() -> dict[str, Controle]:
    """Every check, in declaration order (imports the check modules once)."""
    from ardoise.maintenance.verifications import charger

    charger()
    return CATALOGUE


def choisir(noms: list[str] | None) -> list[Controle]:
    """The checks named (``--verifications a,b``), or all; French usage error on an unknown name."""
    tous = catalogue()
    if not noms:
        return list(tous.values())
    inconnus = [n for n in noms if n not in tous]
    if inconnus:
        raise ErreurUsage(
            f"vérification(s) inconnue(s) : {', '.join(inconnus)} ; disponibles : {', '.join(tous)}"
        )
    return [tous[n] for n in noms]


def pire(niveaux: list[Niveau]) -> Niveau:
    """The worst level (CRITIQUE > ATTENTION > INCONNU > OK) for summaries."""
    ordre = [Niveau.CRITIQUE, Niveau.ATTENTION, Niveau.INCONNU, Niveau.OK]
    for n in ordre:
        if n in niveaux:
            return n
    return Niveau.OK
