"""The ONE command a host runs per sweep: every check's snippet in a section between markers.

Each snippet runs in its own subshell with its stderr merged and its exit code recorded, so one failing
snippet cannot hide the others. The output is plain text sections::

    @@ardoise:debut:disque
    …snippet output…
    @@ardoise:fin:disque:0
"""

from __future__ import annotations

import re

from ardoise.maintenance.catalogue import Controle
from ardoise.maintenance.cibles import Contexte

MARQUE = "@@ardoise"
_SECTION = re.compile(rf"^{MARQUE}:debut:(\w+)\n(.*?)^{MARQUE}:fin:\1:(\d+)$", re.S | re.M)
ENTETE = "export LC_ALL=C PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin\n"


def construire(controles: list[Controle], ctx: Contexte) -> str:
    """The batched shell script for one host (bash; ``controles`` in order, remote ones only)."""
    parties = [ENTETE]
    for c in controles:
        if c.script is None:
            continue
        parties.append(
            f"echo {MARQUE}:debut:{c.nom}\n( {c.script(ctx)}\n) 2>&1 </dev/null\necho {MARQUE}:fin:{c.nom}:$?\n"
        )
    return "".join(parties)


def decouper(sortie: str) -> dict[str, tuple[str, int]]:
    """Sections of a host's output: check name → (text, exit code). Missing sections are absent."""
    return {m.group(1): (m.group(2), int(m.group(3))) for m in _SECTION.finditer(sortie)}
