"""JSON shapes of the open-data service catalog API (documented in OpenAPI and docs/services.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MunicipalityRef(BaseModel):
    """A municipality (市区町村) by its local government code and name."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="全国地方公共団体コード (6 digits with check digit).")
    name: str = Field(description="Prefecture and municipality, e.g. 東京都千代田区.")


class ProcedureSummary(BaseModel):
    """A procedure as a search result lists it."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="Stable code of the procedure.")
    name_ja: str
    name_en: str
    category: str = Field(description="child-rearing, long-term-care, disaster or vehicle.")
    life_events: list[str]
    summary: str = Field(description="What the procedure is for (Japanese).")
    online: bool = Field(description="Whether it can be filed online through the portal.")
    signature_required: bool = Field(
        description="Whether an online filing is signed with the card's signing certificate."
    )
    priority: bool = Field(description="One of the 31 priority procedures (deck p28).")
    offered_by: list[MunicipalityRef] | None = Field(
        description="The municipalities offering it; null when every municipality does."
    )


class ProcedureRead(ProcedureSummary):
    """A procedure in one municipality, with everything a resident needs to file it."""

    municipality: MunicipalityRef
    eligibility: str = Field(description="Who may file it, in words (Japanese).")
    documents: list[str] = Field(description="What to prepare (Japanese).")
    department: str = Field(description="The handling department (担当課).")
    apply_url: str | None = Field(
        description="The online application form of this municipality; null when there is none."
    )


class SearchResultRead(BaseModel):
    """One page of a catalog search."""

    items: list[ProcedureSummary]
    total: int = Field(description="Matches over all pages.")
    page: int
    page_size: int
    pages: int
    has_next: bool
