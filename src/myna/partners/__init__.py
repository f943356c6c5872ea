"""Mynaportal API for private organisations (partners): FAPI 2.0 consent and resource APIs.

Organisations register and are approved per scope; residents consent each time at the
portal; the authorization server issues DPoP-bound tokens; the resource APIs fetch
through the hub with the consent as the purpose. Other contexts import only from here.
"""
