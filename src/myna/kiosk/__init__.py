"""The certificate kiosk: a multifunction copier's コンビニ交付 screens, as its own web app.

Its own small web app (its own port), the copier's software: the resident chooses
証明書交付, puts the (virtual) MyNumber card on the reader and enters the PIN; the card
signs the kiosk's message with its user-authentication key; the resident chooses the
certificate and its options, sees the fee, and receives the signed PDF. It speaks the
kiosk API (docs/certificates.md) over HTTP and imports no server context.
"""
