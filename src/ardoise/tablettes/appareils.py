"""Which devices of a school the tablet commands act on, and the shared network settings."""

from __future__ import annotations

from dataclasses import dataclass

from ardoise.inventaire.modele import Poste, Proxy
from ardoise.inventaire.territoire import EcoleChargee
from ardoise.inventaire.types import Etat, ModeProxy, Os, TypePoste

# A retired device is never enrolled again.
ETATS_EXCLUS = frozenset({Etat.reforme})


def tablettes_android(ecole: EcoleChargee) -> list[Poste]:
    """The school's Android tablets (type ``tablette``, OS android), retired ones excluded."""
    return [
        p
        for p in ecole.modele.postes
        if p.type is TypePoste.tablette and p.os is Os.android and p.etat not in ETATS_EXCLUS
    ]


def ipads(ecole: EcoleChargee) -> list[Poste]:
    """The school's iPads, retired ones excluded."""
    return [p for p in ecole.modele.postes if p.type is TypePoste.ipad and p.etat not in ETATS_EXCLUS]


def libelle_classe(ecole: EcoleChargee, poste: Poste) -> str:
    """``"ps-a (PS, Mme Martin)"`` for the labels; empty when the device has no class."""
    if not poste.classe:
        return ""
    classe = next((c for c in ecole.modele.classes if c.id == poste.classe), None)
    if classe is None:
        return poste.classe
    details = ", ".join(x for x in (classe.niveau, classe.enseignant) if x)
    return f"{classe.id} ({details})" if details else classe.id


@dataclass(frozen=True)
class ProxyExplicite:
    """The proxy a tablet must be told about: host/port, or a PAC URL; None for DNS filtering."""

    hote: str | None
    port: int | None
    pac: str | None
    exclusions: tuple[str, ...]


def proxy_explicite(proxy: Proxy) -> ProxyExplicite | None:
    """The explicit proxy of the policy, or None when filtering needs no client setting (``dns``)."""
    if proxy.mode in (ModeProxy.local, ModeProxy.academique):
        return ProxyExplicite(proxy.adresse, proxy.port, None, tuple(proxy.contournement))
    if proxy.mode is ModeProxy.pac:
        return ProxyExplicite(None, None, proxy.pac, tuple(proxy.contournement))
    return None
