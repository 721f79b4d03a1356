"""One test per validation rule: a broken copy of the example territory, and the exact problem.

Each case edits one file with a text replacement, then checks the rule id, the file (as printed),
the line and column, the gravity, a fragment of the French message and that a fix is proposed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.chargeur import valider
from ardoise.inventaire.problemes import Probleme
from ardoise.profils.resolution import resoudre
from tests.unit.inventaire.bac_inventaire import (
    CATALOGUE,
    DEPOT,
    JEAN_JAURES,
    LES_PINS,
    TERRITOIRE,
    TILLEULS,
    Bac,
    problemes_de,
    profil,
    unique,
)


@dataclass(frozen=True)
class Cas:
    """Replace ``ancien`` by ``nouveau`` in ``fichier``; expect one ``regle`` problem at ``ou``."""

    id: str
    fichier: str
    ancien: str
    nouveau: str
    regle: str
    ou: str  # text whose first character is where the problem must point (after ``apres``)
    message: str  # French fragment of the message
    colonne: bool = True  # also check the column
    apres: str | None = None
    gravite: str = "erreur"


def verifier(bac: Bac, cas: Cas, problemes: list[Probleme]) -> Probleme:
    p = unique(problemes, cas.regle, cas.fichier)
    assert p.ligne == bac.ligne(cas.fichier, cas.ou, cas.apres), p.texte()
    if cas.colonne:
        assert p.colonne == bac.colonne(cas.fichier, cas.ou, cas.apres), p.texte()
    assert p.gravite == cas.gravite
    assert cas.message in p.message, p.texte()
    assert p.correction.strip(), p.texte()
    return p


def lancer(bac: Bac, cas: Cas) -> Probleme:
    bac.remplacer(cas.fichier, cas.ancien, cas.nouveau)
    territoire, problemes = bac.valider()
    if cas.gravite == "erreur":
        assert territoire is None
    return verifier(bac, cas, problemes)


# ------------------------------------------------------------------ schema: one file at a time ----

SCHEMA = [
    Cas(
        "cle-inconnue",
        JEAN_JAURES,
        "\nadresse:\n  rue:",
        "\nadrese:\n  rue:",
        "cle-inconnue",
        "adrese:",
        "clé inconnue « adrese » (vouliez-vous dire « adresse » ?)",
    ),
    Cas(
        "cle-inconnue-imbriquee",
        JEAN_JAURES,
        "  modele: HP ProDesk 400 G9\n  os: windows\n  profil: pc-direction",
        "  modle: HP ProDesk 400 G9\n  os: windows\n  profil: pc-direction",
        "cle-inconnue",
        "modle:",
        "(vouliez-vous dire « modele » ?)",
    ),
    Cas(
        "cle-obligatoire",
        JEAN_JAURES,
        "  modele: HP ProDesk 400 G9\n  os: windows\n  profil: pc-direction",
        "  os: windows\n  profil: pc-direction",
        "cle-absente",
        "nom: pc-jean-jaures-01",
        "clé obligatoire « modele » absente",
    ),
    Cas(
        "type-entier",
        JEAN_JAURES,
        "niveau: CM1\n  enseignant: Mme Durand\n  effectif: 23",
        "niveau: CM1\n  enseignant: Mme Durand\n  effectif: vingt-trois",
        "type",
        "vingt-trois",
        "« effectif » doit être un nombre entier, pas le texte « vingt-trois »",
    ),
    Cas(
        "type-liste",
        TERRITOIRE,
        "  ntp: [ntp.coteaux.example]",
        "  ntp: ntp.coteaux.example",
        "type",
        "ntp.coteaux.example",
        "« ntp » doit être une liste",
    ),
    Cas(
        "enum",
        JEAN_JAURES,
        "type: groupe_scolaire",
        "type: groupe_scolair",
        "valeur-inconnue",
        "groupe_scolair",
        "valeur « groupe_scolair » inconnue pour « type » (vouliez-vous dire « groupe_scolaire » ?)",
    ),
    Cas(
        "enum-etat",
        JEAN_JAURES,
        "salle: direction\n  etat: en_service",
        "salle: direction\n  etat: en_servise",
        "valeur-inconnue",
        "en_servise",
        "(vouliez-vous dire « en_service » ?)",
    ),
    Cas(
        "ipv4",
        JEAN_JAURES,
        "adresse: 10.11.20.10",
        "adresse: 10.11.20.300",
        "ipv4",
        "10.11.20.300",
        "adresse IPv4 invalide « 10.11.20.300 »",
    ),
    Cas(
        "reseau-bits-hote",
        JEAN_JAURES,
        "reseau: 10.11.10.0/24",
        "reseau: 10.11.10.5/24",
        "reseau-ipv4",
        "10.11.10.5/24",
        "réseau IPv4 invalide « 10.11.10.5/24 »",
    ),
    Cas(
        "mac",
        JEAN_JAURES,
        "mac: 02:a0:0b:10:00:00",
        "mac: 02:a0:0b:10:00:zz",
        "mac",
        "02:a0:0b:10:00:zz",
        "adresse MAC invalide : « 02:a0:0b:10:00:zz »",
    ),
    Cas("uai-format", JEAN_JAURES, "uai: 0331101T", "uai: 033110T", "uai", "033110T", "code UAI invalide"),
    Cas(
        "uai-cle",
        JEAN_JAURES,
        "uai: 0331101T",
        "uai: 0331101A",
        "uai",
        "0331101A",
        "la lettre de contrôle devrait être « T »",
    ),
    Cas(
        "date-inexistante",
        JEAN_JAURES,
        "date_achat: '2024-07-10'\n  garantie:\n    fournisseur: manutan-collectivites\n"
        "    fin: '2028-07-10'\n    niveau: J+1 sur site\n  inventaire: INV-BEL-11000",
        "date_achat: 31/02/2024\n  garantie:\n    fournisseur: manutan-collectivites\n"
        "    fin: '2028-07-10'\n    niveau: J+1 sur site\n  inventaire: INV-BEL-11000",
        "date",
        "31/02/2024",
        "date invalide : « 31/02/2024 »",
    ),
    Cas(
        "date-illisible",
        TERRITOIRE,
        "    debut: 2025-01-01",
        "    debut: 2025-13-01",
        "date",
        "2025-13-01",
        "« debut » doit être une date",
    ),
    Cas(
        "siren",
        TERRITOIRE,
        'siren: "200043214"',
        'siren: "200043215"',
        "siren",
        '"200043215"',
        "SIREN invalide (clé de contrôle fausse)",
    ),
    Cas(
        "insee",
        TERRITOIRE,
        'insee: "33412"',
        'insee: "3341"',
        "format",
        '"3341"',
        "valeur « 3341 » invalide pour « insee »",
    ),
    Cas(
        "heure",
        TERRITOIRE,
        '      debut: "13:00"',
        '      debut: "25:00"',
        "heure",
        '"25:00"',
        "heure invalide : « 25:00 »",
    ),
    Cas(
        "hors-limites",
        JEAN_JAURES,
        "    adresse: 10.11.50.10\n    port: 8080",
        "    adresse: 10.11.50.10\n    port: 80800",
        "hors-limites",
        "80800",
        "valeur « 80800 » hors limites pour « port » (elle doit être inférieure ou égale à 65535)",
    ),
    Cas(
        "proxy-local-sans-adresse",
        TERRITOIRE,
        "    adresse: proxy.ecoles.coteaux.example\n",
        "",
        "proxy",
        "mode: local",
        "proxy sans adresse ou sans port",
    ),
]


@pytest.mark.parametrize("cas", SCHEMA, ids=[c.id for c in SCHEMA])
def test_schema(bac: Bac, cas: Cas) -> None:
    lancer(bac, cas)


def test_aucun_message_anglais_de_pydantic(bac: Bac) -> None:
    """pydantic's English wording never reaches the user, whatever the error."""
    bac.remplacer(JEAN_JAURES, "  effectif: 23", "  effectif: -3")
    bac.remplacer(JEAN_JAURES, "- ssid: CLASSE-JEAN-JAURES", "- ssid: ''")
    bac.remplacer(JEAN_JAURES, "\nnom: Groupe scolaire Jean-Jaurès", "\nnom: [a, b]")
    bac.remplacer(JEAN_JAURES, "  portable: true", "  portable: peut-etre")
    _, problemes = bac.valider()
    assert len(problemes) >= 4
    for p in problemes:
        for anglais in ("Input should", "Field required", "should be", "valid ", "Value error"):
            assert anglais not in p.message, p.texte()


