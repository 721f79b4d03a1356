# Ardoise: records the outcome of an ansible-pull playbook run for ardoise-pull (role ardoise_pull).
# GNU Affero General Public License v3.0+
"""Callback plugin: per-host counts and failed tasks, written as JSON to $ARDOISE_PULL_TACHES."""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
    name: ardoise_resultat
    type: aggregate
    short_description: Résultat d'une exécution d'ansible-pull pour Ardoise
    description:
        - Écrit dans le fichier C($ARDOISE_PULL_TACHES) le nombre de tâches modifiées et les tâches en échec.
        - Le message d'une tâche protégée (no_log) n'est jamais écrit.
    requirements:
        - activé par ardoise-pull (ANSIBLE_CALLBACKS_ENABLED)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "ardoise_resultat"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.echecs = []

    def _echec(self, result, injoignable=False):
        tache = result._task
        role = tache._role.get_name() if getattr(tache, "_role", None) else None
        res = result._result or {}
        if res.get("censored") or tache.no_log:
            message = "détails masqués (tâche protégée)"
        else:
            message = str(res.get("msg") or res.get("stderr") or res.get("module_stderr") or "").strip()
            message = message.splitlines()[-1][:300] if message else "échec sans message"
        self.echecs.append({
            "tache": tache.get_name().strip(),
            "role": role,
            "message": ("injoignable : " if injoignable else "") + message,
        })

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._echec(result)

    def v2_runner_on_unreachable(self, result):
        self._echec(result, injoignable=True)

    def v2_playbook_on_stats(self, stats):
        totaux = {"ok": 0, "changed": 0, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0}
        for hote in sorted(stats.processed):
            resume = stats.summarize(hote)
            for cle in totaux:
                totaux[cle] += int(resume.get(cle, 0))
        destination = os.environ.get("ARDOISE_PULL_TACHES")
        if not destination:
            return
        temporaire = destination + ".tmp"
        with open(temporaire, "w", encoding="utf-8") as f:
            json.dump({"totaux": totaux, "hotes": sorted(stats.processed), "echecs": self.echecs}, f,
                      ensure_ascii=False)
        os.replace(temporaire, destination)
