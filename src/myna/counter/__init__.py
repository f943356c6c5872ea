"""The clinic's counter: a 顔認証付きカードリーダー stand-in and the reception's screen.

Its own small web app (its own port), the institution's software: it holds the
institution's key, opens a reception with the eligibility service, lets the patient put
a (virtual) card on the reader and enter the PIN — or the staff confirm the face — asks
the consent questions, and shows the result. It speaks the institution API
(docs/health.md) over HTTP and imports no server context.
"""