# ------------------------------------------------------------------ cross-checks ---------------

ECOLE = [
    Cas(
        "nom-double-meme-ecole",
        JEAN_JAURES,
        "- nom: pc-jean-jaures-02",
        "- nom: pc-jean-jaures-01",
        "nom-double",
        "pc-jean-jaures-01",
        "nom d'hôte « pc-jean-jaures-01 » en double",
        apres="- nom: pc-jean-jaures-01",
    ),
    Cas(
        "mac-double-meme-ecole",
        JEAN_JAURES,
        "mac: 02:a0:0b:10:00:01",
        "mac: 02:a0:0b:10:00:00",
        "mac-double",
        "02:a0:0b:10:00:00",
        "adresse MAC « 02:a0:0b:10:00:00 » en double",
        apres="mac: 02:a0:0b:10:00:00",
    ),
    Cas(
        "serie-double-meme-ecole",
        JEAN_JAURES,
        "numero_serie: PC11001B",
        "numero_serie: PC11000A",
        "numero-serie-double",
        "PC11000A",
        "numéro de série « PC11000A » en double",
        apres="numero_serie: PC11000A",
    ),
    Cas(
        "ip-double-meme-ecole",
        JEAN_JAURES,
        "adresse: 10.11.10.12",
        "adresse: 10.11.10.11",
        "ip-double",
        "10.11.10.11",
        "adresse 10.11.10.11 en double",
        apres="adresse: 10.11.10.11",
    ),
    Cas(
        "ip-hors-vlan",
        JEAN_JAURES,
        "adresse: 10.11.10.12",
        "adresse: 10.11.20.12",
        "ip-hors-vlan",
        "10.11.20.12",
        "adresse 10.11.20.12 hors du réseau du VLAN 10 (10.11.10.0/24)",
    ),
    Cas(
        "ip-hors-de-tout-vlan",
        JEAN_JAURES,
        "  vlan: 20\n  adresse: 10.11.20.10",
        "  adresse: 10.200.0.10",
        "ip-hors-vlan",
        "10.200.0.10",
        "adresse 10.200.0.10 hors de tout VLAN de l'école",
    ),
    Cas(
        "ip-egale-passerelle",
        JEAN_JAURES,
        "adresse: 10.11.10.12",
        "adresse: 10.11.10.1",
        "ip-double",
        "10.11.10.1",
        "identique à la passerelle du VLAN 10",
        apres="- nom: pc-jean-jaures-03",
    ),
    Cas(
        "passerelle-hors-reseau",
        JEAN_JAURES,
        "passerelle: 10.11.10.1",
        "passerelle: 10.11.11.1",
        "passerelle-hors-reseau",
        "10.11.11.1",
        "passerelle 10.11.11.1 hors du réseau 10.11.10.0/24",
    ),
    Cas(
        "dhcp-hors-reseau",
        JEAN_JAURES,
        "debut: 10.11.10.100",
        "debut: 10.11.11.100",
        "dhcp-hors-reseau",
        "10.11.11.100",
        "plage DHCP 10.11.11.100–10.11.10.199 hors du réseau 10.11.10.0/24",
    ),
    Cas(
        "dhcp-inverse",
        JEAN_JAURES,
        "fin: 10.11.10.199",
        "fin: 10.11.10.90",
        "dhcp-inverse",
        "10.11.10.90",
        "fin de plage DHCP avant son début",
    ),
    Cas(
        "statique-dans-dhcp",
        JEAN_JAURES,
        "adresse: 10.11.10.12",
        "adresse: 10.11.10.150",
        "dhcp-chevauche-statique",
        "10.11.10.150",
        "adresse fixe 10.11.10.150 dans la plage DHCP 10.11.10.100–10.11.10.199",
    ),
    Cas(
        "port-vlan-inconnu",
        JEAN_JAURES,
        "    vlan: 50\n    description: Serveur ecole",
        "    vlan: 55\n    description: Serveur ecole",
        "vlan-inconnu",
        "55",
        "port GigabitEthernet1/0/10 de sw-jean-jaures-1 dans le VLAN 55, non déclaré",
    ),
    Cas(
        "port-trunk-vlan-inconnu",
        JEAN_JAURES,
        "    - 40\n    - 99\n    vlan_natif: 99\n    description: Borne Wi-Fi 2",
        "    - 40\n    - 98\n    vlan_natif: 99\n    description: Borne Wi-Fi 2",
        "vlan-inconnu",
        "98",
        "dans le VLAN 98, non déclaré",
    ),
    Cas(
        "ssid-vlan-inconnu",
        JEAN_JAURES,
        "- ssid: CLASSE-JEAN-JAURES\n  vlan: 30",
        "- ssid: CLASSE-JEAN-JAURES\n  vlan: 35",
        "vlan-inconnu",
        "35",
        "le SSID « CLASSE-JEAN-JAURES » utilise le VLAN 35, non déclaré",
    ),
    Cas(
        "poste-vlan-inconnu",
        JEAN_JAURES,
        "  vlan: 20\n  adresse: 10.11.20.10",
        "  vlan: 21\n  adresse: 10.11.20.10",
        "vlan-inconnu",
        "21",
        "VLAN 21 non déclaré dans l'école",
        apres="- nom: pc-jean-jaures-01",
    ),
    Cas(
        "psk-manquant",
        JEAN_JAURES,
        "  psk:\n    coffre: wifi_0331101t_invites\n",
        "",
        "psk-manquant",
        "ssid: INVITES-JEAN-JAURES",
        "le SSID « INVITES-JEAN-JAURES » (wpa2-psk) n'a pas de clé",
    ),
    Cas(
        "profil-inconnu",
        JEAN_JAURES,
        "profil: pc-direction",
        "profil: pc-directoin",
        "profil-inconnu",
        "pc-directoin",
        "profil « pc-directoin » inconnu (vouliez-vous dire « pc-direction » ?)",
    ),
    Cas(
        "profil-mauvais-type",
        JEAN_JAURES,
        "profil: pc-direction",
        "profil: tablette-android",
        "profil-type",
        "tablette-android",
        "le profil « tablette-android » n'est pas prévu pour un appareil de type pc",
    ),
    Cas(
        "surcharge-profil-inconnu",
        JEAN_JAURES,
        "profils:\n  pc-eleve:",
        "profils:\n  pc-elev:",
        "profil-inconnu",
        "pc-elev:",
        "profil « pc-elev » inconnu (vouliez-vous dire « pc-eleve » ?)",
    ),
    Cas(
        "application-surcharge",
        JEAN_JAURES,
        "    - tuxmath",
        "    - tuxmaths",
        "application-inconnue",
        "tuxmaths",
        "application « tuxmaths » absente du catalogue (vouliez-vous dire « tuxmath » ?)",
    ),
    Cas(
        "application-demande",
        JEAN_JAURES,
        "application: geogebra",
        "application: geogebre",
        "application-inconnue",
        "geogebre",
        "application « geogebre » absente du catalogue (vouliez-vous dire « geogebra » ?)",
    ),
    Cas(
        "salle-inconnue",
        JEAN_JAURES,
        "salle: direction",
        "salle: directoin",
        "salle-inconnue",
        "directoin",
        "salle « directoin » inconnue (vouliez-vous dire « direction » ?)",
    ),
    Cas(
        "classe-inconnue-demande",
        JEAN_JAURES,
        "classe: cm2-a\n  application: geogebra",
        "classe: cm2-b\n  application: geogebra",
        "classe-inconnue",
        "cm2-b",
        "classe « cm2-b » inconnue",
    ),
    Cas(
        "classe-inconnue-poste",
        JEAN_JAURES,
        "  classe: ps-a\n  etat: atelier\n  vlan: 10\n  adresse: 10.11.10.12",
        "  classe: zz-a\n  etat: atelier\n  vlan: 10\n  adresse: 10.11.10.12",
        "classe-inconnue",
        "zz-a",
        "classe « zz-a » inconnue",
    ),
    Cas(
        "coffre-inconnu-ecole",
        JEAN_JAURES,
        "coffre: wifi_0331101t_classe",
        "coffre: wifi_0331101t_clase",
        "coffre-inconnu",
        "wifi_0331101t_clase",
        "secret « wifi_0331101t_clase » absent du coffre",
    ),
    Cas(
        "garantie-avant-achat",
        JEAN_JAURES,
        "    fin: '2028-07-10'\n    niveau: J+1 sur site\n  inventaire: INV-BEL-11000",
        "    fin: '2020-07-10'\n    niveau: J+1 sur site\n  inventaire: INV-BEL-11000",
        "garantie-avant-achat",
        "'2020-07-10'",
        "fin de garantie (2020-07-10) avant l'achat (2024-07-10)",
    ),
    Cas(
        "borne-inconnue-commutateur",
        JEAN_JAURES,
        "  commutateur: sw-jean-jaures-1\n  port: GigabitEthernet1/0/22",
        "  commutateur: sw-jean-jaures-9\n  port: GigabitEthernet1/0/22",
        "commutateur-inconnu",
        "sw-jean-jaures-9",
        "commutateur « sw-jean-jaures-9 » inconnu",
    ),
    Cas(
        "liaison-montante-inconnue",
        JEAN_JAURES,
        "liaison_montante: GigabitEthernet1/0/24",
        "liaison_montante: GigabitEthernet1/0/25",
        "port-inconnu",
        "GigabitEthernet1/0/25",
        "liaison montante « GigabitEthernet1/0/25 » : port non déclaré",
    ),
    Cas(
        "port-sans-vlan",
        JEAN_JAURES,
        "    vlan: 50\n    description: Serveur ecole",
        "    description: Serveur ecole",
        "port-sans-vlan",
        "- nom: GigabitEthernet1/0/10",
        "port d'accès GigabitEthernet1/0/10 sans VLAN",
        colonne=False,
    ),
    Cas(
        "vlan-double",
        JEAN_JAURES,
        "- id: 99\n  nom: GESTION",
        "- id: 50\n  nom: GESTION",
        "vlan-double",
        "50",
        "VLAN 50 déclaré deux fois (déjà déclaré ligne ",
        apres="passerelle: 10.11.50.1",
    ),
    Cas(
        "demande-double",
        JEAN_JAURES,
        "- id: d-11-02",
        "- id: d-11-01",
        "demande-double",
        "d-11-01",
        "demande « d-11-01 » en double",
        apres="- id: d-11-01",
    ),
]


