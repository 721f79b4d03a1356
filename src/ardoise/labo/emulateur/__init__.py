"""Switch emulators for the virtual school lab (package ``ardoise.labo.emulateur``).

Run one process per switch, or several switches per process::

    python -m ardoise.labo.emulateur --config SW1.json [--config SW2.json …]

Each JSON file follows :mod:`ardoise.labo.emulateur.configuration`. Each switch listens for SSH on
``adresse:port``; the process prints the single line ``PRET`` (flushed) once all listen, never prints
the password, and stops cleanly on SIGTERM. Platforms:

* ``cisco_ios``: fake-switches' Cisco 2960 emulation, completed for netmiko (:mod:`.cisco`);
* ``hp_procurve``: an Ardoise stand-in on the fake-switches framework, not a real ProCurve
  (:mod:`.procurve`);
* ``aruba_aoscx``: an Ardoise stand-in on the fake-switches framework, not a real AOS-CX
  (:mod:`.aoscx`).

Faults are injected through each switch's ``fichier_controle`` (:mod:`.controle`):
``couper_apres N``, ``couper``, ``lent S [COMMANDE]``, ``normal``, and the test stand-ins ``refuser_apres N``
(a configuration line refused) and ``tronquer N [FOIS]`` (a ``show`` answer cut short).
"""

from ardoise.labo.emulateur.configuration import ConfigEmulateur, charger, depuis_dict
from ardoise.labo.emulateur.controle import envoyer_instruction

__all__ = ["ConfigEmulateur", "charger", "depuis_dict", "envoyer_instruction"]
