"""民間送達 (private delivery): signed tax documents from senders to a resident's box.

The document layer: the e-Tax-shaped certificates and withholding slips (控除証明書,
源泉徴収票) as typed dataclasses and Myna's own XSDs, their safe parsing and
plain-Japanese explanation, and enveloped XMLDSig signing and verification. The
channel (``service``): registered senders, the residents' links, signed deliveries
and the box; ``documents_of`` gives another context (the tax return) what a resident
received. The way back (``handovers``): with the employee's consent, 控除証明書 from the
box go to a linked employer for 年末調整. Other contexts import only from here.
"""

from myna.delivery.documents import (
    MAX_DOCUMENT_BYTES,
    ContributionKind,
    Dependents,
    Document,
    DocumentKind,
    Donation,
    DonationReceipt,
    EarthquakeInsuranceCertificate,
    InsuredObject,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsurancePremiums,
    LifeInsuranceSystem,
    NationalPensionCertificate,
    PublicPensionWithholdingSlip,
    SalaryWithholdingSlip,
    explain,
    parse,
)
from myna.delivery.domain import SENDER_KIND_LABELS, SenderKind
from myna.delivery.errors import (
    DeliveryError,
    DocumentTooLargeError,
    SchemaInvalidError,
    TamperedDocumentError,
    UnknownDocumentKindError,
    UnsafeDocumentError,
    UnsignedDocumentError,
    UntrustedSignerError,
)
from myna.delivery.service import Received, deliveries_by_sender_kind, documents_of
from myna.delivery.signature import VerifiedDocument, sign, verify

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "SENDER_KIND_LABELS",
    "ContributionKind",
    "DeliveryError",
    "Dependents",
    "Document",
    "DocumentKind",
    "DocumentTooLargeError",
    "Donation",
    "DonationReceipt",
    "EarthquakeInsuranceCertificate",
    "InsuredObject",
    "LifeInsuranceCategory",
    "LifeInsuranceCertificate",
    "LifeInsurancePremiums",
    "LifeInsuranceSystem",
    "NationalPensionCertificate",
    "PublicPensionWithholdingSlip",
    "Received",
    "SalaryWithholdingSlip",
    "SchemaInvalidError",
    "SenderKind",
    "TamperedDocumentError",
    "UnknownDocumentKindError",
    "UnsafeDocumentError",
    "UnsignedDocumentError",
    "UntrustedSignerError",
    "VerifiedDocument",
    "deliveries_by_sender_kind",
    "documents_of",
    "explain",
    "parse",
    "sign",
    "verify",
]
