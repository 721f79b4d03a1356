"""Alembic environment: migrations run on the connection the store passes in."""

from alembic import context

from ardoise.resultats.modeles import Base

connexion = context.config.attributes["connection"]
context.configure(connection=connexion, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
