"""Thin Typer command line: one sub-app per domain, ``ardoise <domaine> <verbe>``."""
