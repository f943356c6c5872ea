"""申請管理 (the back office): staff, the municipality's case handling, notices, the filing API."""
