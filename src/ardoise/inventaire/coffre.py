"""The territory vault: ``nom: !vault |`` entries encrypted with ansible-vault.

Names are readable without the password (validation checks references); values are decrypted only
by :func:`reveler`, at the place a secret leaves for a device, and come back as
:class:`ardoise.secrets.Secret` objects that never print their value.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from ardoise.erreurs import ErreurCoffre
from ardoise.inventaire.yaml_sur import ErreurYaml, ValeurChiffree, lire
from ardoise.secrets import Secret

VARIABLE_MOT_DE_PASSE = "ARDOISE_COFFRE_MDP"


def textes_chiffres(fichier: Path) -> dict[str, str]:
    """Name → ansible-vault ciphertext, for every secret of the vault file."""
    try:
        doc = lire(fichier, vault_permis=True)
    except ErreurYaml as e:
        raise ErreurCoffre(f"coffre illisible : {e}") from None
    if not isinstance(doc.donnees, dict):
        raise ErreurCoffre(f"coffre {fichier} : un dictionnaire « nom: !vault | … » est attendu")
    return {str(k): v.texte_chiffre for k, v in doc.donnees.items() if isinstance(v, ValeurChiffree)}


def fichier_mot_de_passe(racine_projet: Path | None = None) -> Path | None:
    """``$ARDOISE_COFFRE_MDP``, else ``$ANSIBLE_VAULT_PASSWORD_FILE``, else ansible.cfg's setting."""
    for var in (VARIABLE_MOT_DE_PASSE, "ANSIBLE_VAULT_PASSWORD_FILE"):
        if os.environ.get(var):
            # resolved now: Ansible runs from other directories (ansible-runner's private data dir)
            return Path(os.environ[var]).resolve()
    cfg_path = Path(os.environ.get("ANSIBLE_CONFIG", (racine_projet or Path.cwd()) / "ansible.cfg"))
    if cfg_path.is_file():
        cfg = configparser.ConfigParser()
        cfg.read(cfg_path)
        valeur = cfg.get("defaults", "vault_password_file", fallback=None)
        if valeur:
            return (cfg_path.parent / valeur).resolve()
    return None


def reveler(fichier: Path, noms: list[str], mot_de_passe: Path | None = None) -> dict[str, Secret]:
    """Decrypt the named secrets; a French :class:`ErreurCoffre` if the password is wrong or missing."""
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultLib, VaultSecret

    mdp = mot_de_passe or fichier_mot_de_passe()
    if mdp is None or not mdp.is_file():
        raise ErreurCoffre(
            "mot de passe du coffre introuvable : indiquez son fichier dans ARDOISE_COFFRE_MDP "
            "ou vault_password_file (ansible.cfg)"
        )
    secret = VaultSecret(mdp.read_bytes().strip())
    vault = VaultLib([("default", secret)])
    chiffres = textes_chiffres(fichier)
    resultat = {}
    for nom in noms:
        if nom not in chiffres:
            raise ErreurCoffre(f"secret « {nom} » absent du coffre {fichier.name}")
        try:
            valeur = vault.decrypt(chiffres[nom].encode()).decode()
        except AnsibleError:
            raise ErreurCoffre(
                f"impossible de déchiffrer « {nom} » : mot de passe du coffre incorrect"
            ) from None
        resultat[nom] = Secret(nom, valeur)
    return resultat
