"""A small world for the hub: the personas, their agencies' records and link codes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session

from myna import agencies, jpki, network, registry
from myna.platform.settings import Settings


@dataclass
class RecordingTransport:
    """The in-process transport, recording who was asked or written to; can fail one."""

    inner: network.AgencyTransport
    calls: list[str] = field(default_factory=list)
    failing: dict[str, Exception] = field(default_factory=dict)
    garbage: set[str] = field(default_factory=set)
    replaying: set[str] = field(default_factory=set)
    answers: dict[str, str] = field(default_factory=dict)

    def query(self, provider: str, signed_query: str) -> str:
        self.calls.append(provider)
        if provider in self.failing:
            raise self.failing[provider]
        if provider in self.garbage:
            return "not.a.jws"
        if provider in self.replaying:
            return self.answers[provider]
        self.answers[provider] = self.inner.query(provider, signed_query)
        return self.answers[provider]

    def publish(self, owner: str, signed_update: str) -> str:
        self.calls.append(owner)
        if owner in self.failing:
            raise self.failing[owner]
        if owner in self.garbage:
            return "not.a.jws"
        return self.inner.publish(owner, signed_update)


@dataclass
class World:
    """The personas by key, the hub and its recording transport."""

    residents: dict[str, registry.ResidentRead]
    hub: network.Hub
    transport: RecordingTransport


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    registry.ensure_municipalities(session=session)
    residents = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    network.seed_agency_data(session=session, seed=1)
    transport = RecordingTransport(network.InProcessTransport(session=session, settings=settings))
    hub = network.Hub(settings=settings, directory=agencies.load_catalog(), transport=transport)
    return World(residents=residents, hub=hub, transport=transport)
