"""HP ProCurve (ArubaOS-Switch, e.g. 2530) STAND-IN: an Ardoise emulation, not a real ProCurve.

Built on the fake-switches framework (switch core, ``SwitchConfiguration``, command processors, SSH
service); it speaks just enough of the ProCurve CLI for netmiko's ``hp_procurve`` driver and for a
toolkit's VLAN/port round trips:

* login banner with ``Copyright`` and ``Press any key to continue`` (netmiko answers with Return);
* manager prompt ``name#`` directly (``enable`` is a no-op), ``no page``, ``terminal width|length``;
* ``show running-config`` in ProCurve layout (``Running configuration:``, ``;`` header lines,
  ``vlan N`` blocks with quoted ``name``, ``untagged``/``tagged``/``no untagged`` port ranges,
  ``exit``), which hier_config's ``hp_procurve`` driver parses; ``show vlans`` parsed by
  ntc-templates ``hp_procurve_show_vlans``; ``show config`` (saved); ``show version`` (says stand-in);
* ``configure [terminal]``; ``vlan N`` (context ``name(vlan-N)#``) with ``name "X"``,
  ``[no] untagged <ports>``, ``[no] tagged <ports>``, also as one-liners ``vlan N untagged 1-4``;
  ``no vlan N``; ``interface P`` (context ``name(eth-P)#``) with ``name "X"``, ``no name``,
  ``[no] untagged vlan N``, ``[no] tagged vlan N``, ``enable``/``disable``; ``hostname``;
  ``exit``, ``end``; ``write memory``; ``logout`` with its ``Do you want to …`` questions.

Membership model: each port is untagged in at most one VLAN (``Port.access_vlan``, ``None`` when
tagged-only) and tagged in ``Port.trunk_vlans``. Untagging a port in VLAN V moves it out of its
previous untagged VLAN; ``no untagged`` sends it back to DEFAULT_VLAN (1); deleting a VLAN sends its
untagged ports back to VLAN 1.
"""

from __future__ import annotations

import logging
from typing import Any

from fake_switches import switch_core
from fake_switches.command_processing.base_command_processor import BaseCommandProcessor
from fake_switches.command_processing.piping_processor_base import NotPipingProcessor
from fake_switches.command_processing.shell_session import ShellSession
from fake_switches.switch_configuration import Port, SwitchConfiguration, Vlan
from fake_switches.terminal import LoggingTerminalController

from ardoise.labo.emulateur import tables
from ardoise.labo.emulateur.commun import (
    RepliAvecInvite,
    configuration_initiale,
    developper_ports,
    plage_ports,
    vlans_tries,
)
from ardoise.labo.emulateur.configuration import ConfigEmulateur

EN_TETE = ["; J9773A Configuration Editor; Created on release #YA.16.10.0003",
           "; Ver #14:01.44.00.04.19.02.13.98.82.34.61.18.28.f3.84.9c.63.ff.37.27:05"]  # fmt: skip
BANNIERE = """HP J9773A 2530-24G-PoEP Switch (Ardoise stand-in, not a real ProCurve)
Software revision YA.16.10.0003

(C) Copyright 2019 Hewlett Packard Enterprise Development LP

                   RESTRICTED RIGHTS LEGEND
 Confidential computer software. Valid license from HPE required.

Press any key to continue
"""


def _sans_guillemets(mots: tuple[str, ...]) -> str:
    return " ".join(mots).strip().strip('"')


def running_config(switch: SwitchConfiguration) -> list[str]:
    """``show running-config`` body (without the ``Running configuration:`` title)."""
    lignes = [*EN_TETE, f'hostname "{switch.name}"', "module 1 type j9773a"]
    for port in switch.get_physical_ports():
        if port.description or port.shutdown:
            lignes.append(f"interface {port.name}")
            lignes += [f'   name "{port.description}"'] if port.description else []
            lignes += ["   disable"] if port.shutdown else []
            lignes.append("   exit")
    lignes.append('snmp-server community "public" unrestricted')
    for vlan in vlans_tries(switch):
        ports = switch.get_physical_ports()
        lignes += [f"vlan {vlan.number}", f'   name "{vlan.name}"']
        non_etiquetes = [p.name for p in ports if p.access_vlan == vlan.number]
        etiquetes = [p.name for p in ports if vlan.number in (p.trunk_vlans or [])]
        sans = [p.name for p in ports if p.access_vlan is None] if vlan.number == 1 else []
        lignes += [f"   untagged {plage_ports(non_etiquetes)}"] if non_etiquetes else []
        lignes += [f"   tagged {plage_ports(etiquetes)}"] if etiquetes else []
        lignes += [f"   no untagged {plage_ports(sans)}"] if sans else []
        lignes += ["   ip address dhcp-bootp" if vlan.number == 1 else "   no ip address", "   exit"]
    return lignes


