"""The workshop: prepare a batch of Linux PCs before delivery, check them, print the delivery sheet.

- ``postes``: which devices a command works on (``--ecole``, ``--postes``, ``--lot``), the batch name;
- ``ansible``: the playbook ``playbooks/atelier.yml`` through ansible-runner, per-host progress from its events;
- ``controles``: the verification checklist (the maintenance catalogue's checks plus workshop-only ones);
- ``preparation``: ``preparer`` / ``verifier`` end to end, each device's result and state in the store;
- ``fiche``: the delivery sheet (HTML A4, PDF, CSV) from the store;
- ``labo``: what a workshop run on the virtual school lab needs (key, known_hosts, apt relay, signatures).
"""
