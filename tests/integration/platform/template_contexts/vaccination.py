"""What the 接種証明書 pages need to render (the resident's and the open verifier)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from myna.vaccination import domain, service

_MR = domain.VACCINES_BY_SLUG["mr"]
_HOLDER = domain.Holder("山田", "陽翔", "ヤマダ", "ハルト", date(2016, 5, 1), "M")
_DOSES = (
    domain.Dose(_MR, 1, date(2017, 5, 15), "東京都千代田区", "MR123A"),
    domain.Dose(_MR, 2, date(2021, 10, 4), "東京都千代田区", None),
)
CONTEXT = {
    "vax_vaccines": [service.VaccineSummary(_MR, _DOSES)],
    "vax_issued": service.IssuedCertificates(
        vaccine=_MR,
        holder=_HOLDER,
        doses=_DOSES,
        issuer_name="東京都千代田区",
        issuer="http://testserver/vaccination/issuers/131016",
        shc_jws="a.b.c",
        shc_qr="shc:/5652",
        vds=None,
        issued_at=datetime(2026, 12, 1, tzinfo=UTC),
    ),
    "vax_problem": "p",
    "vax_empty": True,
    "vax_shc_image": "data:image/png;base64,iVBORw0KGgo=",
    "vax_vds_image": "data:image/png;base64,iVBORw0KGgo=",
    "vax_card_file": "data:application/smart-health-card;base64,e30=",
    "vax_vds_file": "data:application/json;base64,e30=",
    "vax_result": domain.VerifiedCertificate(
        format="shc",
        names=("山田 陽翔", "YAMADA HARUTO"),
        birth_date=date(2016, 5, 1),
        doses=(
            domain.VerifiedDose(
                "MR（麻しん風しん）", 1, date(2017, 5, 15), "東京都千代田区", "MR123A"
            ),
        ),
        issuer_name="東京都千代田区",
        issuer="http://testserver/vaccination/issuers/131016",
    ),
}
