"""Request and response shapes of /api/v1/organisations (tables are never exposed)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.payments.schemas import BuyerCompany, BuyerName, BuyerVat, WithBuyer

VAT_DESCRIPTION = ("The VAT number with its country code, by the checkout's rule (buyer_vat): two letters, then 2 to "
                   "13 letters or digits, stored without spaces, dots or hyphens and capitalised. 422 "
                   "invalid_vat_number otherwise.")


class OrganisationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    legal_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=2000)
    vat_number: str | None = Field(default=None, max_length=40, description=VAT_DESCRIPTION, examples=["GB123456789"])


class OrganisationUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    legal_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=2000)
    vat_number: str | None = Field(default=None, max_length=40, description=VAT_DESCRIPTION, examples=["GB123456789"])


class OrganisationPublic(BaseModel):
    id: str  # the public id
    name: str
    role: str | None  # the caller's role; None for a platform admin who is not a member
    legal_name: str | None = None  # billing details: owners (and platform admins) only
    address: str | None = None
    vat_number: str | None = None
    members: int


class MemberPublic(BaseModel):
    id: int  # the membership's id
    name: str
    email: str
    role: str
    joined_at: datetime


class RoleChange(BaseModel):
    role: str = Field(pattern="^(owner|manager|member)$")


class InvitationCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    role: str = Field(default="member", pattern="^(owner|manager|member)$")


class InvitationPublic(BaseModel):
    id: int
    email: str
    role: str
    expires_at: datetime
    expired: bool


class Consent(BaseModel):
    share_progress: bool
    share_assessments: bool


class SeatCheckoutIn(WithBuyer, BaseModel):
    """Invoice details are optional as at any checkout; none given: the organisation's legal name (or its
    name) and VAT number."""

    programme: str = Field(min_length=1, max_length=80)
    quantity: int = Field(ge=1, le=500)
    buyer_name: BuyerName = None
    buyer_company: BuyerCompany = None
    buyer_vat: BuyerVat = None


class SeatCheckoutPublic(BaseModel):
    order: str
    quantity: int
    amount_total: int
    currency: str
    checkout_url: str


class SeatGrant(BaseModel):
    programme: str = Field(min_length=1, max_length=80)
    cohort: str | None = Field(default=None, max_length=40)  # a live programme's cohort (its public id)
    quantity: int = Field(ge=1, le=10_000)
    note: str | None = Field(default=None, max_length=300)


class AssignIn(BaseModel):
    member: int  # the membership's id


class HolderPublic(BaseModel):
    assignment: int
    member_email: str
    name: str
    started: bool
    assigned_at: datetime


class PoolPublic(BaseModel):
    id: str
    programme: str
    cohort: str | None  # the cohort's title, for seats in a live cohort
    quantity: int
    assigned: int
    available: int
    take_backs: int
    take_backs_allowed: int
    holders: list[HolderPublic]


class ProgrammeLinePublic(BaseModel):
    programme: str
    seat: bool
    shared: bool
    status: str | None
    percent: int | None
    assessment: str | None


class CertificateLinePublic(BaseModel):
    number: str
    programme: str
    status: str
    expires_at: datetime | None
    expiring_soon: bool
    verify_url: str


class TeamMemberPublic(BaseModel):
    member: int
    name: str
    email: str
    role: str
    shares_progress: bool
    shares_assessments: bool
    programmes: list[ProgrammeLinePublic]
    certificates: list[CertificateLinePublic]
