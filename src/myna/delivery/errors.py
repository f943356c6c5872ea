"""Why a 民間送達 document is refused, in words for its sender and for the resident."""

from __future__ import annotations

from myna.platform.errors import N_, MynaError


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
