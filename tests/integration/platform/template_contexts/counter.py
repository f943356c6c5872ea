"""What the clinic counter's pages (reception, reader, consents, result) need to render."""

from __future__ import annotations

from datetime import UTC, datetime

from myna.counter.app import Reception
from myna.counter.client import Eligibility
from myna.counter.screens import InstitutionView, result_view
from tests.integration.counter.answers import RESULT

_CLINIC = InstitutionView("1310110018", "みなと内科クリニック", "医科", pharmacy=False)

CONTEXT = {
    "counter_institutions": [_CLINIC],
    "counter_institution": _CLINIC,
    "counter_several": True,
    "counter_visit": Reception(
        "1310110018", "v1", "n1", kept_until=datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    ),
    "counter_card": None,
    "counter_errors": {"pin": "暗証番号が違います。"},
    "counter_values": {"medication": "yes", "insurer_number": "06132013"},
    "counter_staff": "佐藤",
    "counter_code": "1310110018",
    "counter_result": result_view(Eligibility.model_validate(RESULT)),
    "counter_fhir": "/1310110018/visits/v1/result.fhir.json",
}
