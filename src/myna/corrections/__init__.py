"""訂正の申出: a resident says a value an agency holds is wrong, where they see it.

The request goes through the network, as a signed message, to the agency that holds the
item (embedded or on its own node); the agency answers from its queue (the back office
for a municipality, ``myna agency corrections`` elsewhere); the answer comes back through
the hub to the resident as a notice. Every step is logged in やりとり履歴.
See docs/corrections.md.
"""

from myna.corrections.service import (
    CORRECTED,
    NOT_CORRECTED,
    SUBMITTED,
    CorrectionDraft,
    CorrectionFormError,
    CorrectionTarget,
    CorrectionTargetError,
    CorrectionView,
    EvidenceUpload,
    Inbox,
    check_draft,
    correction_of,
    corrections_of,
    file_correction,
    target,
)

__all__ = [
    "CORRECTED",
    "NOT_CORRECTED",
    "SUBMITTED",
    "CorrectionDraft",
    "CorrectionFormError",
    "CorrectionTarget",
    "CorrectionTargetError",
    "CorrectionView",
    "EvidenceUpload",
    "Inbox",
    "check_draft",
    "correction_of",
    "corrections_of",
    "file_correction",
    "target",
]
