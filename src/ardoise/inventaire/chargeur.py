"""Read an inventory directory into a validated :class:`Territoire`, or every problem found.

The single way to read a manifest: the CLI, the Ansible inventory plugin, the lab and every engine
call :func:`charger` (or :func:`valider`). It never writes anything.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ardoise.erreurs import ErreurManifeste, ErreurUsage
from ardoise.inventaire import verifications
from ardoise.inventaire.modele import Ecole, FichierTerritoire
from ardoise.inventaire.politique import Niveau, resoudre
from ardoise.inventaire.problemes import Probleme, Problemes
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.traduction import chemin_erreur, regle, traduire
from ardoise.inventaire.yaml_sur import DocumentYaml, ErreurYaml, ValeurChiffree, lire
from ardoise.profils.modele import Application, FichierCatalogue, Profil

log = logging.getLogger(__name__)

FICHIER_TERRITOIRE = "territoire.yml"
VARIABLE_INVENTAIRE = "ARDOISE_INVENTAIRE"


def racine_inventaire(chemin: str | Path | None = None) -> Path:
    """The inventory directory: the argument, else ``$ARDOISE_INVENTAIRE``, else ``inventaire/``."""
    brut = chemin or os.environ.get(VARIABLE_INVENTAIRE) or "inventaire"
    p = Path(brut)
    if p.is_file() and p.name == FICHIER_TERRITOIRE:
        p = p.parent
    if not (p / FICHIER_TERRITOIRE).is_file():
        raise ErreurUsage(
            f"« {p} » n'est pas un inventaire Ardoise (pas de {FICHIER_TERRITOIRE}) ;"
            " donnez le dossier avec --inventaire ou ARDOISE_INVENTAIRE"
        )
    return p


def fichiers_sources(racine: Path) -> list[Path]:
    """Every file the loader reads, for cache keys (territory, schools, vault, profiles)."""
    fichiers = [racine / FICHIER_TERRITOIRE]
    fichiers += sorted((racine / "communes").glob("*/ecoles/*.yml"))
    for nom in ("coffre.yml",):
        if (racine / nom).is_file():
            fichiers.append(racine / nom)
    return fichiers


@dataclass
class Contexte:
    """What the loader keeps while it works: documents for locations, and the problems."""

    racine: Path
    problemes: Problemes
    documents: dict[str, DocumentYaml] = field(default_factory=dict)  # uai → school document
    documents_profils: dict[str, DocumentYaml] = field(default_factory=dict)
    document_catalogue: DocumentYaml | None = None
    document_territoire: DocumentYaml | None = None
    empreinte: hashlib._Hash = field(default_factory=hashlib.sha256)
    coffre_lu: bool = False  # the vault could be read: its secret names are known
    catalogue_lu: bool = False  # the app catalogue is valid: app and profile checks make sense

    def lire(self, chemin: Path, vault_permis: bool = False) -> DocumentYaml | None:
        try:
            doc = lire(chemin, vault_permis)
        except ErreurYaml as e:
            self.problemes.ajouter(chemin, (e.ligne, e.colonne), e.message, e.correction, "yaml")
            return None
        st = chemin.stat()
        self.empreinte.update(f"{chemin}:{st.st_mtime_ns}:{st.st_size}\n".encode())
        return doc

    def valider(self, modele: type[BaseModel], doc: DocumentYaml, prefixe: tuple = ()):
        donnees = doc.donnees
        for etape in prefixe:
            donnees = donnees[etape]
        try:
            return modele.model_validate(donnees)
        except ValidationError as e:
            for err in e.errors(include_url=False):
                message, correction, a_cle = traduire(err, modele)
                position = doc.position(prefixe + chemin_erreur(err), cle=a_cle)
                self.problemes.ajouter(doc.chemin, position, message, correction, regle(err))
            return None


def valider(chemin: str | Path | None = None) -> tuple[Territoire | None, list[Probleme]]:
    """Load and check everything; return the territory (None if any error) and every problem."""
    racine = racine_inventaire(chemin)
    ctx = Contexte(racine, Problemes(racine))
    # Loading allocates millions of small objects and frees almost none: the cyclic GC would run
    # hundreds of full passes for nothing (30 s → 16 s for 50,000 devices). Paused, then restored.
    gc_actif = gc.isenabled()
    gc.disable()
    try:
        territoire = _charger(ctx)
    finally:
        if gc_actif:
            gc.enable()
    problemes = ctx.problemes.tries()
    if ctx.problemes.erreurs:
        return None, problemes
    return territoire, problemes


def charger(chemin: str | Path | None = None) -> Territoire:
    """Load the territory or raise :class:`ErreurManifeste` carrying every problem."""
    territoire, problemes = valider(chemin)
    if territoire is None:
        raise ErreurManifeste(problemes)
    for p in problemes:
        log.warning("%s", p.texte())
    return territoire


def _charger(ctx: Contexte) -> Territoire | None:
    racine = ctx.racine
    doc = ctx.lire(racine / FICHIER_TERRITOIRE)
    if doc is None:
        return None
    ctx.document_territoire = doc
    fichier = ctx.valider(FichierTerritoire, doc)
    if fichier is None:
        return None
    niveau_t = Niveau("territoire", fichier.politique, doc, ("politique",))
    politique, provenance, erreurs = resoudre([niveau_t])
    for err in erreurs:
        ctx.problemes.ajouter(doc.chemin, err.position, err.message, err.correction, err.regle)
    niveaux_communes: dict[str, Niveau] = {}
    for i, commune in enumerate(fichier.communes):
        niveaux_communes[commune.id] = Niveau(
            f"commune:{commune.id}", commune.politique, doc, ("communes", i, "politique")
        )
        if politique is not None and commune.politique:
            for err in resoudre([niveau_t, niveaux_communes[commune.id]])[2]:
                if err.niveau.nom != "territoire":
                    ctx.problemes.ajouter(doc.chemin, err.position, err.message, err.correction, err.regle)
    noms_coffre = _lire_coffre(ctx, racine / fichier.coffre)
    applications, profils = _lire_profils(ctx, (racine / fichier.profils).resolve())
    ecoles = []
    ids_communes = {c.id for c in fichier.communes}
    for chemin in sorted((racine / "communes").glob("*/ecoles/*.yml")):
        commune = chemin.parent.parent.name
        if commune not in ids_communes:
            ctx.problemes.ajouter(
                chemin,
                (1, 1),
                f"dossier de commune « {commune} » non déclaré dans {FICHIER_TERRITOIRE}",
                f"ajoutez la commune « {commune} » à « communes: » ou déplacez ce fichier",
                "commune-inconnue",
            )
            continue
        doc_e = ctx.lire(chemin)
        if doc_e is None:
            continue
        ecole = ctx.valider(Ecole, doc_e)
        if ecole is None or politique is None:
            continue
        niveau_e = Niveau(f"ecole:{ecole.uai}", ecole.politique, doc_e, ("politique",))
        pol_e, prov_e, erreurs_e = resoudre([niveau_t, niveaux_communes[commune], niveau_e])
        for err in erreurs_e:
            if err.niveau is niveau_e:
                ctx.problemes.ajouter(chemin, err.position, err.message, err.correction, err.regle)
        if pol_e is None:
            continue
        if ecole.uai in ctx.documents:
            autre = ctx.documents[ecole.uai]
            ctx.problemes.ajouter(
                chemin,
                doc_e.position(("uai",)),
                f"UAI « {ecole.uai} » déjà utilisé par {ctx.problemes.nom(autre.chemin)}, ligne {autre.position(('uai',))[0]}",
                "chaque école a son propre UAI : corrigez l'un des deux fichiers",
                "uai-double",
            )
            continue
        ctx.documents[ecole.uai] = doc_e
        ecoles.append(EcoleChargee(ecole, commune, ctx.problemes.nom(chemin), pol_e, prov_e))
    if politique is None:
        return None
    territoire = Territoire(
        racine=racine.resolve(),
        syndicat=fichier.syndicat,
        politique=politique,
        provenance=provenance,
        communes=tuple(fichier.communes),
        fournisseurs=tuple(fichier.fournisseurs),
        contrats=tuple(fichier.contrats_maintenance),
        ecoles=tuple(ecoles),
        applications=applications,
        profils=profils,
        fichier_coffre=(racine / fichier.coffre).resolve(),
        noms_coffre=noms_coffre,
        empreinte=ctx.empreinte.hexdigest(),
    )
    verifications.verifier(territoire, ctx, fichier)
    return territoire


def _lire_coffre(ctx: Contexte, chemin: Path) -> frozenset[str]:
    """Names of the vault's secrets (values stay encrypted: ``nom: !vault |`` entries)."""
    if not chemin.is_file():
        ctx.problemes.ajouter(
            ctx.racine / FICHIER_TERRITOIRE,
            _position_cle(ctx, "coffre"),
            f"coffre « {chemin.name} » introuvable",
            "créez-le avec « ardoise-vault » ou corrigez la clé « coffre: »",
            "coffre-absent",
        )
        return frozenset()
    doc = ctx.lire(chemin, vault_permis=True)
    if doc is None:
        return frozenset()
    if not isinstance(doc.donnees, dict):
        ctx.problemes.ajouter(
            chemin,
            (1, 1),
            "le coffre doit être un dictionnaire « nom: !vault | … »",
            "chiffrez chaque secret avec ansible-vault encrypt_string",
            "coffre-format",
        )
        return frozenset()
    for nom, valeur in doc.donnees.items():
        if not isinstance(valeur, ValeurChiffree):
            ctx.problemes.ajouter(
                chemin,
                doc.position((nom,), cle=True),
                f"secret « {nom} » en clair dans le coffre",
                f"chiffrez-le : ansible-vault encrypt_string --name {nom}",
                "coffre-en-clair",
            )
    ctx.coffre_lu = True
    return frozenset(str(n) for n in doc.donnees)