@pytest.mark.parametrize("cas", ECOLE, ids=[c.id for c in ECOLE])
def test_verifications_ecole(bac: Bac, cas: Cas) -> None:
    lancer(bac, cas)


def test_reseaux_chevauchants(bac: Bac) -> None:
    bac.remplacer(JEAN_JAURES, "reseau: 10.11.99.0/24", "reseau: 10.11.0.0/16")
    _, problemes = bac.valider()
    trouves = problemes_de(problemes, "reseaux-chevauchants", JEAN_JAURES)
    assert trouves
    ligne = bac.ligne(JEAN_JAURES, "10.11.0.0/16")
    assert {p.ligne for p in trouves} == {ligne}
    assert any("le réseau 10.11.0.0/16 chevauche 10.11.10.0/24 (VLAN 10)" in p.message for p in trouves)
    assert all(p.correction for p in trouves)


# Duplicates across two schools: the problem is in the second file and names the first one.
DOUBLONS_ENTRE_ECOLES = [
    (
        "nom-double",
        "- nom: pc-les-tilleuls-01",
        "- nom: pc-jean-jaures-01",
        "pc-jean-jaures-01",
        "nom d'hôte « pc-jean-jaures-01 » en double",
    ),
    (
        "mac-double",
        "mac: 02:a0:0c:10:00:00",
        "mac: 02:a0:0b:10:00:00",
        "02:a0:0b:10:00:00",
        "adresse MAC « 02:a0:0b:10:00:00 » en double",
    ),
    (
        "numero-serie-double",
        "numero_serie: PC12000A",
        "numero_serie: PC11000A",
        "PC11000A",
        "numéro de série « PC11000A » en double",
    ),
]