def show_vlans(switch: SwitchConfiguration) -> list[str]:
    lignes = ["", " Status and Counters - VLAN Information", "", "  Maximum VLANs to support : 256",
              "  Primary VLAN : DEFAULT_VLAN", "  Management VLAN :", "",
              "  VLAN ID Name                             | Status     Voice Jumbo",
              "  ------- -------------------------------- + ---------- ----- -----"]  # fmt: skip
    for vlan in vlans_tries(switch):
        lignes.append(f"  {vlan.number:<7} {vlan.name:<32} | Port-based No    No")
    return [*lignes, ""]


def show_version() -> list[str]:
    return ["Image stamp:    /ws/swbuildm/rel_ukiah_qaoff/code/build/bom(swbuildm_rel_ukiah_qaoff_rel_ukiah)",
            "                Oct 28 2019 10:33:24", "                YA.16.10.0003", "                2016",
            "Boot Image:     Primary", "", "Boot ROM Version:    YA.15.20", "Active Boot ROM:     Primary",
            "", "Ardoise stand-in, not a real ProCurve", ""]  # fmt: skip


class ProcesseurProcurve(BaseCommandProcessor):
    """Shared bits: the error message and VLAN membership operations."""

    contexte = "config"

    def get_prompt(self) -> str:
        return f"{self.switch_configuration.name}({self.contexte})#"

    def erreur(self, texte: str) -> None:
        self.write_line(texte)

    def ports(self, texte: str) -> list[Port] | None:
        switch = self.switch_configuration
        try:
            return [switch.get_port(n) for n in developper_ports(texte, [p.name for p in switch.ports])]
        except ValueError as e:
            self.erreur(f"Module not present for port or invalid port: {e}")
            return None

    def vlan(self, texte: str, creer: bool = False) -> Vlan | None:
        numero = int(texte) if texte.isdigit() else 0
        if not 1 <= numero <= 4094:
            self.erreur(f"Invalid input: {texte}")
            return None
        vlan = self.switch_configuration.get_vlan(numero)
        if vlan is None and creer:
            vlan = Vlan(numero, f"VLAN{numero}")
            self.switch_configuration.add_vlan(vlan)
        elif vlan is None:
            self.erreur(f"VLAN {numero} not found.")
        return vlan

    def membres(self, vlan: Vlan, ports: list[Port], etiquete: bool, retirer: bool) -> None:
        for port in ports:
            tagged = port.trunk_vlans if port.trunk_vlans is not None else []
            if etiquete and not retirer:
                port.trunk_vlans = sorted({*tagged, vlan.number})
                port.access_vlan = None if port.access_vlan == vlan.number else port.access_vlan
            elif etiquete:
                port.trunk_vlans = [v for v in tagged if v != vlan.number]
            elif not retirer:
                port.access_vlan = vlan.number
                port.trunk_vlans = [v for v in tagged if v != vlan.number]
            elif port.access_vlan == vlan.number:
                port.access_vlan = None if vlan.number == 1 else 1


class VlanProcurve(ProcesseurProcurve):
    """``name(vlan-N)#``."""

    def init(self, switch_configuration: Any, terminal_controller: Any, logger: Any, piping: Any, *args: Any):
        super().init(switch_configuration, terminal_controller, logger, piping)
        self.vlan_courant: Vlan = args[0]
        self.contexte = f"vlan-{self.vlan_courant.number}"

    def do_name(self, *mots: str) -> None:
        self.vlan_courant.name = _sans_guillemets(mots)[:32]

    def _membres(self, texte: str, etiquete: bool, retirer: bool) -> None:
        if (ports := self.ports(texte)) is not None:
            self.membres(self.vlan_courant, ports, etiquete, retirer)

    def do_untagged(self, ports: str, *_: str) -> None:
        self._membres(ports, etiquete=False, retirer=False)

    def do_tagged(self, ports: str, *_: str) -> None:
        self._membres(ports, etiquete=True, retirer=False)

    def do_no_untagged(self, ports: str, *_: str) -> None:
        self._membres(ports, etiquete=False, retirer=True)

    def do_no_tagged(self, ports: str, *_: str) -> None:
        self._membres(ports, etiquete=True, retirer=True)

    def do_ip(self, *_: str) -> None:
        """``ip address …`` / ``no ip address``: accepted, not modelled."""

    do_no_ip = do_ip

    def do_exit(self) -> None:
        self.is_done = True


