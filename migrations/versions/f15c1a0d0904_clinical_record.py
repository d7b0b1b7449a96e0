"""the clinical record: a void's reason, a treatment's notes and settings, the screening
questionnaire and the consent form in versions (version 1 of each seeded as an unreviewed
template), clients' signed consents, the aftercare sheet

Written by hand (issue 15). Plain ADD COLUMNs (no table rebuilt).

Revision ID: f15c1a0d0904
Revises: f13d15c0a902
Create Date: 2026-11-29 20:20:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f15c1a0d0904'
down_revision = 'f13d15c0a902'
branch_labels = None
depends_on = None


# Version 1 of the questionnaire, as pos.domain.screening.DEFAULT_QUESTIONNAIRE held it when
# this migration was written (a copy: the domain may change, this seed must not).
QUESTIONNAIRE_V1 = [{'key': 'pregnant_or_nursing',
      'text': 'Pregnant or nursing',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'scleroderma',
      'text': 'Scleroderma',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'collagen_vascular_disease',
      'text': 'Collagen vascular disease',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'cardiac_abnormalities',
      'text': 'Cardiac abnormalities',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'active_infection',
      'text': 'Active bacterial or fungal infection',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'bleeding_disorder_or_blood_thinners',
      'text': 'Blood clotting problems or blood thinners',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'immunosuppressed',
      'text': 'Immunosuppressed condition or medication',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'scar_under_6_months',
      'text': 'Scar less than 6 months old',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'pustular_or_nodular_rosacea_or_acne',
      'text': 'Pustular or nodular rosacea or acne',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'active_skin_cancer_or_actinic_keratosis',
      'text': 'Active skin cancer or actinic keratosis',
      'type': 'boolean',
      'rule': 'avoid_area'},
     {'key': 'raised_moles', 'text': 'Raised moles', 'type': 'boolean', 'rule': 'avoid_area'},
     {'key': 'warts', 'text': 'Warts', 'type': 'boolean', 'rule': 'avoid_area'},
     {'key': 'active_herpes',
      'text': 'Active herpes infection',
      'type': 'boolean',
      'rule': 'avoid_area'},
     {'key': 'keloid_history',
      'text': 'History of keloid or raised scarring',
      'type': 'boolean',
      'rule': 'caution'},
     {'key': 'diabetes', 'text': 'Diabetes', 'type': 'boolean', 'rule': 'caution'},
     {'key': 'eczema', 'text': 'Eczema', 'type': 'boolean', 'rule': 'caution'},
     {'key': 'psoriasis', 'text': 'Psoriasis', 'type': 'boolean', 'rule': 'caution'},
     {'key': 'last_botox_on',
      'text': 'Last Botox or other botulinum toxin type A injection',
      'type': 'date',
      'rule': 'wait_days',
      'wait_days': 14},
     {'key': 'lidocaine_allergy',
      'text': 'Allergy to lidocaine or another local anaesthetic (the procedure numbs with '
              'lidocaine)',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'isotretinoin_last_taken_on',
      'text': 'Last isotretinoin (Accutane) taken',
      'type': 'date',
      'rule': 'wait_days',
      'wait_days': 183},
     {'key': 'topical_retinoid_last_used_on',
      'text': 'Last topical retinoid used',
      'type': 'date',
      'rule': 'wait_days',
      'wait_days': 5},
     {'key': 'sunburn_in_area',
      'text': 'Sunburn on the area to treat',
      'type': 'boolean',
      'rule': 'contraindicated'},
     {'key': 'peel_or_laser_last_on',
      'text': 'Last superficial chemical peel or non-ablative laser',
      'type': 'date',
      'rule': 'wait_days',
      'wait_days': 14}]


# Version 1 of the consent form, as pos.domain.consent.DEFAULT_CONSENT_TEXT held it.
CONSENT_V1 = "Consent to medical microneedling (collagen induction therapy)\n\nI ask the clinic's provider to perform microneedling on the area we agreed, with an MDPen and a single-use sterile needle cartridge, after a topical anaesthetic (lidocaine).\n\nI understand that:\n- the skin will be red and may feel tight or sensitive for 24 to 48 hours; swelling, pinpoint bleeding, bruising, dryness and flaking can occur; infection, cold sores, changes in skin colour and scarring are rare;\n- results vary and usually need a series of treatments 4 to 6 weeks apart;\n- I must tell the provider about pregnancy or nursing, medicines (blood thinners, isotretinoin, retinoids), allergies (including to lidocaine), recent Botox, peels, laser or sunburn, and skin or health conditions, at every visit;\n- I will follow the aftercare instructions and may withdraw this consent at any time before a treatment.\n\nI have read this form, my questions were answered, and I consent to the treatment.\n"


def upgrade():
    op.add_column('treatments', sa.Column('void_reason', sa.String(length=500),
                                          nullable=True))
    op.add_column('treatments', sa.Column('notes', sa.Text(), nullable=True))
    op.add_column('treatments', sa.Column('settings', sa.JSON(), nullable=True))
    op.add_column('treatments', sa.Column('questionnaire_version', sa.Integer(),
                                          nullable=True))
    questionnaires = op.create_table(
        'screening_questionnaires',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'],
                                name=op.f('fk_screening_questionnaires_published_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_questionnaires')),
        sa.UniqueConstraint('version', name=op.f('uq_screening_questionnaires_version')),
    )
    # Unreviewed until a provider who is also a manager publishes a version.
    op.bulk_insert(questionnaires, [{'version': 1, 'questions': QUESTIONNAIRE_V1,
                                     'created_at': datetime.now(UTC)}])
    forms = op.create_table(
        'consent_forms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'],
                                name=op.f('fk_consent_forms_published_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_forms')),
        sa.UniqueConstraint('version', name=op.f('uq_consent_forms_version')),
    )
    op.bulk_insert(forms, [{'version': 1, 'text': CONSENT_V1,
                            'created_at': datetime.now(UTC)}])
    op.create_table(
        'client_consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('form_version', sa.Integer(), nullable=False),
        sa.Column('signature_png', sa.LargeBinary(), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('witness_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'],
                                name=op.f('fk_client_consents_client_id_clients')),
        sa.ForeignKeyConstraint(['witness_id'], ['users.id'],
                                name=op.f('fk_client_consents_witness_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_client_consents')),
    )
    op.create_table(
        'aftercare_sheets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_aftercare_sheets_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_aftercare_sheets')),
    )
    with op.batch_alter_table('client_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_consents_client_id'), ['client_id'],
                              unique=False)


def downgrade():
    op.drop_table('aftercare_sheets')
    op.drop_table('client_consents')
    op.drop_table('consent_forms')
    op.drop_table('screening_questionnaires')
    for column in ('questionnaire_version', 'settings', 'notes', 'void_reason'):
        op.execute(f'ALTER TABLE treatments DROP COLUMN {column}')
