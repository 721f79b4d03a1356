"""The fleet (parc): spare swaps, loans, warranties vs maintenance contracts, incidents (and GLPI),
renewal plans and the takeover of an existing fleet.

Built on the manifest (read with the loader, edited in place with :mod:`ardoise.parc.edition`) and
the results store (incidents, loans and swaps tables).
"""
