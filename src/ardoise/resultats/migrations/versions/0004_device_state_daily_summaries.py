"""results at scale: device state per result, report index, daily summaries (retention)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# the device state of every existing result, by the rule of ardoise.resultats.forme.etat_appareil
REMPLIR_ETAT = """
UPDATE resultats_hotes SET etat = CASE
    WHEN statut <> 'ok' THEN 'injoignable'
    WHEN EXISTS (SELECT 1 FROM verifications v WHERE v.resultat_id = resultats_hotes.id
                 AND v.niveau = 'CRITIQUE') THEN 'CRITIQUE'
    WHEN EXISTS (SELECT 1 FROM verifications v WHERE v.resultat_id = resultats_hotes.id
                 AND v.niveau = 'ATTENTION') THEN 'ATTENTION'
    ELSE 'OK' END
"""


def upgrade() -> None:
    with op.batch_alter_table("resultats_hotes") as t:
        t.add_column(sa.Column("etat", sa.String(length=16), nullable=True))
    op.execute(REMPLIR_ETAT)
    op.create_index(
        "ix_resultats_uai_execution", "resultats_hotes", ["uai", "execution_id", "hote", "etat", "id"]
    )
    op.create_table(
        "resumes_quotidiens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hote", sa.String(length=128), nullable=False),
        sa.Column("jour", sa.Date(), nullable=False),
        sa.Column("uai", sa.String(length=8), nullable=True),
        sa.Column("commune", sa.String(length=64), nullable=True),
        sa.Column("passages", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Integer(), nullable=False),
        sa.Column("attention", sa.Integer(), nullable=False),
        sa.Column("critique", sa.Integer(), nullable=False),
        sa.Column("injoignable", sa.Integer(), nullable=False),
        sa.Column("dernier_etat", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_resumes_hote_jour", "resumes_quotidiens", ["hote", "jour"], unique=True)
    op.create_index("ix_resumes_uai_jour", "resumes_quotidiens", ["uai", "jour"])


def downgrade() -> None:
    op.drop_index("ix_resumes_uai_jour", table_name="resumes_quotidiens")
    op.drop_index("ux_resumes_hote_jour", table_name="resumes_quotidiens")
    op.drop_table("resumes_quotidiens")
    op.drop_index("ix_resultats_uai_execution", table_name="resultats_hotes")
    # a plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), never batch mode: rebuilding resultats_hotes would
    # cascade-delete every check row through the foreign key
    op.drop_column("resultats_hotes", "etat")
