"""What every command shares: global options, output formats, errors → French messages and exit codes.

Data goes to stdout (table, JSON or CSV); progress and messages go to stderr.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ardoise.erreurs import ArdoiseErreur, ErreurManifeste
from ardoise.secrets import masquer

# stdout: data (tables keep a readable width when piped); stderr: progress and messages, never wrapped
console = Console(width=None if sys.stdout.isatty() else 200)
console_err = Console(stderr=True, soft_wrap=True)

CODE_OK, CODE_PROBLEMES, CODE_USAGE = 0, 1, 2


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


OptInventaire = Annotated[
    Path | None,
    typer.Option(
        "--inventaire",
        envvar="ARDOISE_INVENTAIRE",
        help="Dossier de l'inventaire (défaut : inventaire/).",
        show_default=False,
    ),
]
OptFormat = Annotated[
    Format | None,
    typer.Option("--format", help="Sortie : table (terminal), json ou csv.", show_default=False),
]
OptVerbeux = Annotated[int, typer.Option("-v", "--verbeux", count=True, help="Plus de détails sur stderr.")]
OptSilencieux = Annotated[bool, typer.Option("-q", "--silencieux", help="Seulement les erreurs sur stderr.")]
OptCommune = Annotated[
    list[str] | None, typer.Option("--commune", help="Commune (identifiant ou code INSEE).")
]
OptEcole = Annotated[list[str] | None, typer.Option("--ecole", help="École (UAI).")]
OptBase = Annotated[
    str | None,
    typer.Option("--base", envvar="ARDOISE_BASE", help="Base de résultats (URL SQLAlchemy ; défaut : fichier SQLite).",
                 show_default=False),
]  # fmt: skip


def configurer_journal(verbeux: int = 0, silencieux: bool = False) -> None:
    """Logging to stderr; only the CLI configures logging."""
    niveau = logging.ERROR if silencieux else (logging.DEBUG if verbeux else logging.INFO)
    racine = logging.getLogger()
    for h in list(racine.handlers):
        racine.removeHandler(h)
    gestionnaire = logging.StreamHandler(sys.stderr)
    gestionnaire.setFormatter(
        _FormatMasque("%(levelname)s %(name)s : %(message)s" if verbeux else "%(message)s")
    )
    racine.addHandler(gestionnaire)
    racine.setLevel(niveau)
    for bruyant in (
        "paramiko",
        "asyncio",
        "urllib3",
        "alembic",
        "asyncssh",
        "netmiko",
        "weasyprint",
        "fontTools",
    ):
        logging.getLogger(bruyant).setLevel(logging.WARNING)


class _FormatMasque(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return masquer(super().format(record))


def format_effectif(fmt: Format | None) -> Format:
    """Tables on a terminal, JSON otherwise (stable, documented in README)."""
    if fmt is not None:
        return fmt
    return Format.table if sys.stdout.isatty() else Format.json


def afficher(
    lignes: list[dict[str, Any]],
    fmt: Format | None,
    colonnes: list[str] | None = None,
    titre: str | None = None,
    donnees_json: Any = None,
) -> None:
    """Print rows as a Rich table, JSON (``donnees_json`` if given) or CSV (``;``-separated)."""
    fmt = format_effectif(fmt)
    colonnes = colonnes or (list(lignes[0]) if lignes else [])
    if fmt is Format.json:
        sys.stdout.write(
            json.dumps(
                donnees_json if donnees_json is not None else lignes,
                ensure_ascii=False,
                indent=2,
                default=str,
            )
            + "\n"
        )
    elif fmt is Format.csv:
        sortie = io.StringIO()
        w = csv.DictWriter(
            sortie, fieldnames=colonnes, delimiter=";", lineterminator="\n", extrasaction="ignore"
        )
        w.writeheader()
        for ligne in lignes:
            w.writerow({k: _cellule(ligne.get(k)) for k in colonnes})
        sys.stdout.write(sortie.getvalue())
    else:
        table = Table(title=titre, show_lines=False)
        for c in colonnes:
            table.add_column(c)
        for ligne in lignes:
            table.add_row(*(_cellule(ligne.get(c)) for c in colonnes))
        console.print(table)


def _cellule(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    return str(v)


F = TypeVar("F", bound=Callable[..., Any])


def commande(fonction: F) -> F:
    """Run a command body: French messages on stderr and exit codes instead of tracebacks."""

    @wraps(fonction)
    def enveloppe(*args: Any, **kwargs: Any) -> Any:
        configurer_journal(kwargs.get("verbeux", 0) or 0, bool(kwargs.get("silencieux", False)))
        try:
            return fonction(*args, **kwargs)
        except typer.Exit:
            raise
        except ErreurManifeste as e:
            afficher_problemes(e.problemes, None, vers_stderr=True)
            console_err.print(
                f"[red]erreur[/red] : {e} ; corrigez-le puis relancez (ardoise inventaire valider)"
            )
            raise typer.Exit(CODE_PROBLEMES) from None
        except ArdoiseErreur as e:
            console_err.print(f"[red]erreur[/red] : {masquer(str(e))}", highlight=False)
            raise typer.Exit(e.code_sortie) from None
        except KeyboardInterrupt:
            console_err.print("interrompu")
            raise typer.Exit(130) from None
        except Exception as e:  # a bug: say so in French, details only with -v
            logging.getLogger("ardoise").debug("trace", exc_info=True)
            console_err.print(
                f"[red]erreur interne[/red] ({type(e).__name__}) : {masquer(str(e))}\n"
                "c'est un défaut d'Ardoise : relancez avec -v et signalez-le",
                highlight=False,
            )
            raise typer.Exit(3) from None

    return enveloppe  # type: ignore[return-value]


def afficher_problemes(problemes: Iterable, fmt: Format | None, vers_stderr: bool = False) -> None:
    problemes = list(problemes)
    if format_effectif(fmt) is Format.json and not vers_stderr:
        sys.stdout.write(json.dumps([p.en_dict() for p in problemes], ensure_ascii=False, indent=2) + "\n")
        return
    flux = sys.stderr if vers_stderr else sys.stdout
    for p in problemes:
        flux.write(p.texte() + "\n")


def territoire(chemin: Path | None):
    """The validated territory for data commands (served from the load cache when fresh)."""
    from ardoise.inventaire.cache import charger_avec_cache

    return charger_avec_cache(chemin)
