"""Cisco IOS emulator: fake-switches' ``cisco_generic`` (2960) taught what netmiko's ``cisco_ios`` uses.

Added on top of fake-switches, by subclassing its command processors (site-packages untouched):

* ``end`` from any configuration sub-mode (netmiko's ``exit_config_mode`` sends it);
* ``terminal width|length`` at the ``>`` prompt (netmiko's session preparation runs before enable);
* ``enable`` really checks the password (fake-switches also accepts an empty one);
* ``show vlan [brief]`` in real IOS layout (trunk ports not listed, VLANs 1002-1005 shown), parsed
  by ntc-templates ``cisco_ios_show_vlan``; ``show mac address-table`` and ``show ip arp``: STAND-INS fed by the lab (:mod:`.tables`);
* ``show running-config`` with VLANs in numeric order and no ``vlan 1`` block, so a config pushed
  and then reverted prints identically; ``show startup-config``;
* ``write memory`` / ``copy running-config startup-config`` (with its ``Destination filename``
  question) save the running config as the startup config;
* ``do <command>`` from configuration mode; ``hostname``; unknown commands answer ``% Invalid input detected at '^' marker.``

There is no ``configure replace``: fake-switches only has ``copy tftp://… running-config``, a merge.
Rolling back means pushing the inverse commands.
"""

from __future__ import annotations

import logging
from typing import Any

from fake_switches import switch_core
from fake_switches.cisco.cisco_core import Cisco2960SwitchCore
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.config_interface import ConfigInterfaceCommandProcessor
from fake_switches.cisco.command_processor.config_vlan import ConfigVlanCommandProcessor
from fake_switches.cisco.command_processor.config_vrf import ConfigVRFCommandProcessor
from fake_switches.cisco.command_processor.default import DefaultCommandProcessor
from fake_switches.cisco.command_processor.enabled import (
    EnabledCommandProcessor,
    build_running_interface,
    build_running_vlan,
)
from fake_switches.cisco.command_processor.piping import PipingProcessor
from fake_switches.command_processing.shell_session import ShellSession
from fake_switches.switch_configuration import SwitchConfiguration
from fake_switches.terminal import LoggingTerminalController

from ardoise.labo.emulateur import tables
from ardoise.labo.emulateur.commun import RepliAvecInvite, configuration_initiale, vlans_tries
from ardoise.labo.emulateur.configuration import ConfigEmulateur

VLANS_RESERVES = ((1002, "fddi-default"), (1003, "token-ring-default"), (1004, "fddinet-default"),
                  (1005, "trnet-default"))  # fmt: skip


def texte_running_config(switch: SwitchConfiguration) -> list[str]:
    """The body of ``show running-config`` (from ``version`` to ``end``)."""
    lignes = ["!", "version 15.0", "no service pad", "!", f"hostname {switch.name}", "!", "!"]
    for vlan in vlans_tries(switch):
        if vlan.number != 1:
            lignes += [*build_running_vlan(vlan), "!"]
    for port in switch.get_physical_ports() + switch.get_vlan_ports():
        lignes += [*build_running_interface(port), "!"]
    return [*lignes, "end"]


def texte_show_vlan(switch: SwitchConfiguration, bref: bool) -> list[str]:
    """``show vlan brief`` / ``show vlan`` as a 2960 prints them."""
    lignes = ["", "VLAN Name                             Status    Ports",
              "---- -------------------------------- --------- -------------------------------"]  # fmt: skip
    for vlan in vlans_tries(switch):
        membres = [
            p.get_subname(length=2)
            for p in switch.get_physical_ports()
            if p.mode != "trunk" and (p.access_vlan or 1) == vlan.number
        ]
        groupes = [", ".join(membres[i : i + 4]) for i in range(0, len(membres), 4)] or [""]
        nom = (vlan.name or ("default" if vlan.number == 1 else f"VLAN{vlan.number:04d}"))[:32]
        lignes.append(f"{vlan.number:<4} {nom:<32} {'active':<9} {groupes[0]}".rstrip())
        lignes += [" " * 48 + g for g in groupes[1:]]
    lignes += [f"{n:<4} {nom:<32} act/unsup" for n, nom in VLANS_RESERVES]
    if not bref:
        lignes += ["", "VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode Trans1 Trans2",
                   "---- ----- ---------- ----- ------ ------ -------- ---- -------- ------ ------"]  # fmt: skip
        numeros = [v.number for v in vlans_tries(switch)] + [n for n, _ in VLANS_RESERVES]
        lignes += [f"{n:<4} enet  {100000 + n:<10} 1500  -      -      -        -    -        0      0"
                   for n in numeros]  # fmt: skip
    return [*lignes, ""]


class SessionCisco(ShellSession):
    def handle_unknown_command(self, line: str) -> None:
        ecrire = self.command_processor.terminal_controller.write
        ecrire("% Invalid input detected at '^' marker.\n\n")


class DefautCisco(DefaultCommandProcessor):
    """The ``>`` prompt."""

    def do_terminal(self, *_: str) -> None:
        pass

    def continue_enabling(self, line: str) -> None:
        self.replace_input = False
        if line in self.switch_configuration.privileged_passwords:
            self.move_to(self.enabled_processor)
        else:
            self.write_line("% Access denied")
            self.write_line("")


