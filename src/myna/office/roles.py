"""Staff roles: what a back-office account may do."""

from __future__ import annotations

import enum


class StaffRole(enum.StrEnum):
    """What a staff member may do: 担当者, 管理職 (approves), システム管理者, and the platform's.

    ``platform-admin`` (プラットフォーム管理者) is the platform operator's: it reviews the
    organisations that use the Mynaportal API (``/office/partners``) and decides nothing
    about a municipality's applications (it sees them as a clerk of its own municipality).
    """

    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    PLATFORM_ADMIN = "platform-admin"
