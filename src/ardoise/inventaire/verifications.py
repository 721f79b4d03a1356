"""Cross-checks over the whole territory, after each file passed its schema.

Each rule adds problems with a stable rule id, the file, the line and a French fix. Rules never
stop at the first problem.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ardoise.inventaire.modele import FichierTerritoire, RefCoffre
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.traduction import suggestion
from ardoise.inventaire.types import SECURITES_PSK
from ardoise.profils.resolution import CycleProfils, applications_de, chaine, types_profil

if TYPE_CHECKING:
    from ardoise.inventaire.chargeur import Contexte


def verifier(t: Territoire, ctx: Contexte, fichier: FichierTerritoire) -> None:
    """Run every cross-check; problems go to ``ctx.problemes``."""
    # without a readable catalogue (or vault), every reference to it would be reported: only the
    # missing file is
    profils_ok = _profils(t, ctx) if ctx.catalogue_lu else False
    _territoire(t, ctx, fichier)
    _uniques(t, ctx)
    for e in t.ecoles:
        _reseau(e, ctx)
        _references(t, e, ctx, profils_ok)
    if ctx.coffre_lu:
        _coffre(t, ctx)
    if profils_ok:
        _licences(t, ctx)


def _ajouter(
    ctx: Contexte,
    e: EcoleChargee,
    chemin: tuple,
    message: str,
    correction: str,
    regle: str,
    gravite: str = "erreur",
    cle: bool = False,
) -> None:
    doc = ctx.documents[e.uai]
    ctx.problemes.ajouter(doc.chemin, doc.position(chemin, cle=cle), message, correction, regle, gravite)


def _profils(t: Territoire, ctx: Contexte) -> bool:
    ok = True
    for nom, profil in t.profils.items():
        doc = ctx.documents_profils[nom]
        if profil.herite_de and profil.herite_de not in t.profils:
            ctx.problemes.ajouter(
                doc.chemin,
                doc.position(("herite_de",)),
                f"profil parent « {profil.herite_de} » inconnu{suggestion(profil.herite_de, list(t.profils))}",
                "profils existants : " + ", ".join(sorted(t.profils)),
                "profil-parent-inconnu",
            )
            ok = False
            continue
        try:
            chaine(t.profils, nom)
        except CycleProfils as c:
            boucle = str(c).split(" → ")
            if boucle[0] == boucle[-1]:  # reported on the profiles of the loop, not on those built on it
                ctx.problemes.ajouter(
                    doc.chemin,
                    doc.position(("herite_de",)),
                    f"héritage circulaire : {c}",
                    "un profil ne peut pas hériter de lui-même : corrigez « herite_de »",
                    "profil-cycle",
                )
            ok = False
            continue
        except KeyError:  # an ancestor has an unknown parent, reported on that ancestor
            ok = False
            continue
        for cle in ("applications", "retirer"):
            for i, app in enumerate(getattr(profil, cle)):
                if app not in t.applications:
                    ctx.problemes.ajouter(
                        doc.chemin,
                        doc.position((cle, i)),
                        f"application « {app} » absente du catalogue{suggestion(app, list(t.applications))}",
                        "ajoutez-la à profils_terminaux/catalogue.yml ou corrigez l'identifiant",
                        "application-inconnue",
                    )
    for nom in t.profils:
        try:
            if not types_profil(t.profils, nom):
                doc = ctx.documents_profils[nom]
                ctx.problemes.ajouter(
                    doc.chemin,
                    (1, 1),
                    f"le profil « {nom} » ne dit pas pour quels appareils il est",
                    "ajoutez « types: [pc] » (ou tablette, ipad, eni)",
                    "profil-sans-type",
                )
        except (CycleProfils, KeyError):
            pass
    return ok


def _territoire(t: Territoire, ctx: Contexte, fichier: FichierTerritoire) -> None:
    doc = ctx.document_territoire
    assert doc is not None
    fournisseurs = {f.id for f in fichier.fournisseurs}
    communes = {c.id for c in fichier.communes}
    ids_communes = [c.id for c in fichier.communes]
    for i, ident in enumerate(ids_communes):
        if ids_communes.index(ident) != i:
            ligne = doc.position(("communes", ids_communes.index(ident), "id"))[0]
            ctx.problemes.ajouter(
                doc.chemin,
                doc.position(("communes", i, "id")),
                f"commune « {ident} » déclarée {ids_communes.count(ident)} fois (déjà déclarée ligne {ligne})",
                "gardez une seule entrée par commune",
                "commune-double",
            )
    for i, c in enumerate(fichier.contrats_maintenance):
        if c.fournisseur not in fournisseurs:
            ctx.problemes.ajouter(
                doc.chemin,
                doc.position(("contrats_maintenance", i, "fournisseur")),
                f"fournisseur « {c.fournisseur} » inconnu{suggestion(c.fournisseur, sorted(fournisseurs))}",
                "déclarez-le dans « fournisseurs: »",
                "fournisseur-inconnu",
            )
        for j, com in enumerate(c.communes):
            if com not in communes:
                ctx.problemes.ajouter(
                    doc.chemin,
                    doc.position(("contrats_maintenance", i, "communes", j)),
                    f"commune « {com} » inconnue{suggestion(com, sorted(communes))}",
                    "communes : " + ", ".join(sorted(communes)),
                    "commune-inconnue",
                )
        if c.fin < c.debut:
            ctx.problemes.ajouter(
                doc.chemin,
                doc.position(("contrats_maintenance", i, "fin")),
                "fin de contrat avant son début",
                "corrigez les dates",
                "dates-inversees",
            )


def _objets_nommes(e: EcoleChargee) -> Iterator[tuple[tuple, Any, str]]:
    """(path, object, kind) for every named device of a school."""
    m = e.modele
    if m.serveur:
        yield ("serveur",), m.serveur, "serveur"
    for i, c in enumerate(m.commutateurs):
        yield ("commutateurs", i), c, "commutateur"
    for i, b in enumerate(m.bornes_wifi):
        yield ("bornes_wifi", i), b, "borne"
    for i, p in enumerate(m.postes):
        yield ("postes", i), p, "poste"


def _uniques(t: Territoire, ctx: Contexte) -> None:
    vus: dict[str, dict[Any, tuple[EcoleChargee, tuple]]] = defaultdict(dict)
    libelles = {"nom": "nom d'hôte", "mac": "adresse MAC", "numero_serie": "numéro de série"}
    for e in t.ecoles:
        for chemin, obj, _ in _objets_nommes(e):
            for attr, libelle in libelles.items():
                valeur = getattr(obj, attr, None)
                if valeur is None:
                    continue
                if valeur in vus[attr]:
                    autre_e, autre_chemin = vus[attr][valeur]
                    ligne = ctx.documents[autre_e.uai].position(autre_chemin + (attr,))[0]
                    _ajouter(
                        ctx,
                        e,
                        chemin + (attr,),
                        f"{libelle} « {valeur} » en double (déjà utilisé(e) dans "
                        f"{autre_e.fichier}, ligne {ligne})",
                        f"chaque appareil a son propre {libelle}",
                        f"{attr.replace('_', '-')}-double",
                    )
                else:
                    vus[attr][valeur] = (e, chemin)
    # across schools a duplicate is only a warning: many territories route one addressing plan (then
    # it is a mistake), but schools behind separate NAT boxes legitimately reuse the same private
    # ranges; duplicates inside one school are errors (reported by _reseau)
    adresses: dict[IPv4Address, tuple[EcoleChargee, tuple]] = {}
    for e in t.ecoles:
        for chemin, adresse, _ in _adresses(e):
            autre_e, autre_chemin = adresses.setdefault(adresse, (e, chemin))
            if autre_e is not e:
                ligne = ctx.documents[autre_e.uai].position(autre_chemin)[0]
                _ajouter(
                    ctx,
                    e,
                    chemin,
                    f"adresse {adresse} déjà utilisée dans {autre_e.fichier}, ligne {ligne}",
                    "si le plan d'adressage est commun au territoire, changez l'une des deux adresses ; "
                    "si ces écoles sont derrière des box NAT distinctes, cet avertissement peut être ignoré",
                    "ip-double-territoire",
                    gravite="avertissement",
                )


def _adresses(e: EcoleChargee) -> Iterator[tuple[tuple, IPv4Address, int | None]]:
    """(path to the address, address, declared VLAN) for every static address of a school."""
    m = e.modele
    if m.serveur:
        yield ("serveur", "adresse"), m.serveur.adresse, m.serveur.vlan
    for i, c in enumerate(m.commutateurs):
        yield ("commutateurs", i, "gestion", "adresse"), c.gestion.adresse, c.gestion.vlan
    for i, b in enumerate(m.bornes_wifi):
        if b.adresse:
            yield ("bornes_wifi", i, "adresse"), b.adresse, b.vlan
    for i, p in enumerate(m.postes):
        if p.adresse:
            yield ("postes", i, "adresse"), p.adresse, p.vlan


def _reseau(e: EcoleChargee, ctx: Contexte) -> None:
    m = e.modele
    ids = [v.id for v in m.vlans]
    for i, v in enumerate(m.vlans):
        if ids.index(v.id) != i:
            ligne = ctx.documents[e.uai].position(("vlans", ids.index(v.id), "id"))[0]
            _ajouter(
                ctx,
                e,
                ("vlans", i, "id"),
                f"VLAN {v.id} déclaré deux fois (déjà déclaré ligne {ligne})",
                "un identifiant par VLAN",
                "vlan-double",
            )
        if v.passerelle not in v.reseau:
            _ajouter(
                ctx,
                e,
                ("vlans", i, "passerelle"),
                f"passerelle {v.passerelle} hors du réseau {v.reseau}",
                f"choisissez une adresse dans {v.reseau}",
                "passerelle-hors-reseau",
            )
        if v.dhcp:
            if v.dhcp.debut not in v.reseau or v.dhcp.fin not in v.reseau:
                borne = "debut" if v.dhcp.debut not in v.reseau else "fin"
                _ajouter(
                    ctx,
                    e,
                    ("vlans", i, "dhcp", borne),
                    f"plage DHCP {v.dhcp.debut}–{v.dhcp.fin} hors du réseau {v.reseau}",
                    f"choisissez une plage dans {v.reseau}",
                    "dhcp-hors-reseau",
                )
            elif v.dhcp.fin < v.dhcp.debut:
                _ajouter(
                    ctx,
                    e,
                    ("vlans", i, "dhcp", "fin"),
                    "fin de plage DHCP avant son début",
                    "inversez « debut » et « fin »",
                    "dhcp-inverse",
                )
            elif v.dhcp.debut <= v.passerelle <= v.dhcp.fin:
                _ajouter(
                    ctx,
                    e,
                    ("vlans", i, "dhcp"),
                    f"la passerelle {v.passerelle} est dans la plage DHCP",
                    "sortez la passerelle de la plage",
                    "dhcp-chevauche-statique",
                )
        for w in m.vlans[:i]:
            if v.reseau.overlaps(w.reseau):
                _ajouter(
                    ctx,
                    e,
                    ("vlans", i, "reseau"),
                    f"le réseau {v.reseau} chevauche {w.reseau} (VLAN {w.id})",
                    "donnez à chaque VLAN un réseau distinct",
                    "reseaux-chevauchants",
                )
    vues: dict[IPv4Address, tuple] = {}
    for chemin, adresse, vlan_id in _adresses(e):
        if adresse in vues:
            ligne = ctx.documents[e.uai].position(vues[adresse])[0]
            _ajouter(
                ctx,
                e,
                chemin,
                f"adresse {adresse} en double (déjà utilisée ligne {ligne})",
                "chaque appareil a sa propre adresse",
                "ip-double",
            )
        vues.setdefault(adresse, chemin)
        vlan = e.vlan(vlan_id) if vlan_id is not None else e.vlan_de(adresse)
        if vlan_id is not None and vlan is None:
            _ajouter(
                ctx,
                e,
                chemin[:-1] + ("vlan",) if chemin[-1] == "adresse" else chemin[:-1] + ("vlan",),
                f"VLAN {vlan_id} non déclaré dans l'école",
                _vlans_connus(e),
                "vlan-inconnu",
            )
            continue
        if vlan is None:
            _ajouter(
                ctx,
                e,
                chemin,
                f"adresse {adresse} hors de tout VLAN de l'école",
                _vlans_connus(e),
                "ip-hors-vlan",
            )
            continue
        if adresse not in vlan.reseau:
            _ajouter(
                ctx,
                e,
                chemin,
                f"adresse {adresse} hors du réseau du VLAN {vlan.id} ({vlan.reseau})",
                f"choisissez une adresse dans {vlan.reseau} ou corrigez le VLAN",
                "ip-hors-vlan",
            )
        elif vlan.dhcp and vlan.dhcp.debut <= adresse <= vlan.dhcp.fin:
            _ajouter(
                ctx,
                e,
                chemin,
                f"adresse fixe {adresse} dans la plage DHCP {vlan.dhcp.debut}–{vlan.dhcp.fin}",
                "choisissez une adresse hors de la plage DHCP, ou réduisez la plage",
                "dhcp-chevauche-statique",
            )
        elif adresse == vlan.passerelle:
            _ajouter(
                ctx,
                e,
                chemin,
                f"adresse {adresse} identique à la passerelle du VLAN {vlan.id}",
                "choisissez une autre adresse",
                "ip-double",
            )
    for i, p in enumerate(m.postes):
        if p.vlan is not None and p.adresse is None and e.vlan(p.vlan) is None:
            _ajouter(
                ctx,
                e,
                ("postes", i, "vlan"),
                f"VLAN {p.vlan} non déclaré dans l'école",
                _vlans_connus(e),
                "vlan-inconnu",
            )
    _commutateurs(e, ctx)
    for i, w in enumerate(m.wifi):
        if e.vlan(w.vlan) is None:
            _ajouter(
                ctx,
                e,
                ("wifi", i, "vlan"),
                f"le SSID « {w.ssid} » utilise le VLAN {w.vlan}, non déclaré",
                _vlans_connus(e),
                "vlan-inconnu",
            )
        if w.securite in SECURITES_PSK and w.psk is None:
            _ajouter(
                ctx,
                e,
                ("wifi", i),
                f"le SSID « {w.ssid} » ({w.securite.value}) n'a pas de clé",
                "ajoutez « psk: {coffre: nom_du_secret} »",
                "psk-manquant",
            )
        bornes = {b.nom for b in m.bornes_wifi}
        for j, b in enumerate(w.bornes):
            if b not in bornes:
                _ajouter(
                    ctx,
                    e,
                    ("wifi", i, "bornes", j),
                    f"borne « {b} » inconnue",
                    "bornes : " + (", ".join(sorted(bornes)) or "aucune"),
                    "borne-inconnue",
                )


def _vlans_connus(e: EcoleChargee) -> str:
    return "VLAN déclarés : " + ", ".join(f"{v.id} ({v.nom}, {v.reseau})" for v in e.modele.vlans)


def _commutateurs(e: EcoleChargee, ctx: Contexte) -> None:
    m = e.modele
    noms = {c.nom: c for c in m.commutateurs}
    for i, c in enumerate(m.commutateurs):
        ports = {p.nom for p in c.ports}
        for j, p in enumerate(c.ports):
            vlans = [(("vlan",), p.vlan)] if p.vlan is not None else []
            vlans += [(("vlans", k), v) for k, v in enumerate(p.vlans)]
            vlans += [(("vlan_natif",), p.vlan_natif)] if p.vlan_natif is not None else []
            for cle, v in vlans:
                if e.vlan(v) is None:
                    _ajouter(
                        ctx,
                        e,
                        ("commutateurs", i, "ports", j) + cle,
                        f"port {p.nom} de {c.nom} dans le VLAN {v}, non déclaré",
                        _vlans_connus(e),
                        "vlan-inconnu",
                    )
            if p.mode == "acces" and p.vlan is None:
                _ajouter(
                    ctx,
                    e,
                    ("commutateurs", i, "ports", j),
                    f"port d'accès {p.nom} sans VLAN",
                    "ajoutez « vlan: N »",
                    "port-sans-vlan",
                )
        if c.liaison_montante and c.liaison_montante not in ports:
            _ajouter(
                ctx,
                e,
                ("commutateurs", i, "liaison_montante"),
                f"liaison montante « {c.liaison_montante} » : port non déclaré",
                "déclarez ce port dans « ports: »",
                "port-inconnu",
            )
        for j, p in enumerate(c.ports):
            if [q.nom for q in c.ports].count(p.nom) > 1 and [q.nom for q in c.ports].index(p.nom) != j:
                _ajouter(
                    ctx,
                    e,
                    ("commutateurs", i, "ports", j, "nom"),
                    f"port {p.nom} déclaré deux fois sur {c.nom}",
                    "une entrée par port",
                    "port-double",
                )
    for i, b in enumerate(m.bornes_wifi):
        if b.commutateur and b.commutateur not in noms:
            _ajouter(
                ctx,
                e,
                ("bornes_wifi", i, "commutateur"),
                f"commutateur « {b.commutateur} » inconnu",
                "commutateurs : " + (", ".join(sorted(noms)) or "aucun"),
                "commutateur-inconnu",
            )
        elif b.commutateur and b.port and b.port not in {p.nom for p in noms[b.commutateur].ports}:
            _ajouter(
                ctx,
                e,
                ("bornes_wifi", i, "port"),
                f"port « {b.port} » absent de {b.commutateur}",
                "déclarez ce port sur le commutateur",
                "port-inconnu",
            )


def _references(t: Territoire, e: EcoleChargee, ctx: Contexte, profils_ok: bool) -> None:
    m = e.modele
    salles = {s.id for s in m.salles}
    classes = {c.id for c in m.classes}

    def inconnu(nature: str, valeur: str, connus: set[str]) -> str:
        return f"{nature} « {valeur} » inconnue{suggestion(valeur, sorted(connus))}"

    ecrire_salles = "salles : " + (", ".join(sorted(salles)) or "aucune (ajoutez « salles: »)")
    ecrire_classes = "classes : " + (", ".join(sorted(classes)) or "aucune (ajoutez « classes: »)")
    for i, s in enumerate(m.salles):
        if s.classe and s.classe not in classes:
            _ajouter(
                ctx,
                e,
                ("salles", i, "classe"),
                inconnu("classe", s.classe, classes),
                ecrire_classes,
                "classe-inconnue",
            )
    for chemin, obj, _ in _objets_nommes(e):
        salle = getattr(obj, "salle", None)
        if salle and salle not in salles:
            _ajouter(
                ctx, e, chemin + ("salle",), inconnu("salle", salle, salles), ecrire_salles, "salle-inconnue"
            )
        g = getattr(obj, "garantie", None)
        achat = getattr(obj, "date_achat", None)
        if g and achat and g.fin < achat:
            _ajouter(
                ctx,
                e,
                chemin + ("garantie", "fin"),
                f"fin de garantie ({g.fin}) avant l'achat ({achat})",
                "corrigez la date d'achat ou de fin de garantie",
                "garantie-avant-achat",
            )
    for i, p in enumerate(m.postes):
        if p.classe and p.classe not in classes:
            _ajouter(
                ctx,
                e,
                ("postes", i, "classe"),
                inconnu("classe", p.classe, classes),
                ecrire_classes,
                "classe-inconnue",
            )
        if p.profil not in t.profils and ctx.catalogue_lu:
            _ajouter(
                ctx,
                e,
                ("postes", i, "profil"),
                f"profil « {p.profil} » inconnu{suggestion(p.profil, list(t.profils))}",
                "profils : " + ", ".join(sorted(t.profils)),
                "profil-inconnu",
            )
        elif profils_ok and p.type.value not in types_profil(t.profils, p.profil):
            _ajouter(
                ctx,
                e,
                ("postes", i, "profil"),
                f"le profil « {p.profil} » n'est pas prévu pour un appareil de type {p.type.value}",
                "choisissez un profil pour ce type : "
                + ", ".join(sorted(n for n in t.profils if p.type.value in types_profil(t.profils, n))),
                "profil-type",
            )
    for i, d in enumerate(m.demandes):
        if d.classe not in classes:
            _ajouter(
                ctx,
                e,
                ("demandes", i, "classe"),
                inconnu("classe", d.classe, classes),
                ecrire_classes,
                "classe-inconnue",
            )
        if d.application not in t.applications and ctx.catalogue_lu:
            _ajouter(
                ctx,
                e,
                ("demandes", i, "application"),
                f"application « {d.application} » absente du catalogue{suggestion(d.application, list(t.applications))}",
                "ajoutez-la au catalogue (profils_terminaux/catalogue.yml) avant de l'accorder",
                "application-inconnue",
            )
    ids = Counter(d.id for d in m.demandes)
    for i, d in enumerate(m.demandes):
        if ids[d.id] > 1 and [x.id for x in m.demandes].index(d.id) != i:
            _ajouter(
                ctx,
                e,
                ("demandes", i, "id"),
                f"demande « {d.id} » en double",
                "un identifiant par demande",
                "demande-double",
            )
    for nom, surcharge in m.profils.items():
        if nom not in t.profils and ctx.catalogue_lu:
            _ajouter(
                ctx,
                e,
                ("profils", nom),
                f"profil « {nom} » inconnu{suggestion(nom, list(t.profils))}",
                "profils : " + ", ".join(sorted(t.profils)),
                "profil-inconnu",
                cle=True,
            )
        for cle in ("ajouter", "retirer"):
            for j, app in enumerate(getattr(surcharge, cle)):
                if app not in t.applications and ctx.catalogue_lu:
                    _ajouter(
                        ctx,
                        e,
                        ("profils", nom, cle, j),
                        f"application « {app} » absente du catalogue{suggestion(app, list(t.applications))}",
                        "ajoutez-la au catalogue ou corrigez l'identifiant",
                        "application-inconnue",
                    )


def _refs(objet: Any, chemin: tuple = ()) -> Iterator[tuple[tuple, RefCoffre]]:
    if isinstance(objet, RefCoffre):
        yield chemin, objet
    elif isinstance(objet, BaseModel):
        for nom in type(objet).model_fields:
            yield from _refs(getattr(objet, nom), chemin + (nom,))
    elif isinstance(objet, list | tuple):
        for i, x in enumerate(objet):
            yield from _refs(x, chemin + (i,))
    elif isinstance(objet, dict):
        for k, x in objet.items():
            yield from _refs(x, chemin + (k,))


def _coffre(t: Territoire, ctx: Contexte) -> None:
    """Every ``{coffre: nom}`` names a secret of the vault."""
    message = "secret « {} » absent du coffre"
    correction = "ajoutez-le au coffre (ansible-vault encrypt_string --name {}) ou corrigez le nom"
    doc = ctx.document_territoire
    assert doc is not None
    signales: set[tuple[str, str]] = set()
    for chemin, ref in _refs(t.politique):
        if ref.coffre not in t.noms_coffre:
            ctx.problemes.ajouter(
                doc.chemin,
                doc.position(("politique",) + chemin + ("coffre",)),
                message.format(ref.coffre),
                correction.format(ref.coffre),
                "coffre-inconnu",
            )
    for e in t.ecoles:
        m = e.modele
        for racine, objets in (("wifi", m.wifi), ("commutateurs", m.commutateurs)):
            for chemin, ref in _refs(objets):
                if ref.coffre not in t.noms_coffre:
                    _ajouter(
                        ctx,
                        e,
                        (racine,) + chemin + ("coffre",),
                        message.format(ref.coffre),
                        correction.format(ref.coffre),
                        "coffre-inconnu",
                    )
        for chemin, ref in _refs(e.politique):
            source = e.provenance.get(".".join(map(str, chemin)), "")
            if ref.coffre in t.noms_coffre or source in ("territoire", "defaut"):
                continue
            if source.startswith("ecole:"):
                _ajouter(
                    ctx,
                    e,
                    ("politique",) + chemin + ("coffre",),
                    message.format(ref.coffre),
                    correction.format(ref.coffre),
                    "coffre-inconnu",
                )
            elif (source, ref.coffre) not in signales:
                signales.add((source, ref.coffre))
                i = [f"commune:{c.id}" for c in t.communes].index(source)
                ctx.problemes.ajouter(
                    doc.chemin,
                    doc.position(("communes", i, "politique") + chemin + ("coffre",)),
                    message.format(ref.coffre),
                    correction.format(ref.coffre),
                    "coffre-inconnu",
                )


def _licences(t: Territoire, ctx: Contexte) -> None:
    """Apps with a licence count are not given to more devices than licences bought."""
    limitees = {a.id: a.licences for a in t.applications.values() if a.licences is not None}
    if not limitees:
        return
    comptes: Counter[str] = Counter()
    for e in t.ecoles:
        for p in e.modele.postes:
            if p.etat.value == "reforme" or p.profil not in t.profils:
                continue
            for app in applications_de(t, e, p):
                # a licence is used only where the app gets installed (not on a PC for a tablet app)
                if app in limitees and t.applications[app].installation.pour_os(p.os) is not None:
                    comptes[app] += 1
    doc = ctx.document_catalogue
    assert doc is not None
    ids = [a for a in t.applications]
    for app, n in comptes.items():
        if n > limitees[app]:
            ctx.problemes.ajouter(
                doc.chemin,
                doc.position(("applications", ids.index(app), "licences")),
                f"licences dépassées pour « {app} » : {n} appareils pour {limitees[app]} licences",
                "achetez des licences ou retirez l'application de profils/demandes",
                "licences-depassees",
            )