def _position_cle(ctx: Contexte, cle: str) -> tuple[int, int]:
    """Where the territory file sets ``cle`` (its value), or 1:1 when the default is used."""
    doc = ctx.document_territoire
    if doc is None or not isinstance(doc.donnees, dict) or cle not in doc.donnees:
        return (1, 1)
    return doc.position((cle,))


def _lire_profils(ctx: Contexte, dossier: Path) -> tuple[dict[str, Application], dict[str, Profil]]:
    applications: dict[str, Application] = {}
    profils: dict[str, Profil] = {}
    catalogue = dossier / "catalogue.yml"
    if not catalogue.is_file():
        ctx.problemes.ajouter(
            ctx.racine / FICHIER_TERRITOIRE,
            _position_cle(ctx, "profils"),
            f"catalogue d'applications introuvable : {catalogue}",
            "corrigez la clé « profils: » du territoire",
            "catalogue-absent",
        )
        return applications, profils
    doc = ctx.lire(catalogue)
    if doc is not None:
        ctx.document_catalogue = doc
        fichier = ctx.valider(FichierCatalogue, doc)
        if fichier is not None:
            ctx.catalogue_lu = True
            for i, app in enumerate(fichier.applications):
                if app.id in applications:
                    ctx.problemes.ajouter(
                        catalogue,
                        doc.position(("applications", i, "id")),
                        f"application « {app.id} » déclarée deux fois",
                        "gardez une seule entrée par application",
                        "application-double",
                    )
                applications[app.id] = app
    for chemin in sorted((dossier / "profils").glob("*.yml")):
        doc_p = ctx.lire(chemin)
        if doc_p is None:
            continue
        profil = ctx.valider(Profil, doc_p)
        if profil is not None:
            profils[chemin.stem] = profil
            ctx.documents_profils[chemin.stem] = doc_p
    return applications, profils
