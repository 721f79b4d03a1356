"""``ardoise echelle …``: scaling out to engines the field already runs (ansible-pull on each PC)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.commun import (
    OptCommune,
    OptEcole,
    OptFormat,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    afficher,
    commande,
    console_err,
    territoire,
)

app = typer.Typer(help="Passer à l'échelle : ansible-pull sur chaque poste.", no_args_is_help=True)


def _variables_labo(depot: Path) -> dict:
    """The running lab's site variables, and the lab git server's URL for ``depot``."""
    from ardoise.atelier.labo import acces
    from ardoise.erreurs import ErreurUsage
    from ardoise.labo.labo import Labo

    etat = Labo().etat()
    a = acces(etat)
    base = Path(etat["acces"].get("depots_git", ""))
    depot = depot.resolve()
    if not etat["acces"].get("depot_git") or base not in (depot, *depot.parents) or depot == base:
        raise ErreurUsage(
            f"avec --labo, publiez dans un dossier de {base} : le serveur git du labo ne sert que celui-là"
        )
    return {
        **a.variables,
        "ardoise_pull_depot": etat["acces"]["depot_git"] + depot.relative_to(base).as_posix(),
    }


@app.command("publier")
@commande
def publier(
    vers: Annotated[
        Path, typer.Option("--vers", help="Dépôt git (dossier de travail) à écrire ; créé s'il n'existe pas.")
    ],
    labo: Annotated[
        bool, typer.Option("--labo", help="Pour le laboratoire démarré : son serveur git, son relais APT.")
    ] = False,
    commune: OptCommune = None,
    ecole: OptEcole = None,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Écrit et commite ce dont chaque PC a besoin pour se configurer lui-même (playbooks, rôles, inventaire du poste)."""
    from ardoise.atelier.ansible import racine_projet
    from ardoise.echelle.publication import publier as publier_depot
    from ardoise.inventaire.selection import Selection

    t = territoire(inventaire)
    variables = _variables_labo(vers) if labo else None
    sel = Selection(communes=tuple(commune or ()), ecoles=tuple(ecole or ()))
    p = publier_depot(t, vers, racine_projet(), sel, variables)
    if not silencieux:
        if p.commit:
            console_err.print(
                f"dépôt {p.depot} : commit {p.commit[:10]} ({len(p.fichiers_modifies)} fichier(s))"
            )
        else:
            console_err.print(f"dépôt {p.depot} déjà à jour : aucun commit")
    afficher([{"depot": str(p.depot), "postes": len(p.postes), "commit": p.commit,
               "fichiers_modifies": len(p.fichiers_modifies)}], format)  # fmt: skip
