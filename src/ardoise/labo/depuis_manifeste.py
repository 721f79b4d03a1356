"""Translate one school of the manifest into the lab's :class:`PlanLabo` (nothing per school in code)."""

from __future__ import annotations

from importlib import resources
from urllib.parse import urlsplit

from ardoise.inventaire.coffre import reveler
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.types import OS_LINUX, Etat, RoleVlan, TypePoste
from ardoise.labo.erreurs import LaboErreur
from ardoise.labo.plan import CommutateurLabo, PlanLabo, PortLabo, PosteLabo, SiteInternet, VlanLabo

SITE_GENERAL = "actualites.test-ardoise.fr"  # a lab-only "general" site, allowed by every policy
POSTES_DEFAUT = 3


def categories_disponibles() -> dict[str, str]:
    """UT1 categories shipped with the lab → one test domain of each."""
    racine = resources.files("ardoise.labo") / "donnees" / "blacklists"
    resultat = {}
    for categorie in sorted(p.name for p in racine.iterdir() if p.is_dir()):
        domaines = (racine / categorie / "domains").read_text().split()
        domaine = next((d for d in domaines if not d.endswith(".invalid")), None)
        if domaine:
            resultat[categorie] = domaine
    return resultat


def ecole_par_defaut(t: Territoire) -> EcoleChargee:
    """The example's first school (in manifest file order)."""
    return t.ecoles[0]


def plan_depuis_ecole(t: Territoire, ecole: EcoleChargee, postes: int = POSTES_DEFAUT) -> PlanLabo:
    """The lab plan of ``ecole``: its VLANs, its first ``postes`` Linux PCs, its switches, its policy."""
    m = ecole.modele
    pol = ecole.politique
    vlans = tuple(
        VlanLabo(v.id, v.nom, v.role.value, v.reseau, v.passerelle,
                 v.dhcp.debut if v.dhcp else None, v.dhcp.fin if v.dhcp else None)
        for v in m.vlans
    )  # fmt: skip
    if m.serveur:
        serveur_nom, serveur_vlan, serveur_adresse = m.serveur.nom, m.serveur.vlan, m.serveur.adresse
    else:
        v = next((v for v in m.vlans if v.role is RoleVlan.serveurs), m.vlans[0])
        serveur_nom, serveur_vlan, serveur_adresse = f"srv-{ecole.uai.lower()}", v.id, None
    if serveur_adresse == ecole.vlan(serveur_vlan).passerelle:
        serveur_adresse = None
    candidats = [
        p for p in m.postes
        if p.type is TypePoste.pc and p.os in OS_LINUX and p.adresse and p.mac and p.etat is not Etat.reforme
    ]  # fmt: skip
    if postes > len(candidats):
        raise LaboErreur(
            f"l'école {ecole.uai} n'a que {len(candidats)} PC Linux avec adresse et MAC dans le manifeste"
            f" ({postes} demandés) : réduisez --postes"
        )
    plan_postes = tuple(
        PosteLabo(p.nom, p.vlan if p.vlan is not None else ecole.vlan_de(p.adresse).id, p.adresse, p.mac)  # type: ignore[union-attr,arg-type]
        for p in candidats[:postes]
    )
    commutateurs = _commutateurs(t, ecole)
    dispo = categories_disponibles()
    categories = tuple(c for c in pol.filtrage.categories_bloquees if c in dispo)
    sites = [SiteInternet(urlsplit(pol.ent.url).hostname or "", "ent")]
    if pol.ent.gar:
        sites.append(SiteInternet(urlsplit(pol.ent.gar).hostname or "", "gar"))
    sites += [SiteInternet(dispo[c], "bloque", c) for c in categories]
    sites.append(SiteInternet(SITE_GENERAL, "general"))
    return PlanLabo(
        uai=ecole.uai,
        nom_ecole=ecole.nom,
        domaine=f"{ecole.uai.lower()}.{pol.domaine}",
        vlans=vlans,
        serveur_nom=serveur_nom,
        serveur_vlan=serveur_vlan,
        proxy_port=pol.proxy.port or 3128,
        dns=tuple(pol.dns),
        postes=plan_postes,
        commutateurs=commutateurs,
        sites=tuple(sites),
        categories_bloquees=categories,
        technicien=pol.technicien.compte,
        serveur_adresse=serveur_adresse,
        serveur_mac=m.serveur.mac if m.serveur and m.serveur.mac else None,
    )


def _commutateurs(t: Territoire, ecole: EcoleChargee) -> tuple[CommutateurLabo, ...]:
    m = ecole.modele
    if not m.commutateurs:
        return ()
    secrets = reveler(t.fichier_coffre, sorted({c.identifiants.mot_de_passe.coffre for c in m.commutateurs}))
    resultat = []
    for c in m.commutateurs:
        vlans_utilises = {c.gestion.vlan}
        for p in c.ports:
            vlans_utilises |= {v for v in [p.vlan, p.vlan_natif, *p.vlans] if v is not None}
        resultat.append(
            CommutateurLabo(
                nom=c.nom,
                plateforme=c.plateforme.value,
                adresse=c.gestion.adresse,
                port_ssh=c.gestion.port,
                vlan_gestion=c.gestion.vlan,
                utilisateur=c.identifiants.utilisateur,
                mot_de_passe=secrets[c.identifiants.mot_de_passe.coffre].reveler(),
                vlans=tuple((v.id, v.nom) for v in m.vlans if v.id in vlans_utilises),
                ports=tuple(PortLabo(p.nom, p.mode, p.vlan, tuple(p.vlans), p.description) for p in c.ports),
                mac=c.mac,
            )
        )
    return tuple(resultat)
