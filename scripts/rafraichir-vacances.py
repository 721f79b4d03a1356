#!/usr/bin/env python3
"""Rebuild src/ardoise/maintenance/donnees/vacances-scolaires.csv from the vacances-scolaires-france
package (pip install -U vacances-scolaires-france first to get newer school years)."""

from ardoise.maintenance.planification import Calendrier, rafraichir

chemin = rafraichir()
cal = Calendrier.charger(chemin)
print(f"{chemin} : {len(cal.periodes)} périodes, jusqu'au {cal.fin_couverture():%d/%m/%Y}")
