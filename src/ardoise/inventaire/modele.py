"""The manifest schema: frozen pydantic models, French keys, unknown keys refused.

These classes describe what a technician writes. They are validated once, at the edge, by
:mod:`ardoise.inventaire.chargeur`; nothing downstream re-validates or re-reads YAML.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ardoise.inventaire.types import (
    Administration,
    Chemin,
    CodePostal,
    Date,
    Etat,
    Heure,
    Identifiant,
    Insee,
    Jour,
    Mac,
    ModeProxy,
    NomHote,
    Os,
    Plateforme,
    RoleAtelier,
    RoleVlan,
    SecuriteWifi,
    Siren,
    StatutDemande,
    Texte,
    TypeEcole,
    TypeEquipement,
    TypePoste,
    Uai,
    Url,
)


class Modele(BaseModel):
    """Base of every manifest model: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class RefCoffre(Modele):
    """A reference to a secret in the territory vault, by name: ``{coffre: nom_du_secret}``."""

    coffre: Identifiant


# ---------------------------------------------------------------- policy (defaults) -------------


class Plage(Modele):
    jours: list[Jour] = Field(min_length=1)
    debut: Heure
    fin: Heure


class Proxy(Modele):
    mode: ModeProxy
    adresse: Texte | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    pac: Url | None = None
    contournement: list[Texte] = []

    @model_validator(mode="after")
    def _coherent(self) -> Proxy:
        if self.mode in (ModeProxy.local, ModeProxy.academique) and (not self.adresse or not self.port):
            raise ValueError("proxy_adresse")
        if self.mode is ModeProxy.pac and not self.pac:
            raise ValueError("proxy_pac")
        return self


class Filtrage(Modele):
    profil: Texte
    categories_bloquees: list[Texte] = Field(min_length=1)
    domaines_autorises: list[Texte] = []
    doh_bloque: bool = True
    conservation_journaux_jours: int = Field(default=365, ge=365)


class Antivirus(Modele):
    moteur: Texte = "clamav"
    miroir_signatures: Url
    age_max_signatures_jours: int = Field(default=3, ge=1)
    analyse: Texte = Field(default="planifiee", pattern=r"^(planifiee|sur_acces)$")
    heure_analyse: Heure = "12:30"


class Seuils(Modele):
    disque_libre_min_pct: int = Field(default=15, ge=1, le=90)
    disque_libre_critique_pct: int = Field(default=5, ge=0, le=90)
    decalage_horloge_max_s: float = Field(default=5, gt=0)
    mises_a_jour_securite_max: int = Field(default=0, ge=0)
    disponibilite_max_jours: int = Field(default=30, ge=1)
    batterie_sante_min_pct: int = Field(default=60, ge=1, le=100)
    signatures_age_max_jours: int = Field(default=3, ge=1)


class Ent(Modele):
    url: Url
    gar: Url | None = None


class Navigateur(Modele):
    page_accueil: Url | None = None  # defaults to the ENT
    recherche_securisee: bool = True
    extensions_autorisees: list[Texte] = []


class Technicien(Modele):
    compte: Identifiant = "technicien"
    cle_publique: Texte | None = None


class Comptes(Modele):
    administrateur: Identifiant = "admin-ecole"
    mot_de_passe_administrateur: RefCoffre
    eleve: Identifiant = "eleve"


class Snmp(Modele):
    utilisateur: Identifiant
    auth: RefCoffre
    priv: RefCoffre


class DepotPull(Modele):
    """The syndicat's git repository each PC configures itself from (ansible-pull, ``ardoise echelle``)."""

    url: Url
    branche: Texte = "main"
    # spread of a school's PCs after a maintenance window opens (systemd RandomizedDelaySec), in minutes
    delai_aleatoire_min: int = Field(default=30, ge=0, le=240)
    # workshop roles ansible-pull replays (tags of playbooks/atelier.yml); absent: all of them
    roles: list[RoleAtelier] | None = Field(default=None, min_length=1)


class Dpc(Modele):
    """The Android Enterprise device policy controller the territory enrols tablets with."""

    composant: Texte
    url_telechargement: Url
    fichier_apk: Chemin | None = None  # local path, relative to the inventory, to compute the checksum


