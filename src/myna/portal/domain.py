"""The portal's pure rules: what a resident's card login and pages refuse.

The card login's challenge-response itself is ``myna.cardlogin``'s (docs/card-login.md),
shared with the back office; the portal adds the resident's side of it.
"""

from __future__ import annotations

from myna.cardlogin.domain import LoginError
from myna.platform.errors import N_, MynaError


class ResidentUnavailableError(LoginError):
    code = "resident_unavailable"
    message = N_(
        "This card's holder is not registered as a current resident. "
        "Please contact your municipality."
    )
    status_code = 403


class NoCategoryChosenError(MynaError):
    code = "no_category"
    message = N_("Choose at least one category to retrieve.")
    status_code = 400


class NoTreeHeadYetError(MynaError):
    code = "no_tree_head"
    message = N_(
        "The log has not signed a tree head covering this entry yet. Try again in a minute."
    )
    status_code = 404