@pytest.mark.parametrize(
    ("regle", "ancien", "nouveau", "valeur", "message"),
    DOUBLONS_ENTRE_ECOLES,
    ids=[d[0] for d in DOUBLONS_ENTRE_ECOLES],
)
def test_doublons_entre_ecoles(
    bac: Bac, regle: str, ancien: str, nouveau: str, valeur: str, message: str
) -> None:
    bac.remplacer(TILLEULS, ancien, nouveau)
    _, problemes = bac.valider()
    p = unique(problemes, regle)
    assert p.fichier == TILLEULS
    assert (p.ligne, p.colonne) == (bac.ligne(TILLEULS, valeur), bac.colonne(TILLEULS, valeur))
    assert message in p.message
    assert f"{JEAN_JAURES}, ligne {bac.ligne(JEAN_JAURES, valeur)}" in p.message, p.texte()
    assert p.correction


def test_ip_double_entre_ecoles(bac: Bac) -> None:
    """Across schools a reused address is a warning (NAT'd schools may reuse private ranges)."""
    bac.remplacer(LES_PINS, "reseau: 10.31.20.0/24", "reseau: 10.11.20.0/24")
    bac.remplacer(LES_PINS, "passerelle: 10.31.20.1", "passerelle: 10.11.20.1")
    texte = bac.lire(LES_PINS).replace("adresse: 10.31.20.", "adresse: 10.11.20.")
    texte = texte.replace("debut: 10.31.20.", "debut: 10.11.20.").replace("fin: 10.31.20.", "fin: 10.11.20.")
    bac.ecrire(LES_PINS, texte)
    _, problemes = bac.valider()
    p = unique(problemes, "ip-double-territoire", LES_PINS)
    assert p.gravite == "avertissement"
    assert p.ligne == bac.ligne(LES_PINS, "adresse: 10.11.20.10")
    assert "adresse 10.11.20.10 déjà utilisée" in p.message
    assert "NAT" in p.correction
    territoire, _ = bac.valider()
    assert territoire is not None  # warnings alone keep the territory valid
    assert f"{JEAN_JAURES}, ligne {bac.ligne(JEAN_JAURES, 'adresse: 10.11.20.10')}" in p.message, p.texte()


