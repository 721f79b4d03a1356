"""One filter mechanism for every command: ``--commune``, ``--ecole``, ``--type``, ``--etat``, names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.territoire import EcoleChargee, Equipement, Territoire
from ardoise.inventaire.types import Etat, TypeEquipement


@dataclass(frozen=True)
class Selection:
    """What a command works on; empty fields select everything."""

    communes: tuple[str, ...] = ()
    ecoles: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    etats: tuple[str, ...] = ()
    noms: tuple[str, ...] = ()

    def verifier(self, t: Territoire) -> Selection:
        """Resolve names against the territory (French usage errors for unknown ones)."""
        communes = tuple(t.commune(c).id for c in self.communes)
        ecoles = tuple(t.ecole(u).uai for u in self.ecoles)
        for ty in self.types:
            if ty not in TypeEquipement.__members__:
                raise ErreurUsage(f"type « {ty} » inconnu ; types : {', '.join(TypeEquipement.__members__)}")
        for et in self.etats:
            if et not in Etat.__members__:
                raise ErreurUsage(f"état « {et} » inconnu ; états : {', '.join(Etat.__members__)}")
        if self.noms:
            connus = {e.nom for e in t.equipements()}
            inconnus = [n for n in self.noms if n not in connus]
            if inconnus:
                raise ErreurUsage(f"appareil(s) inconnu(s) : {', '.join(inconnus)}")
        return Selection(communes, ecoles, self.types, self.etats, self.noms)

    def ecoles_de(self, t: Territoire) -> Iterator[EcoleChargee]:
        for e in t.ecoles:
            if self.communes and e.commune not in self.communes:
                continue
            if self.ecoles and e.uai not in self.ecoles:
                continue
            yield e

    def filtrer(self, equipements: Iterable[Equipement]) -> Iterator[Equipement]:
        for e in equipements:
            if self.communes and e.commune not in self.communes:
                continue
            if self.ecoles and e.uai not in self.ecoles:
                continue
            if self.types and e.type.value not in self.types:
                continue
            if self.etats and e.etat.value not in self.etats:
                continue
            if self.noms and e.nom not in self.noms:
                continue
            yield e

    def equipements(self, t: Territoire) -> list[Equipement]:
        from ardoise.inventaire.territoire import equipements_ecole

        return list(self.filtrer(eq for e in self.ecoles_de(t) for eq in equipements_ecole(e)))
