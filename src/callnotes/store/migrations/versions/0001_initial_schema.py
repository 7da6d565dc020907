"""Initial schema: every table, plus full-text search (FTS5 on SQLite, tsvector on PostgreSQL).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 14:22:15.570237
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callnotes.store.migrations import fts_0001

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_note_templates_name")),
        sa.UniqueConstraint("uid", name=op.f("uq_note_templates_uid")),
    )
    op.create_table(
        "pods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pods")),
        sa.UniqueConstraint("name", name=op.f("uq_pods_name")),
        sa.UniqueConstraint("uid", name=op.f("uq_pods_uid")),
    )
    op.create_table(
        "sellers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "seller_type",
            sa.Enum("growth", "acquisition", name="seller_type", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("msx_id", sa.String(length=64), nullable=True),
        sa.Column("gone_from_msx_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msx_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellers")),
        sa.UniqueConstraint("msx_id", name=op.f("uq_sellers_msx_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_sellers_uid")),
    )
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sellers_name"), ["name"], unique=False)

    op.create_table(
        "solution_engineers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "specialty",
            sa.Enum("data", "infra", "apps", name="se_specialty", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("msx_id", sa.String(length=64), nullable=True),
        sa.Column("gone_from_msx_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msx_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_solution_engineers")),
        sa.UniqueConstraint("msx_id", name=op.f("uq_solution_engineers_msx_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_solution_engineers_uid")),
    )
    with op.batch_alter_table("solution_engineers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_solution_engineers_name"), ["name"], unique=False)

    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("name_key", name=op.f("uq_topics_name_key")),
        sa.UniqueConstraint("uid", name=op.f("uq_topics_uid")),
    )
    op.create_table(
        "territories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("account_team_unit_name", sa.String(length=200), nullable=True),
        sa.Column("pod_id", sa.Integer(), nullable=True),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("msx_id", sa.String(length=64), nullable=True),
        sa.Column("gone_from_msx_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msx_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pod_id"], ["pods.id"], name=op.f("fk_territories_pod_id_pods"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_territories")),
        sa.UniqueConstraint("msx_id", name=op.f("uq_territories_msx_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_territories_uid")),
    )
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_territories_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_territories_pod_id"), ["pod_id"], unique=False)

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("tpid", sa.String(length=40), nullable=True),
        sa.Column("territory_id", sa.Integer(), nullable=True),
        sa.Column("account_notes", sa.Text(), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("msx_url", sa.String(length=1000), nullable=True),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("msx_id", sa.String(length=64), nullable=True),
        sa.Column("gone_from_msx_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msx_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_customers_territory_id_territories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("msx_id", name=op.f("uq_customers_msx_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_customers_uid")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_territory_id"), ["territory_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_tpid"), ["tpid"], unique=False)

    op.create_table(
        "customer_sellers",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_sellers_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["sellers.id"],
            name=op.f("fk_customer_sellers_seller_id_sellers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "seller_id", name=op.f("pk_customer_sellers")),
    )
    with op.batch_alter_table("customer_sellers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_sellers_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "customer_solution_engineers",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("solution_engineer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_solution_engineers_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["solution_engineer_id"],
            ["solution_engineers.id"],
            name=op.f("fk_customer_solution_engineers_solution_engineer_id_solution_engineers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "customer_id", "solution_engineer_id", name=op.f("pk_customer_solution_engineers")
        ),
    )
    with op.batch_alter_table("customer_solution_engineers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_solution_engineers_solution_engineer_id"),
            ["solution_engineer_id"],
            unique=False,
        )

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("call_date", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("search_context", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_notes_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("uid", name=op.f("uq_notes_uid")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_call_date"), ["call_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_notes_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("estimated_close_date", sa.Date(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("msx_id", sa.String(length=64), nullable=True),
        sa.Column("gone_from_msx_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msx_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_opportunities_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint("msx_id", name=op.f("uq_opportunities_msx_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_opportunities_uid")),
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunities_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opportunities_number"), ["number"], unique=False)

    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("call_date", sa.Date(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_drafts_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_drafts_note_id_notes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("key", name=op.f("uq_drafts_key")),
    )
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drafts_note_id"), ["note_id"], unique=False)

    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("status_label", sa.String(length=100), nullable=True),
        sa.Column("milestone_date", sa.Date(), nullable=True),
        sa.Column("monthly_use", sa.Float(), nullable=True),
        sa.Column("workload", sa.String(length=300), nullable=True),
        sa.Column("on_my_team", sa.Boolean(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("msx_id", sa.String(length=64), nullable=True),
        sa.Column("gone_from_msx_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msx_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_milestones_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_milestones_opportunity_id_opportunities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("msx_id", name=op.f("uq_milestones_msx_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_milestones_uid")),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_milestone_date"), ["milestone_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_opportunity_id"), ["opportunity_id"], unique=False)

    op.create_table(
        "note_opportunities",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_note_opportunities_note_id_notes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_note_opportunities_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("note_id", "opportunity_id", name=op.f("pk_note_opportunities")),
    )
    with op.batch_alter_table("note_opportunities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_note_opportunities_opportunity_id"), ["opportunity_id"], unique=False
        )

    op.create_table(
        "note_topics",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_note_topics_note_id_notes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_note_topics_topic_id_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", "topic_id", name=op.f("pk_note_topics")),
    )
    with op.batch_alter_table("note_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_topics_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "note_milestones",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_note_milestones_milestone_id_milestones"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_note_milestones_note_id_notes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", "milestone_id", name=op.f("pk_note_milestones")),
    )
    with op.batch_alter_table("note_milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_milestones_milestone_id"), ["milestone_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("category_code", sa.Integer(), nullable=True),
        sa.Column("is_hok", sa.Boolean(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=50), nullable=True),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("msx_id", sa.String(length=64), nullable=True),
        sa.Column("gone_from_msx_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("msx_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_tasks_milestone_id_milestones"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_tasks_note_id_notes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("msx_id", name=op.f("uq_tasks_msx_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_tasks_uid")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_milestone_id"), ["milestone_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_note_id"), ["note_id"], unique=False)

    fts_0001.create(op.get_bind())


def downgrade() -> None:
    fts_0001.drop(op.get_bind())
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_note_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_milestone_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("note_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_milestones_milestone_id"))

    op.drop_table("note_milestones")
    with op.batch_alter_table("note_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_topics_topic_id"))

    op.drop_table("note_topics")
    with op.batch_alter_table("note_opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_opportunities_opportunity_id"))

    op.drop_table("note_opportunities")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_milestones_number"))
        batch_op.drop_index(batch_op.f("ix_milestones_milestone_date"))
        batch_op.drop_index(batch_op.f("ix_milestones_customer_id"))

    op.drop_table("milestones")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drafts_note_id"))

    op.drop_table("drafts")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_number"))
        batch_op.drop_index(batch_op.f("ix_opportunities_customer_id"))

    op.drop_table("opportunities")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_customer_id"))
        batch_op.drop_index(batch_op.f("ix_notes_call_date"))

    op.drop_table("notes")
    with op.batch_alter_table("customer_solution_engineers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_solution_engineers_solution_engineer_id"))

    op.drop_table("customer_solution_engineers")
    with op.batch_alter_table("customer_sellers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_sellers_seller_id"))

    op.drop_table("customer_sellers")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_tpid"))
        batch_op.drop_index(batch_op.f("ix_customers_territory_id"))
        batch_op.drop_index(batch_op.f("ix_customers_name"))

    op.drop_table("customers")
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_territories_pod_id"))
        batch_op.drop_index(batch_op.f("ix_territories_name"))

    op.drop_table("territories")
    op.drop_table("topics")
    with op.batch_alter_table("solution_engineers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_solution_engineers_name"))

    op.drop_table("solution_engineers")
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sellers_name"))

    op.drop_table("sellers")
    op.drop_table("pods")
    op.drop_table("note_templates")
