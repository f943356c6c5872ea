"""The portal's fixtures (the app over the test transaction, a persona's card)."""

from tests.integration.portal.conftest import portal, reader

__all__ = ["portal", "reader"]
