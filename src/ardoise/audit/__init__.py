"""The network audit of a school: what is on its network against its manifest, and filtering tested from the pupils' side.

Modules: ``cibles`` (targets from the manifest), ``decouverte`` (nmap, XML through python-nmap),
``commutateurs`` (MAC and ARP tables, port states, netmiko + ntc-templates), ``dhcp`` (offers per VLAN),
``comparaison`` (findings), ``filtrage`` (tests from the pupil side) with ``sonde`` (its probes, stdlib only, run
here or on a pupil PC over SSH), ``debit`` (iperf3 JSON), ``execution`` (one audit, stored), ``rapport`` (HTML/JSON).
"""
