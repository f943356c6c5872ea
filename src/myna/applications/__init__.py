"""電子申請 (e-applications): forms, drafts, pre-fill, signed submission, receipts.

Procedures with behaviour of their own plug in as handlers (``procedures``).
"""
