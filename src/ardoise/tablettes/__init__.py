"""Tablets: Android Enterprise QR enrolment, the adb workshop path, iPad configuration profiles.

Everything is derived from the manifest (``Ecole.postes``, ``wifi``, ``vlans``), the effective policy
(``politique.dpc``, ``proxy``, ``filtrage``, ``ent``) and each device's effective profile.
"""