class ActiveCisco(RepliAvecInvite, EnabledCommandProcessor):
    """The ``#`` prompt."""

    def __init__(self, config: Any, coeur: CoeurCisco) -> None:
        super().__init__(config)
        self.coeur = coeur

    def process_command(self, line: str) -> bool:
        mots = line.split(None, 1)
        if self.sub_processor is not None and len(mots) == 2 and mots[0] == "do":
            traite = self.parse_and_execute_command(mots[1])  # "do show vlan brief" in config mode
            if traite and not self.continuing_to:
                self.show_prompt()
            return traite
        return super().process_command(line)

    def do_show(self, *args: str) -> None:
        if not args:
            self.write_line("% Incomplete command.")
            self.write_line("")
        elif "running-config".startswith(args[0]) and len(args) == 1:
            self.write_lines(self.coeur.running_config())
        elif "startup-config".startswith(args[0]) and len(args[0]) > 2:
            self.write_lines(self.coeur.startup)
        elif "vlan".startswith(args[0]) and len(args[0]) > 1:
            self.write_lines(texte_show_vlan(self.switch_configuration, bref=len(args) > 1))
        elif args[0] == "mac-address-table" or ("mac".startswith(args[0]) and len(args) > 1):
            ports = self.switch_configuration.get_physical_ports()
            court = {p.name: p.get_subname(length=2) for p in ports}
            self.write_lines(tables.cisco_mac(self.coeur.fichier_macs, court))
        elif len(args) > 1 and len(args[0]) >= 3 and "interfaces".startswith(args[0]) and args[1] == "status":
            ports = tables.ports_connus(self.switch_configuration)
            self.write_lines(tables.cisco_status(ports, self.coeur.fichier_macs))
        elif len(args) > 1 and args[0] == "ip" and "arp".startswith(args[1]):
            self.write_lines(tables.cisco_arp(self.coeur.fichier_macs))
        else:
            super().do_show(*args)

    def write_lines(self, lignes: list[str]) -> None:
        for ligne in lignes:
            self.write_line(ligne)

    def do_write(self, *args: str) -> None:
        self.write_line("Building configuration...")
        self.coeur.sauver()
        self.write_line("[OK]")

    def do_copy(self, source: str = "", destination: str = "", *_: str) -> None:
        if (
            source
            and destination
            and "running-config".startswith(source)
            and ("startup-config".startswith(destination))
        ):
            self.write("Destination filename [startup-config]? ")
            self.continue_to(self.continue_copie)
        else:
            super().do_copy(source, destination)

    def continue_copie(self, _: str) -> None:
        self.do_write()


class ConfigCisco(RepliAvecInvite, ConfigCommandProcessor):
    """``(config)#`` and, through its sub-processors, every configuration sub-mode."""

    def process_command(self, line: str) -> bool:
        if line.strip() == "end":
            self.sub_processor = None
            self.is_done = True
            return True
        return super().process_command(line)

    def do_hostname(self, nom: str, *_: str) -> None:
        self.switch_configuration.name = nom


class CoeurCisco(Cisco2960SwitchCore):
    """fake-switches' 2960 core with the processors above and a startup config."""

    def __init__(self, switch_configuration: SwitchConfiguration) -> None:
        switch_core.SwitchCore.__init__(self, switch_configuration)  # VLAN 1 already there
        self.logger: logging.Logger | None = None
        self.last_connection_id = 0
        self.startup = self.running_config()

    def running_config(self) -> list[str]:
        corps = texte_running_config(self.switch_configuration)
        taille = len("\n".join(corps)) + 1
        return ["Building configuration...", "", f"Current configuration : {taille} bytes", *corps, ""]

    def sauver(self) -> None:
        self.startup = ["Using 0 out of 65536 bytes", *self.running_config()[3:]]

    def new_command_processor(self) -> ActiveCisco:
        config = ConfigCisco(
            config_vlan=ConfigVlanCommandProcessor(),
            config_vrf=ConfigVRFCommandProcessor(),
            config_interface=ConfigInterfaceCommandProcessor(),
        )
        return ActiveCisco(config, self)

    def launch(self, protocol: str, terminal_controller: Any) -> SessionCisco:
        self.last_connection_id += 1
        nom = self.switch_configuration.name
        self.logger = logging.getLogger(f"fake_switches.cisco.{nom}.{self.last_connection_id}.{protocol}")
        processeur = DefautCisco(self.new_command_processor())
        processeur.init(
            self.switch_configuration,
            LoggingTerminalController(self.logger, terminal_controller),
            self.logger,
            PipingProcessor(self.logger),
        )
        return SessionCisco(processeur)


def coeur_cisco(config: ConfigEmulateur) -> CoeurCisco:
    """A Cisco core holding the JSON's VLANs and ports; the login password is also the enable secret."""
    switch = configuration_initiale(config, nom_vlan_defaut="default")
    if not config.ports:
        for port in CoeurCisco.get_default_ports():
            switch.add_port(port)
    switch.get_vlan(1).name = None  # IOS never prints "name default"
    switch.privileged_passwords = [config.mot_de_passe]
    return CoeurCisco(switch)
