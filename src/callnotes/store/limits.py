"""Field limits, each defined once: the repositories enforce them on every way in (forms, JSON API,
JSON backup, CSV import), the column widths in ``models`` follow them, and the web layer's pydantic
schemas declare the same numbers so an over-long request is refused before it reaches the store.
"""

from __future__ import annotations

#: Database ids are 32-bit on PostgreSQL: larger numbers can name no record.
MAX_ID = 2_147_483_647

#: An MSX (Dataverse) record id: a GUID, with room to spare.
MSX_ID_MAX = 64

#: Names of people on account teams, and their e-mail addresses (RFC 5321: 320 at most).
PERSON_NAME_MAX = 200
EMAIL_MAX = 320
TERRITORY_NAME_MAX = 200
#: Names of opportunities and milestones, subjects of tasks (as long as MSX allows).
MSX_RECORD_NAME_MAX = 500

CUSTOMER_NAME_MAX = 300
CUSTOMER_TPID_MAX = 40
CUSTOMER_WEBSITE_MAX = 500
CUSTOMER_MSX_URL_MAX = 1000
CUSTOMER_ACCOUNT_NOTES_MAX = 100_000

NOTE_BODY_MAX = 1_000_000
NOTE_TITLE_MAX = 300
#: Items per note.
NOTE_TOPICS_MAX = 100
NOTE_ATTENDEES_MAX = 200
NOTE_MILESTONES_MAX = 200

TOPIC_NAME_MAX = 100
#: Topics in the store: the editor, the search page and /topics offer them all.
TOPICS_MAX = 2_000

TEMPLATE_NAME_MAX = 200
TEMPLATE_BODY_MAX = 100_000

#: Import files (JSON export or CSV), through the CLI and the settings page.
IMPORT_FILE_MAX_BYTES = 100 * 1024 * 1024
#: Nesting of a JSON import document: the export is 4 deep (document, list, item, list of uids).
IMPORT_JSON_MAX_DEPTH = 32
#: Digits of a number in a JSON import (ids, option-set codes, amounts: far fewer).
IMPORT_JSON_MAX_NUMBER_CHARS = 40

DRAFT_KEY_MAX = 200
DRAFT_BODY_MAX = NOTE_BODY_MAX

#: Names of push mappings (``[[mapping]] name = …`` in a mapping file).
PUSH_MAPPING_NAME_MAX = 100
