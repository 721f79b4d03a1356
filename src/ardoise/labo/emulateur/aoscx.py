"""Aruba AOS-CX (e.g. 6100/6300) STAND-IN: an Ardoise emulation, not a real AOS-CX switch.

Built on the fake-switches framework (switch core, ``SwitchConfiguration``, command processors, SSH
service); it speaks just enough of the AOS-CX CLI for netmiko's ``aruba_aoscx`` driver and for a
toolkit's VLAN/port round trips:

* prompt ``name#`` after login, ``no page``, ``terminal length|width``; Return may be ``\\r``;
* ``show running-config`` in AOS-CX layout (``Current configuration:``, ``!Version``, unnamed VLANs
  collapsed as ``vlan 1,30``, named ones as ``vlan N`` blocks with an indented ``name``, ``interface 1/1/N`` blocks with ``no shutdown``, ``description``,
  ``no routing``, ``vlan access N`` or ``vlan trunk native N`` + ``vlan trunk allowed …``, each
  block closed by ``exit``), which hier_config's ``aruba_aoscx`` driver parses; ``show vlan``
  parsed by ntc-templates ``aruba_aoscx_show_vlan``; ``show startup-config``; ``show version``
  (says stand-in);
* ``configure terminal``; ``vlan N`` (``name(config-vlan-N)#``) with ``name X``, ``no name``;
  ``no vlan N``; ``interface P`` (``name(config-if)#``) with ``description …``, ``no description``,
  ``vlan access N``, ``no vlan access``, ``vlan trunk native N``, ``vlan trunk allowed <list>``
  (additive, as on AOS-CX), ``no vlan trunk allowed <list>``, ``[no] shutdown``, ``[no] routing``;
  ``hostname``; ``exit``, ``end``; ``write memory``, ``copy running-config startup-config``.

As on the real switch, netmiko's ``check_config_mode`` looks for ``(config)#``: after a config set
that ends inside ``interface``/``vlan`` context, netmiko does not send ``end`` by itself.
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
    developper_vlans,
    plage_ports,
    plage_vlans,
    vlans_tries,
)
from ardoise.labo.emulateur.configuration import ConfigEmulateur

INVALIDE = "% Invalid input detected."
TIRETS = "-" * 109


def running_config(switch: SwitchConfiguration) -> list[str]:
    """``show running-config`` as AOS-CX 10.x prints it."""
    lignes = ["Current configuration:", "!", "!Version ArubaOS-CX PL.10.10.1020", "!export-password: default",
              f"hostname {switch.name}", "!", "!", "!", "ssh server vrf mgmt"]  # fmt: skip
    sans_nom = [v.number for v in vlans_tries(switch) if v.number == 1 or v.name == f"VLAN{v.number}"]
    lignes.append(f"vlan {plage_vlans(sans_nom)}")  # unnamed VLANs are collapsed on one line
    for vlan in vlans_tries(switch):
        if vlan.number not in sans_nom:
            lignes += [f"vlan {vlan.number}", f"    name {vlan.name}", "    exit"]
    lignes += ["spanning-tree", "interface mgmt", "    no shutdown", "    ip dhcp", "    exit"]
    for port in switch.get_physical_ports():
        lignes += [f"interface {port.name}", "    shutdown" if port.shutdown else "    no shutdown"]
        lignes += [f"    description {port.description}"] if port.description else []
        lignes.append("    no routing")
        if port.mode == "trunk":
            lignes.append(f"    vlan trunk native {port.trunk_native_vlan or 1}")
            autorises = "all" if port.trunk_vlans is None else plage_vlans(port.trunk_vlans) or "none"
            lignes.append(f"    vlan trunk allowed {autorises}")
        else:
            lignes.append(f"    vlan access {port.access_vlan or 1}")
        lignes.append("    exit")
    return [*lignes, "!", "!", "!", "https-server vrf mgmt"]


def show_vlan(switch: SwitchConfiguration) -> list[str]:
    lignes = [TIRETS, f"{'VLAN':<6}{'Name':<34}{'Status':<8}{'Reason':<24}{'Type':<12}Interfaces", TIRETS]
    for vlan in vlans_tries(switch):
        membres = [
            p.name
            for p in switch.get_physical_ports()
            if (p.mode != "trunk" and (p.access_vlan or 1) == vlan.number)
            or (p.mode == "trunk" and (p.trunk_vlans is None or vlan.number in p.trunk_vlans))
            or (p.mode == "trunk" and (p.trunk_native_vlan or 1) == vlan.number)
        ]
        etat, raison = ("up", "ok") if membres else ("down", "no_member_port")
        type_ = "default" if vlan.number == 1 else "static"
        ligne = f"{vlan.number:<6}{vlan.name:<34}{etat:<8}{raison:<24}{type_:<12}{plage_ports(membres)}"
        lignes.append(ligne.rstrip())
    return lignes


def show_version() -> list[str]:
    return [TIRETS[:78], "ArubaOS-CX", "(c) Copyright 2017-2022 Hewlett Packard Enterprise Development LP",
            TIRETS[:78], "Version      : PL.10.10.1020", "Build Date   : 2022-06-09 17:37:28 UTC",
            "Build ID     : ArubaOS-CX:PL.10.10.1020:000000000000:202206091737", "Build SHA    : 0",
            "Hot Patches  :", "Active Image : primary", "", "Service OS Version : PL.01.09.0003",
            "BIOS Version       : PL.01.0002", "", "Ardoise stand-in, not a real AOS-CX switch"]  # fmt: skip


class ProcesseurAoscx(BaseCommandProcessor):
    contexte = "config"

    def get_prompt(self) -> str:
        return f"{self.switch_configuration.name}({self.contexte})#"

    def invalide(self) -> None:
        self.write_line(INVALIDE)

    def do_exit(self) -> None:
        self.is_done = True


class VlanAoscx(ProcesseurAoscx):
    def init(self, switch_configuration: Any, terminal_controller: Any, logger: Any, piping: Any, *args: Any):
        super().init(switch_configuration, terminal_controller, logger, piping)
        self.vlan: Vlan = args[0]
        self.contexte = f"config-vlan-{self.vlan.number}"

    def do_name(self, *mots: str) -> None:
        self.vlan.name = " ".join(mots).strip('"')[:32]

    def do_no_name(self, *_: str) -> None:
        self.vlan.name = "DEFAULT_VLAN_1" if self.vlan.number == 1 else f"VLAN{self.vlan.number}"


class InterfaceAoscx(ProcesseurAoscx):
    contexte = "config-if"

    def init(self, switch_configuration: Any, terminal_controller: Any, logger: Any, piping: Any, *args: Any):
        super().init(switch_configuration, terminal_controller, logger, piping)
        self.port: Port = args[0]

    def do_description(self, *mots: str) -> None:
        self.port.description = " ".join(mots) or None

    def do_no_description(self, *_: str) -> None:
        self.port.description = None

    def do_shutdown(self) -> None:
        self.port.shutdown = True

    def do_no_shutdown(self) -> None:
        self.port.shutdown = None

    def do_routing(self) -> None:
        pass

    def do_no_routing(self) -> None:
        pass

    def _liste(self, texte: str) -> list[int] | None:
        try:
            return developper_vlans(texte)
        except ValueError:
            self.invalide()
            return None

    def do_vlan(self, *mots: str) -> None:
        port = self.port
        if len(mots) == 2 and mots[0] == "access" and mots[1].isdigit():
            port.mode, port.access_vlan = "access", int(mots[1])
            port.trunk_vlans = port.trunk_native_vlan = None
        elif len(mots) == 3 and mots[:2] == ("trunk", "native") and mots[2].isdigit():
            if port.mode != "trunk":
                port.mode, port.access_vlan, port.trunk_vlans = "trunk", None, []
            port.trunk_native_vlan = int(mots[2])
        elif len(mots) == 3 and mots[:2] == ("trunk", "allowed"):
            if port.mode != "trunk":
                port.mode, port.access_vlan, port.trunk_vlans, port.trunk_native_vlan = "trunk", None, [], 1
            if mots[2] == "all":
                port.trunk_vlans = None
            elif (ajout := self._liste(mots[2])) is not None and port.trunk_vlans is not None:
                port.trunk_vlans = sorted({*port.trunk_vlans, *ajout})
        else:
            self.invalide()

    def do_no_vlan(self, *mots: str) -> None:
        port = self.port
        if mots[:1] == ("access",) and port.mode != "trunk":
            port.access_vlan = None
        elif mots[:2] == ("trunk", "native"):
            port.trunk_native_vlan = 1
        elif len(mots) == 3 and mots[:2] == ("trunk", "allowed") and port.mode == "trunk":
            if (retrait := self._liste(mots[2])) is not None:
                base = port.trunk_vlans if port.trunk_vlans is not None else range(1, 4095)
                port.trunk_vlans = [v for v in base if v not in retrait]
        else:
            self.invalide()


class ConfigAoscx(RepliAvecInvite, ProcesseurAoscx):
    def process_command(self, line: str) -> bool:
        if line.strip() == "end":
            self.sub_processor = None
            self.is_done = True
            return True
        return super().process_command(line)

    def do_vlan(self, texte: str, *_: str) -> None:
        if not texte.isdigit() or not 1 <= int(texte) <= 4094:
            self.invalide()
            return
        vlan = self.switch_configuration.get_vlan(int(texte))
        if vlan is None:
            vlan = Vlan(int(texte), f"VLAN{texte}")
            self.switch_configuration.add_vlan(vlan)
        self.move_to(VlanAoscx(), vlan)

    def do_no_vlan(self, texte: str, *_: str) -> None:
        vlan = self.switch_configuration.get_vlan(int(texte)) if texte.isdigit() else None
        if vlan is None or vlan.number == 1:
            self.write_line(f"VLAN {texte} cannot be deleted." if vlan else f"VLAN {texte} not found.")
        else:
            self.switch_configuration.remove_vlan(vlan)

    def do_interface(self, nom: str, *_: str) -> None:
        port = self.switch_configuration.get_port(nom)
        if port is None:
            self.invalide()
        else:
            self.move_to(InterfaceAoscx(), port)

    def do_hostname(self, nom: str, *_: str) -> None:
        self.switch_configuration.name = nom


class ActifAoscx(RepliAvecInvite, ProcesseurAoscx):
    """The ``name#`` prompt."""

    def __init__(self, coeur: CoeurAoscx) -> None:
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
            self.write_lines(["", *running_config(self.switch_configuration), ""])
        elif len(sujet) >= 3 and "startup-config".startswith(sujet):
            self.write_lines(["", *self.coeur.startup, ""])
        elif len(sujet) >= 2 and "vlan".startswith(sujet):
            self.write_lines(["", *show_vlan(self.switch_configuration), ""])
        elif len(sujet) >= 2 and "version".startswith(sujet):
            self.write_lines(["", *show_version(), ""])
        elif sujet == "mac-address-table":  # stand-in fed by the lab (tables.py)
            self.write_lines(tables.aoscx_mac(self.coeur.fichier_macs))
        elif len(sujet) >= 3 and "interface".startswith(sujet) and len(args) == 1:
            ports = tables.ports_connus(self.switch_configuration)
            self.write_lines(tables.aoscx_interfaces(ports, self.coeur.fichier_macs))
        elif sujet == "arp":
            self.write_lines(tables.aoscx_arp(self.coeur.fichier_macs))
        else:
            self.invalide()

    def do_configure(self, *_: str) -> None:
        self.move_to(ConfigAoscx())

    def do_no_page(self, *_: str) -> None:
        pass

    def do_page(self, *_: str) -> None:
        pass

    def do_terminal_length(self, *_: str) -> None:
        pass

    def do_terminal(self, *_: str) -> None:
        pass

    def do_enable(self, *_: str) -> None:
        pass

    def do_write(self, *_: str) -> None:
        self.coeur.sauver()
        self.write_line("Copying configuration: [Success]")

    def do_copy(self, source: str = "", destination: str = "", *_: str) -> None:
        if source.startswith("running") and destination.startswith("startup"):
            self.do_write()
        else:
            self.invalide()

    def do_end(self) -> None:
        pass


