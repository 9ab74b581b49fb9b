"""Shapes of the procedures JSON API (catalogue, forms, applications, statuses)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class Problem(Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(description="Stable problem type, e.g. `/problems/validation-error`.")
    title: str = Field(description="What went wrong, in the language of the request.")
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        None,
        description="For invalid input: `{field, detail}` items; answer errors also have a "
        "stable `code` and `field` is the answer's path (`children.0.birthdate`).",
    )


class DepartmentOut(Schema):
    code: str
    name: str


class ProcedureRef(Schema):
    slug: str
    title: str


class ProcedureOut(Schema):
    slug: str
    title: str = Field(description="In the language of the request (Japanese when missing).")
    summary: str
    category: str
    category_label: str
    channel: str = Field(description="`online`, `counter` or `both`.")
    online: bool = Field(description="It can be applied for online now (a form is published).")
    requires_identity: bool = Field(
        description="Submitting needs the My Number Card step-up (デジタル認証アプリ)."
    )
    fee_yen: int
    department: DepartmentOut
    life_events: list[str]


class ProcedureFilters(Schema):
    q: str = Field("", max_length=200, description="Search words (any UI language, kana folded).")
    category: str = Field("", max_length=20, description="A category value, e.g. `childcare`.")
    life_event: str = Field("", max_length=40, description="A life-event slug, e.g. `birth`.")


class ProcedureDetailOut(ProcedureOut):
    eligibility: str
    bring: str
    fee: str
    where: str
    hours: str
    sla_days: int = Field(description="Working days the city aims to take to decide.")
    form_version: int | None = Field(description="Number of the published form version, if any.")


class FormOut(Schema):
    procedure: str = Field(description="The procedure's slug.")
    version: int
    published_at: dt.datetime
    spec: dict[str, Any] = Field(
        description="The form specification (steps and fields); see docs/api.md."
    )


class ApplicationIn(Schema):
    answers: dict[str, Any] = Field(
        description="Answers by field key, in each field type's JSON shape. Fields left out "
        "are filled from what the city already knows (the form's prefill sources: profile, "
        "verified identity, earlier applications), as the online form would show them."
    )


class ResidentEventOut(Schema):
    kind: str
    kind_label: str
    from_status: str
    to_status: str
    text: str = Field(description="A message from or to the clerk; empty for status changes.")
    created_at: dt.datetime


class MyApplicationOut(Schema):
    id: int
    reference: str | None = Field(description="Receipt number, once submitted.")
    procedure: ProcedureRef
    status: str
    status_label: str
    via: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None


class MyApplicationDetailOut(MyApplicationOut):
    form_version: int
    answers: dict[str, Any]
    events: list[ResidentEventOut] = Field(description="Status history and messages.")


class ApplicationOut(Schema):
    """An application as staff and other systems see it in lists (no answers)."""

    id: int
    reference: str
    procedure: ProcedureRef
    department: DepartmentOut
    status: str
    status_label: str
    via: str
    submitted_at: dt.datetime
    updated_at: dt.datetime
    due_date: dt.date | None
    decided_at: dt.datetime | None
    assignee: str | None = Field(description="E-mail of the member of staff it is assigned to.")


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    next: str | None = Field(description="URL of the next page; null on the last one.")


class ApplicationFilters(Schema):
    department: str = Field("", max_length=50, description="A department code.")
    status: list[str] = Field(
        default_factory=list, description="Statuses (repeat for several); default: all."
    )
    procedure: str = Field("", max_length=80, description="A procedure slug.")
    updated_since: dt.datetime | None = Field(None, description="Changed at or after (ISO 8601).")
    submitted_since: dt.datetime | None = Field(
        None, description="Submitted at or after (ISO 8601)."
    )
    cursor: str = Field("", max_length=200, description="From `next` of the previous page.")
    limit: int = Field(50, ge=1, le=200, description="Applications per page.")


class ApplicantOut(Schema):
    name: str = Field(description="As given in the form.")
    email: str


class AttachmentOut(Schema):
    id: int
    field: str
    content_type: str
    size: int
    sha256: str
    name: str


class ApplicationDetailOut(ApplicationOut):
    applicant: ApplicantOut
    language: str
    assurance: str = Field(description="How the applicant was identified when submitting.")
    form_version: int
    answers: dict[str, Any]
    attachments: list[AttachmentOut]
    next_statuses: list[str] = Field(description="Statuses it may be moved to now.")


class StatusIn(Schema):
    status: str = Field(description="The new status, e.g. `received`, `approved`.")
    message: str = Field(
        "",
        max_length=4000,
        description="To the resident; required for `needs_info` and `rejected`.",
    )


class EventOut(Schema):
    id: int
    kind: str
    kind_label: str
    from_status: str
    to_status: str
    text: str
    actor: str | None = Field(description="E-mail of who did it (null: the system).")
    visible_to_resident: bool
    created_at: dt.datetime
