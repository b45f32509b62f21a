"""the first schema: transcripts, assessments, model calls

Databases created before migrations existed hold exactly this; they are stamped 0001.

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('model_calls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('transcript_id', sa.String(length=200), nullable=True),
    sa.Column('assessment_id', sa.String(length=64), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('prompt_hash', sa.String(length=64), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('response_text', sa.Text(), nullable=True),
    sa.Column('prompt_tokens', sa.Integer(), nullable=True),
    sa.Column('completion_tokens', sa.Integer(), nullable=True),
    sa.Column('cached_tokens', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('cost_usd', sa.Float(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_model_calls_assessment_id'), 'model_calls', ['assessment_id'], unique=False)
    op.create_index(op.f('ix_model_calls_transcript_id'), 'model_calls', ['transcript_id'], unique=False)
    op.create_table('transcripts',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('agent_id', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.String(length=200), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_transcripts_agent_id'), 'transcripts', ['agent_id'], unique=False)
    op.create_index(op.f('ix_transcripts_team_id'), 'transcripts', ['team_id'], unique=False)
    op.create_table('assessments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('cache_key', sa.String(length=64), nullable=False),
    sa.Column('transcript_id', sa.String(length=200), nullable=False),
    sa.Column('agent_id', sa.String(length=200), nullable=False),
    sa.Column('team_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rubric_version', sa.String(length=32), nullable=False),
    sa.Column('prompt_version', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cache_key', name='uq_assessment_cache_key')
    )
    op.create_index(op.f('ix_assessments_agent_id'), 'assessments', ['agent_id'], unique=False)
    op.create_index(op.f('ix_assessments_team_id'), 'assessments', ['team_id'], unique=False)
    op.create_index(op.f('ix_assessments_transcript_id'), 'assessments', ['transcript_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_assessments_transcript_id'), table_name='assessments')
    op.drop_index(op.f('ix_assessments_team_id'), table_name='assessments')
    op.drop_index(op.f('ix_assessments_agent_id'), table_name='assessments')
    op.drop_table('assessments')
    op.drop_index(op.f('ix_transcripts_team_id'), table_name='transcripts')
    op.drop_index(op.f('ix_transcripts_agent_id'), table_name='transcripts')
    op.drop_table('transcripts')
    op.drop_index(op.f('ix_model_calls_transcript_id'), table_name='model_calls')
    op.drop_index(op.f('ix_model_calls_assessment_id'), table_name='model_calls')
    op.drop_table('model_calls')
