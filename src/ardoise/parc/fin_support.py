"""OS end of support per model family, from the shipped table ``donnees/fin_support.csv``.

Each row: OS, a regular expression on the model (searched, case-insensitive), the system's name,
the end date, whether the date is published by the vendor or an estimate, the source and a note.
The first matching row wins; an OS without a row (a Windows 11 capable PC, a Debian device that can
take the next release for free) has no hardware end of support.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class FinSupport:
    os: str
    motif: re.Pattern
    systeme: str
    fin: dt.date
    nature: str  # "publiée" or "estimation"
    source: str
    note: str


@cache
def table() -> tuple[FinSupport, ...]:
    texte = resources.files("ardoise.parc").joinpath("donnees/fin_support.csv").read_text(encoding="utf-8")
    lignes = []
    for r in csv.DictReader(texte.splitlines(), delimiter=";"):
        lignes.append(FinSupport(r["os"], re.compile(r["motif_modele"], re.IGNORECASE), r["systeme"],
                                 dt.date.fromisoformat(r["fin_support"]), r["nature"], r["source"], r["note"]))  # fmt: skip
    return tuple(lignes)


@cache
def fin_support(os: str | None, modele: str) -> FinSupport | None:
    """The end of support that applies to this OS on this model, if the table knows one."""
    for f in table():
        if f.os == os and f.motif.search(modele):
            return f
    return None