class InterfaceProcurve(ProcesseurProcurve):
    """``name(eth-P)#``."""

    def init(self, switch_configuration: Any, terminal_controller: Any, logger: Any, piping: Any, *args: Any):
        super().init(switch_configuration, terminal_controller, logger, piping)
        self.texte_ports: str = args[0]
        self.ports_courants: list[Port] = args[1]
        self.contexte = f"eth-{self.texte_ports}"

    def do_name(self, *mots: str) -> None:
        for port in self.ports_courants:
            port.description = _sans_guillemets(mots) or None

    def do_no_name(self, *_: str) -> None:
        for port in self.ports_courants:
            port.description = None

    def do_disable(self) -> None:
        for port in self.ports_courants:
            port.shutdown = True

    def do_enable(self) -> None:
        for port in self.ports_courants:
            port.shutdown = None

    def _membres(self, mots: tuple[str, ...], etiquete: bool, retirer: bool) -> None:
        if len(mots) != 2 or mots[0] != "vlan":
            self.erreur(f"Invalid input: {' '.join(mots)}")
        elif vlan := self.vlan(mots[1]):
            self.membres(vlan, self.ports_courants, etiquete, retirer)

    def do_untagged(self, *mots: str) -> None:
        self._membres(mots, etiquete=False, retirer=False)

    def do_tagged(self, *mots: str) -> None:
        self._membres(mots, etiquete=True, retirer=False)

    def do_no_untagged(self, *mots: str) -> None:
        self._membres(mots, etiquete=False, retirer=True)

    def do_no_tagged(self, *mots: str) -> None:
        self._membres(mots, etiquete=True, retirer=True)

    def do_exit(self) -> None:
        self.is_done = True


class ConfigProcurve(RepliAvecInvite, ProcesseurProcurve):
    """``name(config)#``."""

    def process_command(self, line: str) -> bool:
        if line.strip() == "end":
            self.sub_processor = None
            self.is_done = True
            return True
        return super().process_command(line)

    def _sous_commande(self, processeur: ProcesseurProcurve, mots: tuple[str, ...], *args: Any) -> None:
        """``vlan 10 untagged 1-4``: run the rest of the line in the context, without entering it."""
        processeur.init(self.switch_configuration, self.terminal_controller, self.logger,
                        self.piping_processor, *args)  # fmt: skip
        fonction, arguments = processeur.get_command_func(" ".join(mots))
        if fonction is None:
            self.erreur(f"Invalid input: {' '.join(mots)}")
        else:
            fonction(*arguments)

    def do_vlan(self, numero: str, *reste: str) -> None:
        if vlan := self.vlan(numero, creer=True):
            if reste:
                self._sous_commande(VlanProcurve(), reste, vlan)
            else:
                self.move_to(VlanProcurve(), vlan)

    def do_no_vlan(self, numero: str, *_: str) -> None:
        if numero == "1":
            self.erreur("The default VLAN cannot be deleted.")
        elif vlan := self.vlan(numero):
            for port in self.switch_configuration.get_physical_ports():
                self.membres(vlan, [port], etiquete=True, retirer=True)
                self.membres(vlan, [port], etiquete=False, retirer=True)
            self.switch_configuration.remove_vlan(vlan)

    def do_interface(self, texte: str, *reste: str) -> None:
        if (ports := self.ports(texte)) is not None:
            if reste:
                self._sous_commande(InterfaceProcurve(), reste, texte, ports)
            else:
                self.move_to(InterfaceProcurve(), texte, ports)

    def do_hostname(self, *mots: str) -> None:
        self.switch_configuration.name = _sans_guillemets(mots)

    def do_exit(self) -> None:
        self.is_done = True


