"""Preventive maintenance: remote checks of every device, history in the results store, reports.

- ``catalogue``: the checks (name, French label, shell snippet, ``traiter``), one registry;
- ``verifications/``: the checks themselves, by family;
- ``cibles``: devices of a selection → what to connect to, with each device's context;
- ``script``: the ONE batched command per host and the parsing of its sections;
- ``moteur``: the asyncssh sweep (bounded concurrency, per-host timeout, strict host keys);
- ``rapport``: HTML/JSON/CSV reports from the store; ``planification``: systemd timers and holidays;
- ``nagios``: the Nagios/Centreon plugin contract.
"""
