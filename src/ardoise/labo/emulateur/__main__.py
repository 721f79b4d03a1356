"""Command line: ``python -m ardoise.labo.emulateur --config SW.json [--config SW2.json …]``.

Starts one emulated switch per ``--config`` file in this process (one Twisted reactor), prints
``PRET`` on stdout once every switch listens, and stops cleanly on SIGTERM or SIGINT (exit code 0).
Errors go to stderr, in French; the password is never written anywhere.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ardoise.labo.emulateur.configuration import ConfigurationInvalide, charger


def _journalisation() -> None:
    """Warnings and errors to stderr; fake-switches' debug log (which echoes input) stays off."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s : %(message)s")
    from twisted.logger import (
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        globalLogBeginner,
        textFileLogObserver,
    )

    filtre = LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(textFileLogObserver(sys.stderr), [filtre])], redirectStandardIO=False
    )


def main(argv: list[str] | None = None) -> int:
    parseur = argparse.ArgumentParser(
        prog="python -m ardoise.labo.emulateur", description="Émulateurs de commutateurs du labo Ardoise."
    )
    parseur.add_argument(
        "--config",
        action="append",
        required=True,
        type=Path,
        help="fichier JSON d'un commutateur (répétable)",
    )
    arguments = parseur.parse_args(argv)
    try:
        configs = [charger(chemin) for chemin in arguments.config]
    except ConfigurationInvalide as erreur:
        print(f"configuration invalide : {erreur}", file=sys.stderr)
        return 2

    _journalisation()
    from twisted.internet import reactor
    from twisted.internet.error import CannotListenError

    from ardoise.labo.emulateur.commutateur import Commutateur

    commutateurs = [Commutateur(config) for config in configs]
    try:
        for commutateur in commutateurs:
            commutateur.demarrer()
    except CannotListenError as erreur:
        print(
            f"écoute impossible sur {erreur.interface}:{erreur.port} : {erreur.socketError}", file=sys.stderr
        )
        return 3

    def _arret() -> None:
        for commutateur in commutateurs:
            commutateur.arreter()

    reactor.addSystemEventTrigger("before", "shutdown", _arret)
    reactor.callWhenRunning(lambda: print("PRET", flush=True))
    reactor.run()  # installs SIGTERM/SIGINT handlers that stop the reactor
    return 0


if __name__ == "__main__":
    sys.exit(main())
