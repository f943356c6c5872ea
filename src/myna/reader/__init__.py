"""The virtual card reader: the JPKI client software / smartphone app stand-in.

Its own small web app (its own port) that lists the cards in the reader, asks for the
PIN and answers a portal's login challenge — the way マイナポータルアプリ does after a
QR scan. It speaks the public card login protocol (docs/card-login.md) over HTTP.
"""

from myna.reader.app import create_reader_app

__all__ = ["create_reader_app"]