class SessionAoscx(ShellSession):
    def handle_unknown_command(self, line: str) -> None:
        self.command_processor.terminal_controller.write(INVALIDE + "\n")


class CoeurAoscx(switch_core.SwitchCore):
    def __init__(self, switch_configuration: SwitchConfiguration) -> None:
        super().__init__(switch_configuration)
        self.startup = running_config(switch_configuration)

    def sauver(self) -> None:
        self.startup = running_config(self.switch_configuration)

    def launch(self, protocol: str, terminal_controller: Any) -> SessionAoscx:
        journal = logging.getLogger(f"ardoise.labo.emulateur.aoscx.{self.switch_configuration.name}")
        processeur = ActifAoscx(self)
        processeur.init(self.switch_configuration, LoggingTerminalController(journal, terminal_controller),
                        journal, NotPipingProcessor())  # fmt: skip
        return SessionAoscx(processeur)

    def get_netconf_protocol(self) -> None:
        return None

    @staticmethod
    def get_default_ports() -> list[Port]:
        return [Port(f"1/1/{n}") for n in range(1, 29)]


def coeur_aoscx(config: ConfigEmulateur) -> CoeurAoscx:
    """An AOS-CX stand-in holding the JSON's VLANs and ports (default: 1/1/1-1/1/28, access VLAN 1)."""
    switch = configuration_initiale(config, nom_vlan_defaut="DEFAULT_VLAN_1", nom_nouveau_vlan="VLAN{}")
    if not config.ports:
        for port in CoeurAoscx.get_default_ports():
            switch.add_port(port)
    for port in switch.get_physical_ports():
        if port.mode == "trunk":
            port.trunk_native_vlan = port.trunk_native_vlan or 1
        else:
            port.mode, port.access_vlan = "access", port.access_vlan or 1
    return CoeurAoscx(switch)
