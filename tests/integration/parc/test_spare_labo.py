"""A spare swap whose spare ends up on a lab PC, prepared by the workshop path (``parc remplacer --preparer``).

The lab is built from the example's first school; its PCs carry the manifest's names and addresses. Here the
broken device is one of those lab PCs: the spare's hardware fields (serial, MAC, model…) move into that entry,
and the lab PC at that name and address plays the spare hardware now answering there (its emulated MAC stays the
lab's: the workshop reaches a PC by name and address, never by MAC). On a copy of the example territory, a PC of
the same commune is first put back in the reserve pool to serve as the spare.

When the atelier tests ran earlier in the session, the lab PC is already prepared: the swap's workshop pass is a
verification only (seconds); alone, it is a full preparation (minutes, see benchmarks/README.md « Atelier »).
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ardoise.inventaire.chargeur import charger, valider
from ardoise.parc.edition import Edition, fichier_ecole, mettre
from ardoise.parc.remplacement import CHAMPS_MATERIEL
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Echange, Evenement, Execution, Incident
from tests.aide_parc import copier_exemple

pytestmark = [pytest.mark.labo, pytest.mark.timeout(2400)]
RACINE = Path(__file__).resolve().parents[3]
ARDOISE = str(Path(sys.executable).parent / "ardoise")
SPARE = "pc-jean-jaures-14"


def test_spare_sur_un_pc_du_labo_prepare_par_l_atelier(labo, plan_labo, ecole_labo, tmp_path):
    victime = plan_labo.postes[0].nom
    inv = copier_exemple(tmp_path)
    t = charger(inv)
    p = next(x for x in ecole_labo.modele.postes if x.nom == victime)
    s = next(x for x in ecole_labo.modele.postes if x.nom == SPARE)
    assert (p.type, p.os, p.profil) == (s.type, s.os, s.profil)
    # the spare: a PC of the same commune put back in the reserve pool
    ed = Edition(inv)
    mettre(ed.poste(fichier_ecole(t, ecole_labo.uai), SPARE), "etat", "reserve")
    ed.ecrire()
    fichier = fichier_ecole(t, ecole_labo.uai)
    avant = fichier.read_text(encoding="utf-8")

    url = f"sqlite:///{tmp_path}/resultats.sqlite"
    env = {k: v for k, v in os.environ.items() if k not in ("ARDOISE_INVENTAIRE", "ARDOISE_BASE")}
    env["ARDOISE_COFFRE_MDP"] = str(RACINE / "inventaire" / "coffre-demo.mdp")
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # ansible-playbook of the venv
    debut = time.monotonic()
    r = subprocess.run(
        [ARDOISE, "parc", "remplacer", victime, "--par", SPARE, "--symptome", "écran noir au démarrage",
         "--preparer", "--labo", "--known-hosts", str(tmp_path / "known_hosts"), "--sans-glpi",
         "--inventaire", str(inv), "--base", url],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=2000,
    )  # fmt: skip
    duree = time.monotonic() - debut
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert f"spare « {victime} »" in r.stderr and ": prêt (exécution n°" in r.stderr

    # the manifest: only the two entries' hardware fields and states changed, and it validates
    apres = fichier.read_text(encoding="utf-8")
    modifiees = [x for x in difflib.ndiff(avant.splitlines(), apres.splitlines()) if x[:2] in ("- ", "+ ")]
    cles = {x[2:].split(":")[0].strip().lstrip("- ") for x in modifiees}
    assert "etat" in cles and {"numero_serie", "mac"} <= cles
    assert cles <= set(CHAMPS_MATERIEL) | {"etat", "fournisseur", "fin", "niveau"}, modifiees
    t2, problemes = valider(inv)
    assert t2 is not None, [x.texte() for x in problemes]
    nouveau = next(x for x in t2.ecole(ecole_labo.uai).modele.postes if x.nom == victime)
    assert (nouveau.numero_serie, nouveau.mac, nouveau.adresse) == (s.numero_serie, s.mac, p.adresse)

    # the store: the swap, with the workshop's verdict; the device is « pret »; the atelier run is there
    magasin = Magasin(url)
    assert magasin.etats([victime])[victime]["etat"] == "pret"
    with magasin.session() as session:
        echange = session.scalars(select(Echange)).one()
        assert (echange.poste, echange.spare) == (victime, SPARE)
        assert (echange.serie_spare, echange.serie_en_panne) == (s.numero_serie, p.numero_serie)
        prep = echange.details["preparation"]
        assert prep["etat"] == "pret" and prep["mode"] in ("verification", "preparation")
        ex = session.get(Execution, prep["execution_id"])
        assert ex.genre == "atelier" and ex.selection["postes"] == [victime]
        assert session.get(Incident, echange.incident_id).numero_serie == p.numero_serie
        evenement = session.scalars(select(Evenement).where(Evenement.action == "parc.preparer_spare")).one()
        assert evenement.resultat == "ok" and evenement.cible == victime
    print(f"parc : échange + atelier ({prep['mode']}) en {duree:.0f} s", file=sys.stderr)
