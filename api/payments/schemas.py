from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from api.payments import invoices


class QuotePublic(BaseModel):
    programme: str
    offer: str
    offer_title: str
    kind: str
    currency: str
    amount_before: int
    discount: int
    amount_total: int
    instalments: list[int]  # the payments, first first; one entry for a full payment
    interval: str | None
    code: str | None
    code_applied: bool
    code_problem: str | None  # why the code does not apply, in words for the learner
    summary: str


def _buyer_rule(key: str) -> AfterValidator:
    """The checkout page's rule for one invoice detail (invoices.clean_buyer_field), its message as the 422's."""
    def check(value: str | None) -> str | None:
        try:
            return invoices.clean_buyer_field(key, value)
        except invoices.BuyerProblem as problem:
            raise PydanticCustomError("buyer_details", problem.message) from None
    return AfterValidator(check)


# Who the invoice is made out to, each optional (none given: the account's name), for every checkout.
BuyerName = Annotated[str | None, Field(
    description="The name on the invoice (spaces are collapsed). Default: the account's name.",
    json_schema_extra={"maxLength": 200}, examples=["Ada Okafor"]), _buyer_rule("buyer_name")]
BuyerCompany = Annotated[str | None, Field(
    description="The company the invoice is made out to (spaces are collapsed).",
    json_schema_extra={"maxLength": 200}, examples=["Northgate Building Society"]), _buyer_rule("buyer_company")]
BuyerVat = Annotated[str | None, Field(
    description="The company's VAT number with its country code: two letters, then 2 to 13 letters or digits. "
                "Spaces, dots and hyphens are dropped and letters capitalised (\"gb 123.456-789\" is stored "
                "as GB123456789).", json_schema_extra={"maxLength": 40}, examples=["GB123456789"]),
    _buyer_rule("buyer_vat")]


class WithBuyer:
    """For a checkout's request body with the fields buyer_name, buyer_company and buyer_vat (BuyerName,
    BuyerCompany, BuyerVat): the invoice details they give."""

    def buyer(self) -> invoices.BuyerDetails:
        return invoices.BuyerDetails(name=self.buyer_name, company=self.buyer_company, vat=self.buyer_vat)


class CheckoutIn(WithBuyer, BaseModel):
    programme: str = Field(min_length=1, max_length=80)
    offer: str | None = Field(default=None, max_length=80)
    code: str | None = Field(default=None, max_length=60)
    cohort: str | None = Field(default=None, max_length=40)  # a live programme: the cohort's public id
    buyer_name: BuyerName = None
    buyer_company: BuyerCompany = None
    buyer_vat: BuyerVat = None


class PaymentPublic(BaseModel):
    number: int
    amount: int
    currency: str
    due_date: date
    status: str
    amount_refunded: int
    paid_at: datetime | None


class OrderPublic(BaseModel):
    id: str
    programme: str
    offer: str
    status: str
    currency: str
    amount_before: int
    discount: int
    amount_total: int
    amount_paid: int
    amount_refunded: int
    code: str | None
    created_at: datetime
    paid_at: datetime | None
    payments: list[PaymentPublic]


class CheckoutPublic(BaseModel):
    order: OrderPublic
    checkout_url: str


class CodeCreate(BaseModel):
    code: str = Field(min_length=1, max_length=60)
    percent_off: int | None = Field(default=None, ge=1, le=100)
    amount_off: int | None = Field(default=None, ge=1)  # minor units
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    programmes: list[str] = []  # programme slugs; empty: every programme
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = Field(default=None, ge=1)
    max_per_customer: int | None = Field(default=1, ge=1)
    note: str | None = Field(default=None, max_length=200)


class CodePublic(BaseModel):
    code: str
    kind: str
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    programmes: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int | None
    max_per_customer: int | None
    active: bool
    reserved: int
    redeemed: int


class RefundIn(BaseModel):
    amount: int | None = Field(default=None, ge=1)  # minor units; omitted: everything still refundable
    reason: str | None = Field(default=None, max_length=300)


class WebhookAck(BaseModel):
    received: bool = True
    status: str  # processed | ignored | duplicate