def test_uai_double(bac: Bac) -> None:
    copie = "inventaire/communes/bellerive/ecoles/0331101t-zz-copie.yml"
    bac.ecrire(copie, bac.lire(JEAN_JAURES))
    _, problemes = bac.valider()
    p = unique(problemes, "uai-double")
    assert p.fichier == copie  # files are read in name order
    assert (p.ligne, p.colonne) == (bac.ligne(copie, "uai: 0331101T"), len("uai: ") + 1)
    assert (
        f"UAI « 0331101T » déjà utilisé par {JEAN_JAURES}, ligne {bac.ligne(JEAN_JAURES, 'uai:')}"
        in p.message
    )
    assert p.correction


# ------------------------------------------------------------------ territory, profiles --------

TERRITOIRE_PROFILS = [
    Cas(
        "commune-double",
        TERRITOIRE,
        "  - id: castelnau",
        "  - id: bellerive",
        "commune-double",
        "bellerive",
        "commune « bellerive » déclarée 2 fois (déjà déclarée ligne ",
        apres="  - id: saint-aubin",
    ),
    Cas(
        "fournisseur-inconnu",
        TERRITOIRE,
        "fournisseur: atelier-numerique-sud\n    objet: Maintenance curative",
        "fournisseur: atelier-numerique\n    objet: Maintenance curative",
        "fournisseur-inconnu",
        "atelier-numerique",
        "fournisseur « atelier-numerique » inconnu (vouliez-vous dire « atelier-numerique-sud » ?)",
        apres="id: maint-postes-2025",
    ),
    Cas(
        "contrat-commune-inconnue",
        TERRITOIRE,
        "communes: [saint-aubin, castelnau]",
        "communes: [saint-aubin, castelnaux]",
        "commune-inconnue",
        "castelnaux",
        "commune « castelnaux » inconnue",
    ),
    Cas(
        "contrat-dates-inversees",
        TERRITOIRE,
        "    fin: 2028-12-31",
        "    fin: 2024-12-31",
        "dates-inversees",
        "2024-12-31",
        "fin de contrat avant son début",
    ),
    Cas(
        "coffre-inconnu-territoire",
        TERRITOIRE,
        "auth: {coffre: snmp_auth}",
        "auth: {coffre: snmp_autth}",
        "coffre-inconnu",
        "snmp_autth",
        "secret « snmp_autth » absent du coffre",
    ),
    Cas(
        "application-profil",
        profil("pc-eleve"),
        "applications: [gcompris, tuxpaint]",
        "applications: [gcompris, tuxpaintt]",
        "application-inconnue",
        "tuxpaintt",
        "application « tuxpaintt » absente du catalogue (vouliez-vous dire « tuxpaint » ?)",
    ),
    Cas(
        "profil-parent-inconnu",
        profil("pc-eleve"),
        "herite_de: pc-base",
        "herite_de: pc-bas",
        "profil-parent-inconnu",
        "pc-bas",
        "profil parent « pc-bas » inconnu (vouliez-vous dire « pc-base » ?)",
    ),
    Cas(
        "licences-a-zero",
        CATALOGUE,
        "    licences: 20",
        "    licences: 0",
        "licences-depassees",
        "0",
        "licences dépassées pour « book-creator »",
        apres="id: book-creator",
    ),
    Cas(
        "politique-ecole-invalide",
        JEAN_JAURES,
        "  proxy:\n    mode: local\n    adresse: 10.11.50.10",
        "  proxy:\n    mode: locale\n    adresse: 10.11.50.10",
        "valeur-inconnue",
        "locale",
        "valeur « locale » inconnue pour « mode » (vouliez-vous dire « local » ?)",
    ),
    Cas(
        "politique-ecole-cle-inconnue",
        JEAN_JAURES,
        "politique:\n  dns:",
        "politique:\n  dnss:",
        "cle-inconnue",
        "dnss:",
        "clé inconnue « dnss » (vouliez-vous dire « dns » ?)",
    ),
    Cas(
        "politique-commune-invalide",
        TERRITOIRE,
        '          debut: "14:00"',
        '          debut: "14h00"',
        "heure",
        '"14h00"',
        "heure invalide : « 14h00 »",
    ),
    Cas(
        "coffre-inconnu-politique-ecole",
        JEAN_JAURES,
        "politique:\n  dns:",
        "politique:\n  snmp:\n    utilisateur: supervision\n    auth: {coffre: snmp_ecole}\n"
        "    priv: {coffre: snmp_priv}\n  dns:",
        "coffre-inconnu",
        "snmp_ecole",
        "secret « snmp_ecole » absent du coffre",
    ),
]


