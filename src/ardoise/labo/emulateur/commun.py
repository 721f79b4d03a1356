"""Helpers shared by the platform modules: port ordering, VLAN and port lists, saved config."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fake_switches.command_processing.base_command_processor import BaseCommandProcessor
from fake_switches.switch_configuration import Port, SwitchConfiguration, Vlan

from ardoise.labo.emulateur.configuration import ConfigEmulateur


def cle_naturelle(nom: str) -> tuple[object, ...]:
    """Sort key putting ``Gi0/2`` before ``Gi0/10`` and ``2`` before ``10``."""
    return tuple(int(m) if m.isdigit() else m for m in re.split(r"(\d+)", nom))


def plage_vlans(vlans: Iterable[int], separateur: str = ",") -> str:
    """``[10, 11, 12, 20]`` -> ``10-12,20`` (runs of three or more become ranges, as on IOS)."""
    nombres = sorted(set(vlans))
    morceaux: list[str] = []
    i = 0
    while i < len(nombres):
        j = i
        while j + 1 < len(nombres) and nombres[j + 1] == nombres[j] + 1:
            j += 1
        if j - i >= 2:
            morceaux.append(f"{nombres[i]}-{nombres[j]}")
        else:
            morceaux.extend(str(n) for n in nombres[i : j + 1])
        i = j + 1
    return separateur.join(morceaux)


def developper_vlans(texte: str) -> list[int]:
    """``10-12,20`` -> ``[10, 11, 12, 20]``; raises ValueError on anything else."""
    resultat: list[int] = []
    for morceau in texte.split(","):
        if "-" in morceau:
            debut, fin = (int(x) for x in morceau.split("-", 1))
            if debut > fin:
                raise ValueError(morceau)
            resultat.extend(range(debut, fin + 1))
        else:
            resultat.append(int(morceau))
    if not all(1 <= v <= 4094 for v in resultat):
        raise ValueError(texte)
    return resultat


def decouper_nom_port(nom: str) -> tuple[str, int]:
    """``1/1/12`` -> (``1/1/``, 12); ``A3`` -> (``A``, 3)."""
    m = re.fullmatch(r"(.*?)(\d+)", nom)
    if not m:
        raise ValueError(nom)
    return m.group(1), int(m.group(2))


def plage_ports(noms: Iterable[str]) -> str:
    """ProCurve / AOS-CX port list: ``1-4,6,A1-A2`` or ``1/1/1-1/1/4``; consecutive pairs too."""
    tries = sorted(set(noms), key=cle_naturelle)
    morceaux: list[str] = []
    i = 0
    while i < len(tries):
        prefixe, numero = decouper_nom_port(tries[i])
        j = i
        while j + 1 < len(tries) and decouper_nom_port(tries[j + 1]) == (prefixe, numero + (j + 1 - i)):
            j += 1
        morceaux.append(tries[i] if j == i else f"{tries[i]}-{tries[j]}")
        i = j + 1
    return ",".join(morceaux)


def developper_ports(texte: str, existants: Iterable[str]) -> list[str]:
    """Expand ``1-4,6`` against the switch's port names (case-insensitive); ValueError if unknown."""
    par_nom = {n.lower(): n for n in existants}
    resultat: list[str] = []
    for morceau in texte.split(","):
        if "-" in morceau:
            debut, fin = morceau.split("-", 1)
            p1, n1 = decouper_nom_port(debut)
            p2, n2 = decouper_nom_port(fin)
            if p1.lower() != p2.lower() or n1 > n2:
                raise ValueError(morceau)
            candidats = [f"{p1}{n}" for n in range(n1, n2 + 1)]
        else:
            candidats = [morceau]
        for candidat in candidats:
            if candidat.lower() not in par_nom:
                raise ValueError(candidat)
            resultat.append(par_nom[candidat.lower()])
    return resultat


def configuration_initiale(
    config: ConfigEmulateur, nom_vlan_defaut: str, nom_nouveau_vlan: str = "VLAN{:04d}"
) -> SwitchConfiguration:
    """A fake-switches ``SwitchConfiguration`` holding VLAN 1, the JSON's VLANs and ports.

    Port state uses fake-switches' fields: ``mode`` ("access"/"trunk"), ``access_vlan``,
    ``trunk_vlans``, ``trunk_native_vlan``, ``description``. ``vendor_specific["startup"]``
    on the configuration stores the last saved running config.
    """
    ports = [Port(p.nom) for p in sorted(config.ports, key=lambda p: cle_naturelle(p.nom))]
    switch = SwitchConfiguration("127.0.0.1", name=config.nom, ports=ports)
    switch.add_vlan(Vlan(1, nom_vlan_defaut))
    for numero, nom in config.vlans:
        vlan = switch.get_vlan(numero)
        if vlan is None:
            switch.add_vlan(Vlan(numero, nom))
        else:
            vlan.name = nom
    for p in config.ports:
        port = switch.get_port(p.nom)
        port.description = p.description or None
        if p.mode == "acces":
            port.mode = "access"
            port.access_vlan = p.vlan
        else:
            port.mode = "trunk"
            port.trunk_vlans = sorted(set(p.vlans))
            port.trunk_native_vlan = p.vlan
        for numero in [p.vlan, *p.vlans]:
            if numero is not None and switch.get_vlan(numero) is None:
                switch.add_vlan(Vlan(numero, nom_nouveau_vlan.format(numero)))
    return switch


def vlans_tries(switch: SwitchConfiguration) -> list[Vlan]:
    return sorted(switch.vlans, key=lambda v: v.number)


class RepliAvecInvite(BaseCommandProcessor):
    """Mixin: when a sub-context does not know a command and this processor runs it instead
    (``show vlan`` typed in a VLAN context, ``no vlan 30`` in an interface context), show the
    prompt afterwards, which fake-switches forgets to do."""

    def process_command(self, line: str) -> bool:
        sous = self.sub_processor
        if sous is None or " | " in line:
            return super().process_command(line)
        if self.delegate_to_sub_processor(line):
            return True
        if self.continuing_to:
            traite = self.continue_command(line)
        else:
            traite = self.parse_and_execute_command(line)
        attend = self.continuing_to or self.awaiting_keystroke or self.is_done
        if traite and not attend and self.sub_processor is sous:
            self.show_prompt()
        return traite
