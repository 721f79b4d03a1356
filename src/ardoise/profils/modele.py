"""Schema of ``profils_terminaux/``: the app catalogue and the profiles (one file each)."""

from __future__ import annotations

from pydantic import Field

from ardoise.inventaire.modele import Modele
from ardoise.inventaire.types import Identifiant, Os, Texte, TypePoste, Url


class Installation(Modele):
    """How an app is installed on each OS family; a missing entry means "not for that OS"."""

    debian: Texte | None = None
    flatpak: Texte | None = None
    winget: Texte | None = None
    msi: Url | None = None
    play: Texte | None = None
    appstore: Texte | None = None

    def pour_os(self, os: Os) -> str | None:
        """The install reference for ``os``, or None when the app does not exist there."""
        if os in (Os.debian, Os.primtux):
            return self.debian or self.flatpak
        if os is Os.windows:
            return self.winget or self.msi
        if os is Os.android:
            return self.play
        if os is Os.ipados:
            return self.appstore
        return None


class Application(Modele):
    id: Identifiant
    nom: Texte
    categorie: Texte
    licences: int | None = Field(default=None, ge=0)  # None: free / unlimited
    installation: Installation
    description: Texte | None = None


class FichierCatalogue(Modele):
    """``profils_terminaux/catalogue.yml``."""

    applications: list[Application] = Field(min_length=1)


class ParametresProfil(Modele):
    """Settings a profile may set; unset (None) values are inherited from the parent profile."""

    session_ephemere: bool | None = None  # shared PCs: the pupil session is reset at logout
    compte_eleve: bool | None = None
    navigation_privee: bool | None = None
    chromium: bool | None = None
    page_accueil: Url | None = None
    analyse_antivirus: Texte | None = Field(default=None, pattern=r"^(planifiee|sur_acces)$")
    verrouillage_ecran_min: int | None = Field(default=None, ge=1)
    chiffrement: bool | None = None  # Android: False skips encryption at enrolment
    applications_systeme: bool | None = None  # Android: leave system apps enabled
    restrictions: dict[Texte, bool] | None = None  # iPad restrictions (payload keys)
    proxy_impose: bool | None = None


class Profil(Modele):
    """``profils_terminaux/profils/<id>.yml``; the id is the file name."""

    nom: Texte
    description: Texte | None = None
    herite_de: Identifiant | None = None
    types: list[TypePoste] = []  # empty: inherited (a root profile must set it)
    applications: list[Identifiant] = []
    retirer: list[Identifiant] = []
    parametres: ParametresProfil = ParametresProfil()
