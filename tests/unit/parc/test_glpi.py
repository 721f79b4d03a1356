"""The GLPI connector against the labelled stand-in (tests/doublures/glpi.py): session, ticket, no token leak."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from ardoise.erreurs import ErreurAuthentification
from ardoise.inventaire.chargeur import charger
from ardoise.parc.appareils import trouver
from ardoise.parc.glpi import STATUT_CLOS, ConnecteurGlpi
from ardoise.parc.incidents import clore, mettre_a_jour, ouvrir
from ardoise.resultats.magasin import Magasin
from ardoise.secrets import Secret
from tests.doublures.glpi import GlpiDoublure

USER, APP = "jeton-utilisateur-tres-secret-0123", "jeton-application-tres-secret-4567"


@pytest.fixture(scope="module")
def territoire():
    from tests.aide_parc import RACINE

    return charger(RACINE / "inventaire")


def test_incident_cree_mis_a_jour_clos_dans_glpi(territoire, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    magasin = Magasin(f"sqlite:///{tmp_path}/r.sqlite")
    eq = trouver(territoire, "pc-jean-jaures-02")
    with GlpiDoublure(USER, APP) as g:
        connecteur = ConnecteurGlpi(g.url, Secret("glpi_user", USER), Secret("glpi_app", APP), entite=3)
        i, avert = ouvrir(
            magasin, territoire, eq, "écran noir au démarrage", jour=dt.date(2026, 11, 1), glpi=connecteur
        )
        assert avert == [] and i["glpi_id"] in g.tickets
        ticket = g.tickets[i["glpi_id"]]
        assert (
            ticket["name"].startswith("[Ardoise] pc-jean-jaures-02")
            and ticket["type"] == 1
            and ticket["status"] == 1
        )
        assert ticket["entities_id"] == 3
        assert (
            "contrat de maintenance" in ticket["content"] and "PC11001B" in ticket["content"]
        )  # warranty ended 2025
        i, avert = mettre_a_jour(magasin, i["id"], note="carte mère commandée", reference="ANS-4512",
                                 statut="en_cours", glpi=connecteur)  # fmt: skip
        assert avert == [] and g.tickets[i["glpi_id"]]["status"] == 2
        assert g.suivis[-1]["items_id"] == i["glpi_id"] and "carte mère commandée" in g.suivis[-1]["content"]
        i, avert = clore(magasin, i["id"], "carte mère remplacée", glpi=connecteur)
        assert avert == [] and i["statut"] == "clos" and g.tickets[i["glpi_id"]]["status"] == STATUT_CLOS
        assert g.solutions[-1]["content"] == "carte mère remplacée"
        # every exchange opened a session with the user token, then killed it
        inits = [r for r in g.requetes if r["chemin"].endswith("/initSession")]
        assert len(inits) == 3 and all(r["entetes"]["Authorization"] == f"user_token {USER}" for r in inits)
        assert all(r["entetes"]["App-Token"] == APP for r in g.requetes)
        assert len(g.sessions_fermees) == 3 and not g.sessions
    sortie = capsys.readouterr()
    tout = caplog.text + sortie.out + sortie.err + json.dumps(i, default=str)
    assert USER not in tout and APP not in tout


def test_jeton_refuse_message_francais_sans_jeton(territoire, tmp_path):
    with GlpiDoublure(USER, APP) as g:
        mauvais = "mauvais-jeton-utilisateur-9876"
        c = ConnecteurGlpi(g.url, Secret("glpi_user", mauvais), Secret("glpi_app", APP))
        with pytest.raises(ErreurAuthentification) as e:
            with c:
                pass
        assert "jeton utilisateur GLPI refusé" in str(e.value) and mauvais not in str(e.value)
        # the incident is still recorded in Ardoise, with a warning
        magasin = Magasin(f"sqlite:///{tmp_path}/r.sqlite")
        i, avert = ouvrir(
            magasin, territoire, trouver(territoire, "pc-jean-jaures-02"), "ne démarre plus", glpi=c
        )
        assert i["glpi_id"] is None and "pas envoyé à GLPI" in avert[0] and mauvais not in avert[0]
