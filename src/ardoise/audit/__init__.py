"""The network audit of a school: what is on its network against its manifest, and filtering tested from the pupils' side.

Modules: ``cibles`` (targets from the manifest), ``decouverte`` (nmap, XML through python-nmap),
``commutateurs`` (MAC and ARP tables, netmiko + ntc-templates), ``dns``, ``comparaison`` (findings),
``filtrage``, ``debit`` (iperf3 JSON), ``execution`` (one audit, stored), ``rapport`` (HTML/JSON).
"""
