"""Notices (お知らせ): to one resident or to a segment, inboxes, read and archived states."""