@pytest.mark.parametrize("cas", TERRITOIRE_PROFILS, ids=[c.id for c in TERRITOIRE_PROFILS])
def test_verifications_territoire_et_profils(bac: Bac, cas: Cas) -> None:
    lancer(bac, cas)


def test_politique_ecole_invalide_ne_touche_pas_les_autres_ecoles(bac: Bac) -> None:
    bac.remplacer(JEAN_JAURES, "    port: 8080", "    port: huit")
    _, problemes = bac.valider()
    assert {p.fichier for p in problemes} == {JEAN_JAURES}
    p = unique(problemes, "type")
    assert p.ligne == bac.ligne(JEAN_JAURES, "port: huit")


def test_coffre_inconnu_politique_commune(bac: Bac) -> None:
    """A commune's bad vault reference is reported once, in the territory file, not once per school."""
    bac.remplacer(
        TERRITOIRE,
        "        extensions_autorisees: [uBlock0@raymondhill.net, jid1-MnnxcxisBPnSXQ@jetpack]",
        "        extensions_autorisees: [uBlock0@raymondhill.net, jid1-MnnxcxisBPnSXQ@jetpack]\n"
        "      comptes:\n        mot_de_passe_administrateur: {coffre: admin_bellerive}",
    )
    _, problemes = bac.valider()
    p = unique(problemes, "coffre-inconnu")
    assert p.fichier == TERRITOIRE
    assert p.ligne == bac.ligne(TERRITOIRE, "{coffre: admin_bellerive}")
    assert "admin_bellerive" in p.message


def test_profil_cycle(bac: Bac) -> None:
    bac.remplacer(profil("pc-base"), "types: [pc]", "herite_de: pc-eleve\ntypes: [pc]")
    territoire, problemes = bac.valider()
    assert territoire is None
    cycles = problemes_de(problemes, "profil-cycle")
    assert {p.fichier for p in cycles} == {profil("pc-base"), profil("pc-eleve")}
    p = unique(problemes, "profil-cycle", profil("pc-base"))
    assert p.ligne == bac.ligne(profil("pc-base"), "herite_de: pc-eleve")
    assert "héritage circulaire" in p.message and "pc-base → pc-eleve → pc-base" in p.message
    assert p.correction
    # the profiles built on the cycle are not blamed for it
    assert not problemes_de(problemes, "profil-cycle", profil("pc-direction"))


def test_profil_sans_type(bac: Bac) -> None:
    bac.remplacer(profil("eni"), "types: [eni]\n", "")
    _, problemes = bac.valider()
    p = unique(problemes, "profil-sans-type", profil("eni"))
    assert "ne dit pas pour quels appareils" in p.message and p.correction


def test_licences_depassees_par_les_demandes(bac: Bac) -> None:
    """Approved teacher requests count against the licences bought, on devices that can install the app."""
    bac.remplacer(CATALOGUE, "    licences: 20", "    licences: 10")
    territoire, problemes = bac.valider()
    assert territoire is not None and not problemes  # 10 are used today: iPads and one Android tablet
    demande = (
        "- id: d-11-05\n  enseignant: Mme Robert\n  classe: {c}\n  application: book-creator\n"
        "  statut: approuvee\n  date: '2026-10-01'\n"
    )
    ajout = "".join(
        demande.replace("d-11-05", f"d-11-0{5 + i}").format(c=c) for i, c in enumerate(["ps-a", "cp-a"])
    )
    bac.remplacer(JEAN_JAURES, "profils:\n  pc-eleve:", ajout + "profils:\n  pc-eleve:")
    _, problemes = bac.valider()
    p = unique(problemes, "licences-depassees")
    assert p.fichier == CATALOGUE
    assert p.ligne == bac.ligne(CATALOGUE, "licences: 10")
    # ps-a: tablet + Android display, cp-a: tablet (its iPad already has it); the PCs do not count
    assert "13 appareils pour 10 licences" in p.message and p.correction


