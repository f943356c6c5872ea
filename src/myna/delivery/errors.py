"""Why a 民間送達 document is refused, in words for its sender and for the resident."""

from __future__ import annotations

from myna.platform.errors import N_, MynaError, NotFoundError


class DeliveryError(MynaError, code="delivery_error", status_code=422):
    """A document that Myna does not accept."""

    message = N_("The document was not accepted.")


class DocumentTooLargeError(DeliveryError, code="document_too_large", status_code=413):
    """More bytes than any real certificate needs; refused before parsing."""

    message = N_("The document is larger than {limit} bytes.")


class UnsafeDocumentError(DeliveryError, code="unsafe_document"):
    """Not well-formed UTF-8 XML, or XML with a DTD or entities (billion laughs, XXE)."""

    message = N_("The document is not well-formed UTF-8 XML without a DTD or entities.")


class UnknownDocumentKindError(DeliveryError, code="unknown_document_kind"):
    """A root element that is none of the formats Myna knows."""

    message = N_("The document's kind ({kind}) is not one Myna accepts.")


class SchemaInvalidError(DeliveryError, code="schema_invalid"):
    """The document does not follow its schema; ``element`` and ``line`` name the first problem."""

    message = N_("The document does not follow its schema at {element} (line {line}): {reason}")


class UnsignedDocumentError(DeliveryError, code="unsigned_document"):
    """No enveloped signature where one is required."""

    message = N_("The document is not signed.")


class TamperedDocumentError(DeliveryError, code="tampered_document"):
    """The signature does not match the document, or is no enveloped signature over all of it."""

    message = N_("The document's signature does not match its content.")


class UntrustedSignerError(DeliveryError, code="untrusted_signer"):
    """The signer's certificate is not trusted, or names another organisation than the sender."""

    message = N_("The document is not signed by a trusted certificate of its sender.")


# -- refusals of the sender API and of the resident's box ----------------------------


class UnregisteredSenderError(MynaError, code="unregistered_sender", status_code=403):
    """The signer is not a registered sender, or its registration is suspended."""

    message = N_(
        "This organisation is not registered as a sender of 民間送達, or its registration "
        "is suspended. Register it first with `myna delivery register-sender`."
    )


class SenderCertificateRevokedError(MynaError, code="sender_certificate_revoked", status_code=403):
    """The sender's certificate from the government CA has been revoked."""

    message = N_(
        "The sender's certificate has been revoked. Ask the Myna Government CA for a new "
        "key and certificate, then sign again."
    )


class NotLinkedError(MynaError, code="recipient_not_linked", status_code=403):
    """The recipient has not linked this sender to their box, or has unlinked it."""

    message = N_(
        "The recipient has not linked your organisation to their Mynaportal box, or has "
        "removed the link. Nothing is delivered without a link."
    )


class RecipientMismatchError(DeliveryError, code="recipient_mismatch"):
    """The document names another recipient (or sender) than the request."""

    message = N_(
        "The document is addressed to another recipient or from another sender than the "
        "request says. Send each resident only their own documents."
    )


class DocumentConflictError(MynaError, code="document_conflict", status_code=409):
    """A document id already delivered with different bytes."""

    message = N_(
        "A different document with the id {document_id} was already delivered. A resend "
        "must be the same file; a corrected document needs a new id."
    )


class MalformedDocumentFieldError(DeliveryError, code="malformed_request"):
    """The request's ``recipient`` or ``document`` is missing, or the document is not base64."""

    message = N_("The request needs a recipient and the signed document as base64 text.")


class SenderExistsError(MynaError, code="sender_exists", status_code=409):
    """A sender with this code is registered already."""

    message = N_("A sender with this code is registered already.")


class InvalidSenderError(MynaError, code="invalid_sender", status_code=422):
    """A sender code or kind Myna does not accept."""

    message = N_(
        "The sender code must be 2 to 40 lowercase letters, digits or hyphens, and the kind "
        "one of life-insurer, non-life-insurer, employer, municipality or pension-fund."
    )


class UnknownSenderError(NotFoundError, code="unknown_sender"):
    """No such registered sender (for the resident's link page)."""

    message = N_("No such sender is registered for 民間送達.")


class DeliveryNotFoundError(NotFoundError, code="delivery_not_found"):
    """No such document in the resident's box (another resident's is as unknown)."""

    message = N_("This document is not in your box.")


# -- 年末調整: certificates handed over to the employer ------------------------------------


class EmployerNotLinkedError(MynaError, code="employer_not_linked", status_code=403):
    """The resident's hand-over names no employer they allow on their senders page."""

    message = N_(
        "Certificates for the year-end adjustment go only to an employer you allow to "
        "deliver to your box. Allow your employer on the senders page first."
    )


class NothingToHandOverError(MynaError, code="handover_empty", status_code=422):
    """No certificate was chosen, or more than a hand-over may carry."""

    message = N_("Choose from 1 to {limit} certificates to hand over.")


class NotHandableError(MynaError, code="document_not_handable", status_code=422):
    """A chosen document is not in the box, not a 控除証明書, or of another year."""

    message = N_(
        "Only deduction certificates in your box (life insurance, earthquake insurance, "
        "national pension) of the chosen tax year can be handed over to your employer."
    )


class AlreadyHandedOverError(MynaError, code="already_handed_over", status_code=409):
    """A chosen certificate is in a hand-over to this employer already (not withdrawn)."""

    message = N_(
        "One of the chosen certificates has already been handed over to this employer. "
        "Withdraw that hand-over first if you want to hand it over again."
    )


class HandoverNotFoundError(NotFoundError, code="handover_not_found"):
    """No such hand-over (another resident's, or one addressed to another employer)."""

    message = N_("There is no such hand-over for the year-end adjustment.")


class HandoverWithdrawnError(MynaError, code="handover_withdrawn", status_code=410):
    """The employee withdrew the hand-over before the employer collected it."""

    message = N_(
        "The employee withdrew this hand-over before it was collected. Its documents are "
        "not available; ask the employee if you still need them."
    )


class HandoverCollectedError(MynaError, code="handover_collected", status_code=409):
    """The employer has collected the hand-over: the documents are with it already."""

    message = N_(
        "Your employer has already collected these certificates, so the hand-over can no "
        "longer be withdrawn. Ask your employer if something needs to change."
    )


class NotAnEmployerError(MynaError, code="not_an_employer", status_code=403):
    """A sender that is not registered as an employer asks for hand-overs."""

    message = N_(
        "Only senders registered as employers receive certificates handed over for the "
        "year-end adjustment."
    )
