"""The one results store: every run, every host's result, every check, every action, in one database.

SQLite file by default, PostgreSQL by URL; schema migrations with Alembic. Written incrementally, one
host at a time, so a killed run keeps what it gathered. Atelier, maintenance, réseau, audit, tablettes,
parc and the console all use it through :class:`ardoise.resultats.magasin.Magasin`.
"""
