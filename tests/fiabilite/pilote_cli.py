"""Run a sequence of ``ardoise`` commands in ONE fresh Python process (the reliability tests' driver).

``python -m tests.fiabilite.pilote_cli ETAPES.json`` reads a list of steps and prints, as JSON, one result per
command step: ``{"commande", "code", "stdout", "stderr"}``. A step is ``{"args": [...], "env": {...}}`` (an
``ardoise`` command run through Typer's runner, the same code as the installed script, with ``env`` added to the
environment) or ``{"controle": FILE, "lignes": [...]}`` (an instruction to a switch emulator between commands).

It saves the interpreter start and imports of each command (seconds each on a loaded machine) while keeping each
command as blind as a process of its own: the registry of known secret values that
:func:`ardoise.secrets.masquer` uses is emptied before every command, so a command only masks what it revealed
itself — exactly as when it runs alone.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def main() -> None:
    from typer.testing import CliRunner

    import ardoise.secrets
    from ardoise.cli.main import app
    from ardoise.labo.emulateur.controle import envoyer_instruction

    etapes = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    runner = CliRunner()
    resultats = []
    for etape in etapes:
        if "controle" in etape:
            envoyer_instruction(Path(etape["controle"]), *etape["lignes"])
            continue
        with ardoise.secrets._verrou:
            ardoise.secrets._connus.clear()
        r = runner.invoke(app, etape["args"], env=etape.get("env") or {}, catch_exceptions=True)
        stderr = r.stderr
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            stderr += "".join(traceback.format_exception(r.exception))  # shown as a traceback: the test fails
        resultats.append({"commande": " ".join(["ardoise", *etape["args"]]), "code": r.exit_code,
                          "stdout": r.stdout, "stderr": stderr})  # fmt: skip
    sys.stdout.write(json.dumps(resultats, ensure_ascii=False))


if __name__ == "__main__":
    main()
