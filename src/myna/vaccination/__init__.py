"""接種証明書 (vaccination certificates): SMART Health Cards and ICAO VDS-NC.

The municipality issues a resident's certificates from its 予防接種台帳 (read through
the network hub) and signs them with its own key, certified by the government CA;
anyone verifies them on the open page or with the published keys. The pages and the
key set are this package's routers (``views``, ``api``); nothing else is imported.
"""
