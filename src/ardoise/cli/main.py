"""Entry point of the ``ardoise`` command."""

from __future__ import annotations

import typer

from ardoise import __version__
from ardoise.cli import atelier, inventaire, labo, maintenance, parc, profils, tablettes, wifi
from ardoise.cli import audit as cli_audit
from ardoise.cli import commune as cli_commune
from ardoise.cli import console as cli_console
from ardoise.cli import echelle as cli_echelle
from ardoise.cli import reseau as cli_reseau

app = typer.Typer(
    name="ardoise",
    help="Ardoise : le manifeste des écoles du territoire, et tout ce qui en découle.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)
app.add_typer(inventaire.app, name="inventaire")
app.add_typer(profils.app, name="profils")
app.add_typer(labo.app, name="labo")
app.add_typer(tablettes.app, name="tablettes")
app.add_typer(maintenance.app, name="maintenance")
app.add_typer(atelier.app, name="atelier")
app.add_typer(parc.app, name="parc")
app.add_typer(cli_reseau.app, name="reseau")
app.add_typer(wifi.app, name="wifi")
app.add_typer(cli_audit.app, name="audit")
app.add_typer(cli_commune.app, name="commune")
app.add_typer(cli_console.app, name="console")
app.add_typer(cli_echelle.app, name="echelle")


def _version(valeur: bool) -> None:
    if valeur:
        typer.echo(f"ardoise {__version__}")
        raise typer.Exit()


@app.callback()
def principal(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Affiche la version."
    ),
) -> None:
    """Ardoise : infrastructure-as-code des écoles (syndicats mixtes, communes)."""


def run() -> None:
    app()