def test_commune_non_declaree(bac: Bac) -> None:
    orphelin = "inventaire/communes/nulle-part/ecoles/0339999x-orphelin.yml"
    bac.ecrire(orphelin, bac.lire(JEAN_JAURES))
    territoire, problemes = bac.valider()
    assert territoire is None
    p = unique(problemes, "commune-inconnue")
    assert (p.fichier, p.ligne) == (orphelin, 1)
    assert "dossier de commune « nulle-part » non déclaré dans territoire.yml" in p.message
    assert p.correction


def test_commune_double_signale_la_seconde(bac: Bac) -> None:
    bac.remplacer(TERRITOIRE, "  - id: castelnau", "  - id: bellerive")
    _, problemes = bac.valider()
    p = unique(problemes, "commune-double")
    premiere = bac.ligne(TERRITOIRE, "- id: bellerive")
    assert p.ligne == bac.ligne(TERRITOIRE, "- id: bellerive", apres="- id: saint-aubin")
    assert f"ligne {premiere}" in p.message


def test_coffre_secret_en_clair(bac: Bac) -> None:
    bac.ecrire("inventaire/coffre.yml", bac.lire("inventaire/coffre.yml") + "wifi_en_clair: motdepasse\n")
    territoire, problemes = bac.valider()
    p = unique(problemes, "coffre-en-clair")
    assert p.ligne == bac.ligne("inventaire/coffre.yml", "wifi_en_clair")
    assert "en clair" in p.message and "encrypt_string" in p.correction


# ------------------------------------------------------------------ the example, provenance ----


def test_exemple_valide_sans_aucun_probleme() -> None:
    territoire, problemes = valider(DEPOT / "inventaire")
    assert problemes == []
    assert territoire is not None
    terminaux = sum(len(e.modele.postes) for e in territoire.ecoles)
    assert terminaux >= 80
    assert len(territoire.ecoles) == 6


def _ecole(territoire, uai: str):
    return next(e for e in territoire.ecoles if e.uai == uai)


def test_provenance_le_plus_proche_l_emporte(bac: Bac) -> None:
    territoire, problemes = bac.valider()
    assert territoire is not None and not problemes
    assert territoire.provenance["proxy.adresse"] == "territoire"
    assert territoire.provenance["seuils.signatures_age_max_jours"] == "defaut"
    jj = _ecole(territoire, "0331101T")
    assert jj.politique.proxy.adresse == "10.11.50.10"
    assert jj.provenance["proxy.adresse"] == "ecole:0331101T"
    assert jj.provenance["proxy.contournement"] == "territoire"
    assert jj.politique.proxy.contournement == territoire.politique.proxy.contournement
    assert jj.provenance["navigateur.extensions_autorisees"] == "commune:bellerive"
    assert "jid1-MnnxcxisBPnSXQ@jetpack" in jj.politique.navigateur.extensions_autorisees
    assert jj.provenance["navigateur.recherche_securisee"] == "territoire"
    assert jj.provenance["seuils.signatures_age_max_jours"] == "defaut"
    pins = _ecole(territoire, "0333301J")
    assert pins.provenance["fenetres_maintenance"] == "commune:castelnau"
    assert [(p.debut, p.fin) for p in pins.politique.fenetres_maintenance] == [("14:00", "17:00")]
    assert pins.provenance["navigateur.extensions_autorisees"] == "territoire"


def test_provenance_ecole_l_emporte_sur_commune(bac: Bac) -> None:
    bac.remplacer(
        JEAN_JAURES, "politique:\n  dns:", "politique:\n  navigateur:\n    extensions_autorisees: []\n  dns:"
    )
    territoire, problemes = bac.valider()
    assert territoire is not None and not problemes
    jj = _ecole(territoire, "0331101T")
    assert jj.politique.navigateur.extensions_autorisees == []
    assert jj.provenance["navigateur.extensions_autorisees"] == "ecole:0331101T"
    tilleuls = _ecole(territoire, "0331102U")
    assert tilleuls.provenance["navigateur.extensions_autorisees"] == "commune:bellerive"


def test_resolution_profil_chaine_et_sources(bac: Bac) -> None:
    territoire, _ = bac.valider()
    assert territoire is not None
    # pc-jean-jaures-10: pc-eleve-primtux ← pc-eleve ← pc-base, classe cm2-a (request d-11-01 approved)
    eff = resoudre(territoire, "pc-jean-jaures-10")
    assert eff.chaine == ("pc-base", "pc-eleve", "pc-eleve-primtux")
    sources = {a.id: a.source for a in eff.applications}
    assert sources["firefox-esr"] == "profil:pc-base"
    assert sources["gcompris"] == "profil:pc-eleve"
    assert "tuxmath" in sources  # from pc-eleve-primtux, and from the school override of pc-eleve
    assert sources["geogebra"] == "demande:d-11-01 (M. Leroy)"
    assert eff.parametres["session_ephemere"] == (True, "profil:pc-eleve")
    assert eff.parametres["verrouillage_ecran_min"] == (10, "profil:pc-base")
    assert eff.parametres["chiffrement"] == (None, "defaut")
    assert eff.parametres["page_accueil"] == ("https://ent.coteaux.example/", "politique:territoire")
    # the school override adds tuxmath to pc-eleve
    eff = resoudre(territoire, "pc-jean-jaures-05")
    sources = {a.id: a.source for a in eff.applications}
    assert sources["tuxmath"] == "ecole:0331101T"
    assert next(a for a in eff.applications if a.id == "tuxmath").installation == "tuxmath"
    # pc-direction removes openboard inherited from pc-enseignant
    eff = resoudre(territoire, "pc-jean-jaures-01")
    assert eff.chaine == ("pc-base", "pc-enseignant", "pc-direction")
    assert "openboard" not in {a.id for a in eff.applications}
    assert eff.parametres["verrouillage_ecran_min"] == (5, "profil:pc-enseignant")
    assert eff.parametres["chromium"] == (True, "profil:pc-direction")