class Tarif(Modele):
    """A unit price (euros TTC) of the price list, for a device type or one model of that type."""

    type: TypeEquipement
    modele: Texte | None = None  # empty: every model of the type without its own price
    prix: float = Field(ge=0)


class Glpi(Modele):
    """The GLPI the incidents are pushed to (REST API root, tokens in the vault)."""

    url: Url  # e.g. https://glpi.example.fr/apirest.php
    user_token: RefCoffre
    app_token: RefCoffre | None = None
    entite: int | None = Field(default=None, ge=0)  # entities_id of the tickets


DureeVie = Annotated[int, Field(ge=4, le=6)]


class Parc(Modele):
    """Fleet policy: renewal horizon (4 to 6 years), unit prices, ticketing."""

    duree_vie_ans: DureeVie = 5
    duree_vie_par_type: dict[TypeEquipement, DureeVie] = {}
    incidents_max: int = Field(default=3, ge=1)  # incidents in 24 months that bring renewal forward
    tarifs: list[Tarif] = []
    glpi: Glpi | None = None

    @model_validator(mode="after")
    def _tarifs_uniques(self) -> Parc:
        vus = set()
        for t in self.tarifs:
            if (t.type, t.modele) in vus:
                raise ValueError("tarif_double")
            vus.add((t.type, t.modele))
        return self


class Politique(Modele):
    """The settings a territory, a commune or a school may set; the nearest level wins."""

    domaine: Texte
    dns: list[IPv4Address] = Field(min_length=1)
    ntp: list[Texte] = Field(min_length=1)
    proxy: Proxy
    filtrage: Filtrage
    antivirus: Antivirus
    seuils: Seuils = Seuils()
    ent: Ent
    navigateur: Navigateur = Navigateur()
    technicien: Technicien = Technicien()
    comptes: Comptes
    fenetres_maintenance: list[Plage] = []
    zone_vacances: Texte = Field(default="A", pattern=r"^[ABC]$")
    mises_a_jour_auto: bool = True
    journald_max: Texte = "200M"
    syslog: list[Texte] = []
    snmp: Snmp | None = None
    banniere: Texte = "Acces reserve aux personnels autorises."
    depot_pull: DepotPull | None = None
    dpc: Dpc | None = None
    parc: Parc = Parc()


# ---------------------------------------------------------------- territory file ----------------


class Syndicat(Modele):
    nom: Texte
    siren: Siren
    courriel: Texte | None = None
    telephone: Texte | None = None


class Commune(Modele):
    id: Identifiant
    nom: Texte
    insee: Insee
    administration: Administration = Administration.syndicat
    contact: Texte | None = None
    politique: dict = {}  # partial Politique, validated once merged (see politique.py)


class Fournisseur(Modele):
    id: Identifiant
    nom: Texte
    telephone: Texte | None = None
    courriel: Texte | None = None


class ContratMaintenance(Modele):
    id: Identifiant
    fournisseur: Identifiant
    objet: Texte
    types: list[TypeEquipement] = Field(min_length=1)
    communes: list[Identifiant] = []  # empty: every commune
    debut: Date
    fin: Date
    niveau: Texte | None = None


class FichierTerritoire(Modele):
    """``inventaire/territoire.yml``."""

    syndicat: Syndicat
    politique: dict  # complete Politique, validated in politique.py with provenance
    communes: list[Commune] = Field(min_length=1)
    fournisseurs: list[Fournisseur] = []
    contrats_maintenance: list[ContratMaintenance] = []
    coffre: Chemin = "coffre.yml"
    profils: Chemin = "../profils_terminaux"


# ---------------------------------------------------------------- school file -------------------


class Adresse(Modele):
    rue: Texte
    code_postal: CodePostal
    ville: Texte


class Direction(Modele):
    nom: Texte
    courriel: Texte | None = None
    telephone: Texte | None = None


class Classe(Modele):
    id: Identifiant
    niveau: Texte
    enseignant: Texte | None = None
    effectif: int | None = Field(default=None, ge=0)


class Salle(Modele):
    id: Identifiant
    nom: Texte
    classe: Identifiant | None = None


class PlageDhcp(Modele):
    debut: IPv4Address
    fin: IPv4Address


