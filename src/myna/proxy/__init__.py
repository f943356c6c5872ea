"""Proxies (代理人): legal representatives and appointed proxies acting for a resident.

Other contexts import only from here: the page dependencies that let a proxy act
(``ActingForNotices`` and the like), the check for acts that arrive outside the session
(a signature), and the activity record. See docs/proxy.md.
"""

from myna.proxy.domain import (
    SCOPE_LABELS,
    AuthorityEndedError,
    Kind,
    NotARepresentativeError,
    Scope,
    ScopeNotGrantedError,
)
from myna.proxy.service import (
    ActivityView,
    activity_for,
    authorities_for,
    check_authority,
    name_of,
    record,
)
from myna.proxy.web import ActingForApply, ActingForMyInfo, ActingForNotices, ActingOrSelf

__all__ = [
    "SCOPE_LABELS",
    "ActingForApply",
    "ActingForMyInfo",
    "ActingForNotices",
    "ActingOrSelf",
    "ActivityView",
    "AuthorityEndedError",
    "Kind",
    "NotARepresentativeError",
    "Scope",
    "ScopeNotGrantedError",
    "activity_for",
    "authorities_for",
    "check_authority",
    "name_of",
    "record",
]
