# Ardoise inventory plugin for Ansible: the territory manifest as an Ansible inventory.
# GNU Affero General Public License v3.0+ (see pyproject.toml)

from __future__ import annotations

import logging
import os
import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

DOCUMENTATION = r"""
    name: ardoise
    short_description: Inventaire Ansible lu dans le manifeste Ardoise d'un territoire
    description:
        - Lit le manifeste Ardoise (C(territoire.yml), un fichier par école, profils de terminaux)
          avec le chargeur d'Ardoise, qui le valide entièrement, et en fait un inventaire Ansible.
        - "Groupes : C(commune_<id>) (enfants : les écoles), C(ecole_<uai>), C(type_<type>), C(os_<os>),
          C(profil_<profil>), C(etat_<état>), C(vlan_<rôle du VLAN>)."
        - "Variables : la politique effective de chaque école (C(ardoise_proxy), C(ardoise_filtrage)…),
          ses VLAN et son Wi-Fi en variables de groupe ; par appareil, C(ardoise) (fiche), C(ansible_host)
          et, pour les terminaux, le profil effectif (C(ardoise_applications), C(ardoise_parametres))."
        - "Les secrets du coffre (C(coffre.yml)) sont chargés par Ansible lui-même dans la variable
          C(ardoise_coffre) du groupe C(all) et restent chiffrés ; les références C({coffre: nom}) du
          manifeste deviennent C({{ ardoise_coffre['nom'] }}), déchiffré seulement à l'usage."
        - Un manifeste invalide fait échouer l'inventaire avec la liste des problèmes
          (C(fichier:ligne:colonne), correction proposée).
        - Le territoire validé est mis en cache (voir l'option C(cache_ardoise)) ; le cache est
          invalidé dès qu'un fichier du manifeste change.
        - Nécessite le paquet Python C(ardoise) dans le Python qui exécute Ansible.
    options:
        plugin:
            description: Le nom de ce greffon.
            required: true
            choices: ['ardoise', 'ardoise.territoire.ardoise']
        inventaire:
            description:
                - Dossier de l'inventaire Ardoise (celui qui contient C(territoire.yml)), relatif au
                  dossier de ce fichier YAML.
            type: str
            default: '.'
        communes:
            description: Ne garder que les écoles de ces communes (identifiants ou codes INSEE).
            type: list
            elements: string
            default: []
        ecoles:
            description: Ne garder que ces écoles (codes UAI).
            type: list
            elements: string
            default: []
        cache_ardoise:
            description:
                - Dossier du cache du territoire validé. Par défaut C($ARDOISE_CACHE), sinon
                  C($XDG_CACHE_HOME/ardoise), sinon C(~/.cache/ardoise). Un dossier en lecture seule
                  (environnement d'exécution AWX) désactive simplement le cache.
            type: path
            env:
                - name: ARDOISE_CACHE
"""

EXAMPLES = r"""
# inventaire/ardoise.yml : tout le territoire (le dossier de ce fichier est l'inventaire)
plugin: ardoise
---
# Une seule école, cache dans un dossier choisi
plugin: ardoise
inventaire: ../inventaire
ecoles: [0331101T]
cache_ardoise: /var/cache/ardoise
---
# Les écoles de deux communes, forme longue du nom (collection)
plugin: ardoise.territoire.ardoise
communes: [bellerive, castelnau]
"""

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: templates from inventory are trusted anyway

    def trust_as_template(valeur):
        return valeur


try:
    from ardoise.erreurs import ArdoiseErreur, ErreurManifeste
    from ardoise.inventaire.cache import charger_avec_cache
    from ardoise.inventaire.export import vers_ansible
    from ardoise.inventaire.selection import Selection
except ImportError as e:  # reported when the plugin is used, not when Ansible lists plugins
    ERREUR_IMPORT: ImportError | None = e
else:
    ERREUR_IMPORT = None

NOMS = ("ardoise", "ardoise.territoire.ardoise")
# the only templates this plugin produces: references to the vault, trusted one by one
_REFERENCE_COFFRE = re.compile(r"\{\{ ardoise_coffre\['[a-z0-9][a-z0-9_.-]{0,62}'\] \}\}")