class ManagerProcurve(RepliAvecInvite, ProcesseurProcurve):
    """The manager-level ``name#`` prompt."""

    def __init__(self, coeur: CoeurProcurve) -> None:
        super().__init__()
        self.coeur = coeur

    def get_prompt(self) -> str:
        return f"{self.switch_configuration.name}#"

    def write_lines(self, lignes: list[str]) -> None:
        for ligne in lignes:
            self.write_line(ligne)

    def do_show(self, *args: str) -> None:
        sujet = args[0] if args else ""
        if len(sujet) >= 3 and "running-config".startswith(sujet):
            self.write_lines(
                ["", "Running configuration:", "", *running_config(self.switch_configuration), ""]
            )
        elif len(sujet) >= 2 and ("vlans".startswith(sujet) or sujet == "vlan"):
            self.write_lines(show_vlans(self.switch_configuration))
        elif len(sujet) >= 4 and "config".startswith(sujet):
            self.write_lines(["", "Startup configuration:", "", *self.coeur.startup, ""])
        elif len(sujet) >= 2 and "version".startswith(sujet):
            self.write_lines(show_version())
        elif sujet in ("mac-address", "mac-address-table"):  # stand-in fed by the lab (tables.py)
            self.write_lines(tables.procurve_mac(self.coeur.fichier_macs))
        elif len(sujet) >= 3 and "interfaces".startswith(sujet) and args[1:2] == ("brief",):
            ports = tables.ports_connus(self.switch_configuration)
            self.write_lines(tables.procurve_brief(ports, self.coeur.fichier_macs))
        elif len(sujet) >= 2 and "arp".startswith(sujet):
            self.write_lines(tables.procurve_arp(self.coeur.fichier_macs))
        else:
            self.erreur(f"Invalid input: {sujet}")

    def do_configure(self, *_: str) -> None:
        self.move_to(ConfigProcurve())

    def _sans_effet(self, *_: str) -> None:
        """``enable`` (already manager), ``no page``, ``page``, ``terminal width 511``…"""

    do_enable = do_no_page = do_page = do_terminal = _sans_effet

    def do_write(self, *_: str) -> None:
        self.coeur.sauver()

    def do_logout(self) -> None:
        if self.coeur.startup != running_config(self.switch_configuration):
            self.write("Do you want to save current configuration [y/n/^C]? ")
            self.on_keystroke(self._reponse_sauvegarde)
        else:
            self._demander_sortie()

    do_exit = do_logout

    def _reponse_sauvegarde(self, touche: str) -> None:
        self.write_line(touche.strip())
        if touche.lower() == "y":
            self.coeur.sauver()
        self._demander_sortie()

    def _demander_sortie(self) -> None:
        self.write("Do you want to log out [y/n]? ")
        self.on_keystroke(self._reponse_sortie)

    def _reponse_sortie(self, touche: str) -> None:
        if touche.lower() == "y":
            self.is_done = True
        else:
            self.write_line("")
            self.show_prompt()


class SessionProcurve(ShellSession):
    """Shows the login banner and waits for a key before the first prompt."""

    def __init__(self, command_processor: ManagerProcurve) -> None:
        self.command_processor = command_processor
        command_processor.write(BANNIERE)
        command_processor.on_keystroke(lambda _touche: command_processor.show_prompt())

    def handle_unknown_command(self, line: str) -> None:
        self.command_processor.terminal_controller.write(f"Invalid input: {line.split()[0]}\n")


class CoeurProcurve(switch_core.SwitchCore):
    def __init__(self, switch_configuration: SwitchConfiguration) -> None:
        super().__init__(switch_configuration)
        self.compteur = 0
        self.startup = running_config(switch_configuration)

    def sauver(self) -> None:
        self.startup = running_config(self.switch_configuration)

    def launch(self, protocol: str, terminal_controller: Any) -> SessionProcurve:
        self.compteur += 1
        journal = logging.getLogger(f"ardoise.labo.emulateur.procurve.{self.switch_configuration.name}")
        processeur = ManagerProcurve(self)
        processeur.init(self.switch_configuration, LoggingTerminalController(journal, terminal_controller),
                        journal, NotPipingProcessor())  # fmt: skip
        return SessionProcurve(processeur)

    def get_netconf_protocol(self) -> None:
        return None

    @staticmethod
    def get_default_ports() -> list[Port]:
        return [Port(str(n)) for n in range(1, 29)]


def coeur_procurve(config: ConfigEmulateur) -> CoeurProcurve:
    """A ProCurve stand-in holding the JSON's VLANs and ports (default: ports 1-28 untagged in VLAN 1)."""
    switch = configuration_initiale(config, nom_vlan_defaut="DEFAULT_VLAN", nom_nouveau_vlan="VLAN{}")
    if not config.ports:
        for port in CoeurProcurve.get_default_ports():
            switch.add_port(port)
    for port in switch.get_physical_ports():
        untagged = port.access_vlan if port.mode != "trunk" else port.trunk_native_vlan
        port.access_vlan = untagged or 1
        # a ProCurve port is untagged in one VLAN and cannot also be tagged in it (the JSON's trunk lists the
        # native VLAN among the allowed ones, the IOS way)
        port.trunk_vlans = [v for v in port.trunk_vlans or [] if v != port.access_vlan]
        port.trunk_native_vlan = None
        port.mode = None
    return CoeurProcurve(switch)