def test_resolution_demandes_accordees_seulement(bac: Bac) -> None:
    territoire, _ = bac.valider()
    assert territoire is not None
    # ps-a: d-11-02 scratch is only "demandee"; ms-a: d-11-03 audacity "refusee"; gs-a: d-11-04 "livree"
    ps = {a.id for a in resoudre(territoire, "pc-jean-jaures-11").applications}
    assert "scratch" not in ps
    ms = {a.id for a in resoudre(territoire, "pc-jean-jaures-12").applications}
    assert "audacity" not in ms
    gs = {a.id: a.source for a in resoudre(territoire, "tab-jean-jaures-03").applications}
    assert gs["book-creator"] == "demande:d-11-04 (M. Thomas)"
    assert (
        next(
            a for a in resoudre(territoire, "tab-jean-jaures-03").applications if a.id == "book-creator"
        ).installation
        == "net.redjumper.bookcreator"
    )
    # once approved, the request brings the app
    bac.remplacer(
        JEAN_JAURES, "application: audacity\n  statut: refusee", "application: audacity\n  statut: approuvee"
    )
    territoire, _ = bac.valider()
    ms = {a.id: a.source for a in resoudre(territoire, "pc-jean-jaures-12").applications}
    assert ms["audacity"] == "demande:d-11-03 (Mme Dubois)"


def test_resolution_poste_inconnu(bac: Bac) -> None:
    territoire, _ = bac.valider()
    with pytest.raises(ErreurUsage, match="vouliez-vous dire « pc-jean-jaures-01 »"):
        resoudre(territoire, "pc-jean-jaure-01")


def test_vlan_double_nomme_la_premiere_declaration(bac: Bac) -> None:
    bac.remplacer(JEAN_JAURES, "- id: 99\n  nom: GESTION", "- id: 50\n  nom: GESTION")
    _, problemes = bac.valider()
    p = unique(problemes, "vlan-double")
    assert p.ligne == bac.ligne(JEAN_JAURES, "- id: 50", apres="passerelle: 10.11.50.1")
    assert p.message == f"VLAN 50 déclaré deux fois (déjà déclaré ligne {bac.ligne(JEAN_JAURES, '- id: 50')})"


# ------------------------------------------------------------------ robustness of the messages --


def test_cle_de_dictionnaire_invalide(bac: Bac) -> None:
    bac.remplacer(
        JEAN_JAURES, "profils:\n  pc-eleve:", "profils:\n  2024-01-01:\n    ajouter: [vlc]\n  pc-eleve:"
    )
    _, problemes = bac.valider()
    p = unique(problemes, "cle-invalide")
    assert (p.ligne, p.colonne) == (bac.ligne(JEAN_JAURES, "2024-01-01:"), 3)
    assert p.message == "clé « 2024-01-01 » invalide" and p.correction


@pytest.mark.parametrize("cle", ["coffre", "profils"])
def test_chemin_avec_octet_nul(bac: Bac, cle: str) -> None:
    """Used to crash with ValueError (embedded null byte) when resolving the path."""
    ancien = {"coffre": "coffre: coffre.yml", "profils": "profils: ../profils_terminaux"}[cle]
    bac.remplacer(TERRITOIRE, ancien, f'{cle}: "a\\0b\\e[2J"')
    territoire, problemes = bac.valider()
    assert territoire is None
    p = unique(problemes, "chemin")
    assert p.ligne == bac.ligne(TERRITOIRE, f'{cle}: "a')
    assert p.message == "chemin invalide (caractère nul) : « a\\x00b\\x1b[2J »"  # escaped, not sent raw


def test_coffre_introuvable_sans_cascade(bac: Bac) -> None:
    bac.remplacer(TERRITOIRE, "coffre: coffre.yml", "coffre: cofre.yml")
    _, problemes = bac.valider()
    assert [p.regle for p in problemes] == ["coffre-absent"]
    assert problemes[0].ligne == bac.ligne(TERRITOIRE, "coffre: cofre.yml")


def test_catalogue_introuvable_sans_cascade(bac: Bac) -> None:
    bac.remplacer(TERRITOIRE, "profils: ../profils_terminaux", "profils: ../profil_terminaux")
    _, problemes = bac.valider()
    assert [p.regle for p in problemes] == ["catalogue-absent"]
    assert problemes[0].ligne == bac.ligne(TERRITOIRE, "profils: ../profil_terminaux")


def test_catalogue_invalide_sans_cascade(bac: Bac) -> None:
    bac.remplacer(CATALOGUE, "  - id: firefox-esr", "  - id: Firefox ESR")
    _, problemes = bac.valider()
    assert [(p.fichier, p.regle) for p in problemes] == [(CATALOGUE, "format")]
