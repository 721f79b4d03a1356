"""A minimal DNS A query to one given server (the school's DNS from the manifest), standard library only."""

from __future__ import annotations

import random
import socket
import struct
from ipaddress import IPv4Address


class ErreurDns(Exception):
    pass


def requete_a(nom: str, serveur: str, delai: float = 2.0, source: str | None = None) -> list[IPv4Address]:
    """The A records ``serveur`` answers for ``nom`` (empty list: NXDOMAIN or no record)."""
    ident = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode("idna") for p in nom.rstrip(".").split(".")) + b"\0"
    paquet = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(delai)
        if source:
            s.bind((source, 0))
        try:
            s.sendto(paquet, (serveur, 53))
            reponse, _ = s.recvfrom(4096)
        except OSError as e:
            raise ErreurDns(f"pas de réponse de {serveur} ({e.__class__.__name__})") from None
    rid, drapeaux, nq, nr, _, _ = struct.unpack("!HHHHHH", reponse[:12])
    if rid != ident:
        raise ErreurDns("réponse DNS d'une autre requête")
    if drapeaux & 0x000F not in (0, 3):
        raise ErreurDns(f"erreur DNS (code {drapeaux & 0x000F})")
    i = 12
    for _ in range(nq):
        i = _sauter_nom(reponse, i) + 4
    adresses = []
    for _ in range(nr):
        i = _sauter_nom(reponse, i)
        type_, _classe, _ttl, longueur = struct.unpack("!HHIH", reponse[i : i + 10])
        i += 10
        if type_ == 1 and longueur == 4:
            adresses.append(IPv4Address(reponse[i : i + 4]))
        i += longueur
    return adresses


def _sauter_nom(donnees: bytes, i: int) -> int:
    while True:
        longueur = donnees[i]
        if longueur == 0:
            return i + 1
        if longueur & 0xC0 == 0xC0:
            return i + 2
        i += longueur + 1
