"""証明書の交付 (certificates): signed PDFs at the kiosk and online, and their verification.

What other contexts may use: the names the exchange history shows for the kiosk and for
the certificate items (``KIOSK_REQUESTER``, ``LOG_ITEM_NAMES``).
"""

from myna.certificates.domain import KIOSK_REQUESTER, LOG_ITEMS, CertificateKind

# やりとり履歴: each certificate item's name, Japanese and English.
LOG_ITEM_NAMES: dict[str, tuple[str, str]] = {
    LOG_ITEMS[CertificateKind.RESIDENT_RECORD]: (
        "住民票の写しの交付",
        "Copy of the residence record (住民票の写し) issued",
    ),
    LOG_ITEMS[CertificateKind.SEAL]: (
        "印鑑登録証明書の交付",
        "Seal registration certificate (印鑑登録証明書) issued",
    ),
    LOG_ITEMS[CertificateKind.TAX]: (
        "課税（所得）証明書の交付",
        "Tax and income certificate (課税（所得）証明書) issued",
    ),
}

__all__ = ["KIOSK_REQUESTER", "LOG_ITEM_NAMES"]
