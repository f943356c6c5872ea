"""The information provision network (情報提供ネットワークシステム): the hub.

Link codes per (person, agency), signed exchange messages, the authorization check
on every request, delivery to providers through a transport, and the exchange log
written in the same transaction. Other contexts import only from here.
"""

from myna.network import transparency
from myna.network.corrections import (
    CORRECTION_ANSWER,
    CORRECTION_REQUEST,
    EVIDENCE_TYPES,
    MAX_EVIDENCE_BYTES,
    CorrectionAnswer,
    CorrectionDeliveryFailedError,
    CorrectionNotAllowedError,
    CorrectionNotPossibleError,
    CorrectionReceipt,
    CorrectionUnknownError,
    Evidence,
)
from myna.network.credentials import credential_for
from myna.network.domain import (
    HUB,
    PORTAL,
    SELF_DISCLOSURE,
    BadMessageSignatureError,
    BadPqSignatureError,
    ExchangeError,
    ExchangeRequest,
    ItemRecord,
    ItemResult,
    MalformedMessageError,
    MissingPqSignatureError,
    Outcome,
    RecordUpdate,
    ReplayedMessageError,
    SenderMismatchError,
    StaleMessageError,
    UnknownAgencyError,
    UnknownLinkCodeError,
    UnsignedMessageError,
    UntrustedPqCertificateError,
    UpdateFailedError,
    UpdateNotAllowedError,
)
from myna.network.hub import ExchangeOutcome, Hub
from myna.network.interfaces import AgencyTransport, CorrectionInbox, Directory, ExchangeCounter
from myna.network.linkcodes import issue_many, link_code_for_resident
from myna.network.messages import Credential, PqCredential, open_signed, sign
from myna.network.provider import InProcessTransport, answer
from myna.network.replay import admit_once, forget_old_requests
from myna.network.seeding import (
    AgencySeedReport,
    facts_for_household,
    facts_from_members,
    seed_agency_data,
)
from myna.network.service import (
    answer_correction,
    ask,
    ask_about,
    request_correction,
    request_self_information,
    update_records,
)
from myna.network.wiring import build_hub, http_transport, load_log_signer

__all__ = [
    "CORRECTION_ANSWER",
    "CORRECTION_REQUEST",
    "EVIDENCE_TYPES",
    "HUB",
    "MAX_EVIDENCE_BYTES",
    "PORTAL",
    "SELF_DISCLOSURE",
    "AgencySeedReport",
    "AgencyTransport",
    "BadMessageSignatureError",
    "BadPqSignatureError",
    "CorrectionAnswer",
    "CorrectionDeliveryFailedError",
    "CorrectionInbox",
    "CorrectionNotAllowedError",
    "CorrectionNotPossibleError",
    "CorrectionReceipt",
    "CorrectionUnknownError",
    "Credential",
    "Directory",
    "Evidence",
    "ExchangeCounter",
    "ExchangeError",
    "ExchangeOutcome",
    "ExchangeRequest",
    "Hub",
    "InProcessTransport",
    "ItemRecord",
    "ItemResult",
    "MalformedMessageError",
    "MissingPqSignatureError",
    "Outcome",
    "PqCredential",
    "RecordUpdate",
    "ReplayedMessageError",
    "SenderMismatchError",
    "StaleMessageError",
    "UnknownAgencyError",
    "UnknownLinkCodeError",
    "UnsignedMessageError",
    "UntrustedPqCertificateError",
    "UpdateFailedError",
    "UpdateNotAllowedError",
    "admit_once",
    "answer",
    "answer_correction",
    "ask",
    "ask_about",
    "build_hub",
    "credential_for",
    "facts_for_household",
    "facts_from_members",
    "forget_old_requests",
    "http_transport",
    "issue_many",
    "link_code_for_resident",
    "load_log_signer",
    "open_signed",
    "request_correction",
    "request_self_information",
    "seed_agency_data",
    "sign",
    "transparency",
    "update_records",
]

from myna.network.lookup import resident_of_link_code

__all__ += ["resident_of_link_code"]
