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