def _confiance(valeur):
    """Mark the plugin's own vault references as templates; any other text stays inert."""
    if isinstance(valeur, str):
        return trust_as_template(valeur) if _REFERENCE_COFFRE.fullmatch(valeur) else valeur
    if isinstance(valeur, dict):
        return {k: _confiance(v) for k, v in valeur.items()}
    if isinstance(valeur, list):
        return [_confiance(v) for v in valeur]
    return valeur


class _VersDisplay(logging.Handler):
    """Ardoise's log records shown by Ansible: warnings as warnings, the rest at -vvv."""

    def __init__(self, display) -> None:
        super().__init__(logging.DEBUG)
        self.display = display

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            self.display.warning(message)
        else:
            self.display.vvv(f"ardoise : {message}")


class InventoryModule(BaseInventoryPlugin):
    NAME = "ardoise"

    def verify_file(self, path):
        """A ``*.yml``/``*.yaml`` file whose ``plugin:`` is ``ardoise`` (or its collection name)."""
        if not super().verify_file(path) or not path.endswith((".yml", ".yaml")):
            return False
        try:
            with open(path, encoding="utf-8") as f:
                for ligne in f:
                    m = re.match(r"""^plugin:\s*['"]?([\w.]+)['"]?\s*(#.*)?$""", ligne)
                    if m:
                        return m[1] in NOMS
        except (OSError, UnicodeDecodeError):
            return False
        return False

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        if ERREUR_IMPORT is not None:
            raise AnsibleParserError(
                f"le greffon d'inventaire ardoise ne trouve pas le paquet Python « ardoise » ({ERREUR_IMPORT}) :"
                " lancez Ansible depuis l'environnement virtuel d'Ardoise (.venv/bin/ansible-…)"
            )
        config = self.loader.load_from_file(path, cache="none")
        if not isinstance(config, dict) or config.get("plugin") not in NOMS:
            raise AnsibleParserError(f"{path} : « plugin: ardoise » attendu")
        self.set_options(direct=config)
        dossier = os.path.normpath(
            os.path.join(
                os.path.dirname(os.path.abspath(path)), os.path.expanduser(self.get_option("inventaire"))
            )
        )
        journal = logging.getLogger("ardoise")
        relais = _VersDisplay(self.display)
        niveau = journal.level
        journal.addHandler(relais)
        journal.setLevel(logging.DEBUG)
        try:
            communes = tuple(str(c) for c in self.get_option("communes") or ())
            ecoles = tuple(str(u) for u in self.get_option("ecoles") or ())
            # from the cache, only the selected schools are read (memory, time)
            territoire = charger_avec_cache(
                dossier, self.get_option("cache_ardoise"), ecoles=ecoles, communes=communes
            )
            selection = Selection(communes=communes, ecoles=ecoles).verifier(territoire)
            donnees = vers_ansible(territoire, selection)
        except ErreurManifeste as e:
            raise AnsibleParserError(
                f"manifeste Ardoise invalide ({dossier}) : {e}\n" + "\n".join(p.texte() for p in e.problemes)
            ) from None
        except ArdoiseErreur as e:
            raise AnsibleParserError(f"inventaire Ardoise ({dossier}) : {e}") from None
        finally:
            journal.removeHandler(relais)
            journal.setLevel(niveau)
        self._remplir(donnees)
        if territoire.fichier_coffre.is_file():
            # Ansible's own loader: values stay EncryptedString objects, decrypted only when used
            coffre = self.loader.load_from_file(str(territoire.fichier_coffre))
            self.inventory.set_variable("all", "ardoise_coffre", coffre or {})

    def _remplir(self, donnees: dict) -> None:
        hotes = donnees.pop("_meta")["hostvars"]
        tout = donnees.pop("all")
        for groupe in donnees:
            self.inventory.add_group(groupe)
        for groupe, contenu in donnees.items():
            for enfant in contenu.get("children", ()):
                self.inventory.add_group(enfant)
                self.inventory.add_child(groupe, enfant)
            for hote in contenu.get("hosts", ()):
                self.inventory.add_host(hote, group=groupe)
            for cle, valeur in contenu.get("vars", {}).items():
                self.inventory.set_variable(groupe, cle, _confiance(valeur))
        for hote, variables in hotes.items():
            self.inventory.add_host(hote)
            for cle, valeur in variables.items():
                self.inventory.set_variable(hote, cle, _confiance(valeur))
        for cle, valeur in tout.get("vars", {}).items():
            if cle != "ardoise_coffre":
                self.inventory.set_variable("all", cle, _confiance(valeur))