class Vlan(Modele):
    id: int = Field(ge=1, le=4094)
    nom: Texte
    role: RoleVlan
    reseau: IPv4Network
    passerelle: IPv4Address
    dhcp: PlageDhcp | None = None


class Wifi(Modele):
    ssid: Texte = Field(min_length=1, max_length=32)
    vlan: int
    securite: SecuriteWifi
    psk: RefCoffre | None = None
    coupable: bool = False
    horaires: list[Plage] = []
    masque: bool = False
    bornes: list[NomHote] = []  # empty: every access point of the school


class Garantie(Modele):
    fournisseur: Texte
    fin: Date
    niveau: Texte | None = None


class PortCommutateur(Modele):
    nom: Texte
    mode: Texte = Field(pattern=r"^(acces|trunk)$")
    vlan: int | None = None
    vlans: list[int] = []
    vlan_natif: int | None = None
    description: Texte = ""
    bord: bool | None = None  # spanning-tree edge; default: true on access ports
    desactive: bool = False


class Gestion(Modele):
    adresse: IPv4Address
    port: int = Field(default=22, ge=1, le=65535)
    vlan: int


class Identifiants(Modele):
    utilisateur: Texte
    mot_de_passe: RefCoffre
    secret_enable: RefCoffre | None = None


class Commutateur(Modele):
    nom: NomHote
    plateforme: Plateforme
    modele: Texte
    numero_serie: Texte | None = None
    mac: Mac | None = None
    salle: Identifiant | None = None
    gestion: Gestion
    identifiants: Identifiants
    liaison_montante: Texte | None = None
    ports: list[PortCommutateur] = []
    etat: Etat = Etat.en_service
    date_achat: Date | None = None
    garantie: Garantie | None = None


class BorneWifi(Modele):
    nom: NomHote
    modele: Texte
    plateforme: Texte = "hostapd"
    numero_serie: Texte | None = None
    mac: Mac | None = None
    adresse: IPv4Address | None = None
    vlan: int | None = None
    commutateur: NomHote | None = None
    port: Texte | None = None
    salle: Identifiant | None = None
    etat: Etat = Etat.en_service
    date_achat: Date | None = None
    garantie: Garantie | None = None


class Serveur(Modele):
    nom: NomHote
    modele: Texte
    numero_serie: Texte | None = None
    mac: Mac | None = None
    os: Os = Os.debian
    adresse: IPv4Address
    vlan: int
    services: list[Texte] = []
    etat: Etat = Etat.en_service
    date_achat: Date | None = None
    garantie: Garantie | None = None


class Poste(Modele):
    """A terminal: PC, Android tablet, iPad or interactive display (ENI/VPI)."""

    nom: NomHote
    type: TypePoste
    modele: Texte
    os: Os
    profil: Identifiant
    numero_serie: Texte
    mac: Mac | None = None
    salle: Identifiant | None = None
    classe: Identifiant | None = None
    etat: Etat
    vlan: int | None = None
    adresse: IPv4Address | None = None
    date_achat: Date | None = None
    garantie: Garantie | None = None
    inventaire: Texte | None = None
    portable: bool = False
    notes: Texte | None = None


class DemandeApplication(Modele):
    id: Identifiant
    enseignant: Texte
    classe: Identifiant
    application: Identifiant
    statut: StatutDemande
    date: Date
    motif: Texte | None = None


class SurchargeProfil(Modele):
    """A school's changes to one profile's app list."""

    ajouter: list[Identifiant] = []
    retirer: list[Identifiant] = []


class Ecole(Modele):
    """``inventaire/communes/<commune>/ecoles/<uai>-<nom>.yml``."""

    uai: Uai
    nom: Texte
    type: TypeEcole
    adresse: Adresse
    direction: Direction | None = None
    classes: list[Classe] = []
    salles: list[Salle] = []
    vlans: list[Vlan] = Field(min_length=1)
    politique: dict = {}  # partial Politique, validated once merged
    wifi: list[Wifi] = []
    commutateurs: list[Commutateur] = []
    bornes_wifi: list[BorneWifi] = []
    serveur: Serveur | None = None
    postes: list[Poste] = []
    demandes: list[DemandeApplication] = []
    profils: dict[Identifiant, SurchargeProfil] = {}
