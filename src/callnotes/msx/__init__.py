"""callnotes.msx: MSX (Dynamics 365) schema and operations over the Dataverse client (DESIGN.md §msx).

It knows MSX and Dataverse only: neither the store nor the app's configuration (``callnotes.sync``
moves data between MSX and the store). Modules: ``schema`` (constants), ``links`` (record URLs,
Teams links), ``records`` (typed rows), ``accounts`` / ``people`` / ``opportunities`` /
``milestones`` / ``teams`` / ``tasks`` (operations), ``import_plan`` + ``rounds`` + ``transport`` +
``importer`` (the batched read plan of the import), ``progress`` (events, cancel).
"""

from callnotes.domain import SellerType, SeSpecialty
from callnotes.msx.errors import (
    ImportCancelled,
    InvalidInput,
    MalformedCrmAnswer,
    MsxError,
    MsxNotFound,
    VpnDown,
)
from callnotes.msx.importer import fetch_snapshot
from callnotes.msx.links import account_url, milestone_url, opportunity_url, teams_chat_url
from callnotes.msx.progress import CancelToken, ProgressEvent
from callnotes.msx.records import (
    Account,
    AccountTeamMember,
    Milestone,
    MsxTask,
    MsxUser,
    Opportunity,
    Territory,
    WhoAmI,
    pod_name,
)
from callnotes.msx.schema import HokCategory, Role

__all__ = [
    "Account",
    "AccountTeamMember",
    "CancelToken",
    "HokCategory",
    "ImportCancelled",
    "InvalidInput",
    "MalformedCrmAnswer",
    "Milestone",
    "MsxError",
    "MsxNotFound",
    "MsxTask",
    "MsxUser",
    "Opportunity",
    "ProgressEvent",
    "Role",
    "SeSpecialty",
    "SellerType",
    "Territory",
    "VpnDown",
    "WhoAmI",
    "account_url",
    "fetch_snapshot",
    "milestone_url",
    "opportunity_url",
    "pod_name",
    "teams_chat_url",
]
