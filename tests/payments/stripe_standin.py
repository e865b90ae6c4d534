"""A small stand-in for the parts of Stripe's API that localstripe lacks, in front of localstripe.

The `stripe` library talks HTTP to this server. It answers these endpoints itself and forwards every
other request (customers, payment intents, refunds, subscriptions, invoices, ...) to localstripe:

  POST /v1/checkout/sessions              create a Checkout Session
  GET  /v1/checkout/sessions/{id}         retrieve one
  POST /v1/checkout/sessions/{id}/expire  expire an open one
  POST /v1/subscription_schedules         create one `from_subscription` (read from localstripe)
  POST /v1/subscription_schedules/{id}    update phases / end_behavior
  GET  /v1/subscription_schedules/{id}
  GET  /v1/invoice_payments?invoice=...   which payment paid an invoice (read from localstripe)

Request encoding (form-encoded nested keys), ids, object shapes and error bodies
(`{"error": {"type": "invalid_request_error", "message": ..., "param": ...}}` with status 400/404)
follow Stripe's. Where it differs from Stripe:
- Nothing is paid here: a Checkout Session stays `open` until expired; tests play the completed
  payment by making it in localstripe and sending the event Stripe would send.
- Only the parameters Cadre sends are validated (mode, line_items with price_data, success_url,
  customer, expires_at window, recurring only in subscription mode); others are accepted and ignored.
- Subscription schedules do not move the subscription: phases are stored and their end dates computed
  (30-day months, 7-day weeks), nothing is invoiced or cancelled when a phase ends. A localstripe plan
  stands for the price (`price.id` is the plan id), as legacy plans do in Stripe.
- Idempotency keys replay the first response for the same key on any path, and never expire.
- No promotion codes or coupons: Cadre does not use Stripe's (see api/payments/providers/stripe.py).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

PERIOD = {"day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}


class StripeError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


def decode_form(body: str) -> dict[str, Any]:
    """`a[b][0][c]=1` -> {"a": {"b": [{"c": "1"}]}}, as Stripe decodes its requests."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


class StripeStandIn:
    def __init__(self, localstripe_url: str):
        self.upstream = localstripe_url.rstrip("/")
        self.sessions: dict[str, dict] = {}
        self.schedules: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, decoded params) answered here
        self._idempotent: dict[str, tuple[int, dict]] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StripeStandIn:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the handful of endpoints answered here ----------------------------------------------

    def route(self, method: str, path: str, params: dict, auth: str) -> dict | None:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self.create_session(params, auth)
        if m := re.fullmatch(r"/v1/checkout/sessions/([\w]+)(/expire)?", path):
            cs = self.sessions.get(m.group(1))
            if cs is None:
                raise StripeError(404, f"No such checkout.session: '{m.group(1)}'", "session")
            if m.group(2) and method == "POST":
                if cs["status"] != "open":
                    raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
                cs.update(status="expired", url=None)
            return cs
        if method == "POST" and path == "/v1/subscription_schedules":
            return self.create_schedule(params, auth)
        if m := re.fullmatch(r"/v1/subscription_schedules/(\w+)", path):
            schedule = self.schedules.get(m.group(1))
            if schedule is None:
                raise StripeError(404, f"No such subscription_schedule: '{m.group(1)}'", "schedule")
            if method == "POST":
                self.update_schedule(schedule, params)
            return self._export_schedule(schedule, params.get("expand") or [])
        if method == "GET" and path == "/v1/invoice_payments":
            return self.invoice_payments(params, auth)
        return None

    def create_session(self, p: dict, auth: str) -> dict:
        mode = p.get("mode")
        if mode not in ("payment", "subscription", "setup"):
            raise StripeError(400, "Missing required param: mode.", "mode")
        if not p.get("success_url"):
            raise StripeError(400, "Missing required param: success_url.", "success_url")
        items = p.get("line_items") or []
        if not items:
            raise StripeError(400, "line_items is required in payment and subscription mode.", "line_items")
        total = 0
        for i, item in enumerate(items):
            pd = item.get("price_data")
            if not pd or not pd.get("currency") or not str(pd.get("unit_amount", "")).isdigit():
                raise StripeError(400, "Each line item needs a price or price_data with a currency and "
                                       "unit_amount.", f"line_items[{i}][price_data]")
            if ("recurring" in pd) != (mode == "subscription"):
                raise StripeError(400, "You must provide at least one recurring price in `subscription` mode "
                                       "and none in `payment` mode.", f"line_items[{i}][price_data][recurring]")
            total += int(pd["unit_amount"]) * int(item.get("quantity", 1))
        if p.get("customer"):
            self._upstream("GET", f"/v1/customers/{p['customer']}", auth)
        expires = int(p.get("expires_at") or time.time() + 86400)
        if not time.time() + 1790 <= expires <= time.time() + 86400 + 10:
            raise StripeError(400, "expires_at must be between 30 minutes and 24 hours from now.", "expires_at")
        sid = "cs_test_" + secrets.token_hex(16)
        cs = {"id": sid, "object": "checkout.session", "mode": mode, "status": "open", "payment_status": "unpaid",
              "url": f"https://checkout.stripe.com/c/pay/{sid}", "amount_total": total, "amount_subtotal": total,
              "currency": items[0]["price_data"]["currency"], "customer": p.get("customer"),
              "client_reference_id": p.get("client_reference_id"), "metadata": p.get("metadata") or {},
              "success_url": p["success_url"], "cancel_url": p.get("cancel_url"), "expires_at": expires,
              "payment_intent": None, "subscription": None, "invoice": None, "livemode": False,
              "created": int(time.time())}
        self.sessions[sid] = cs
        return cs

    def create_schedule(self, p: dict, auth: str) -> dict:
        sub_id = p.get("from_subscription")
        if not sub_id:
            raise StripeError(400, "Only `from_subscription` is supported by this stand-in.", "from_subscription")
        sub = self._upstream("GET", f"/v1/subscriptions/{sub_id}", auth)
        if any(s["subscription"] == sub_id for s in self.schedules.values()):
            raise StripeError(400, f"The subscription {sub_id} is already attached to a schedule.")
        item = sub["items"]["data"][0]
        plan = item["plan"]
        price = {"id": plan["id"], "object": "price", "product": plan["product"], "unit_amount": plan["amount"],
                 "currency": plan["currency"], "recurring": {"interval": plan["interval"]}}
        sid = "sub_sched_" + secrets.token_hex(12)
        schedule = {"id": sid, "object": "subscription_schedule", "subscription": sub_id, "status": "active",
                    "end_behavior": "release", "customer": sub["customer"], "metadata": {},
                    "phases": [{"start_date": sub["current_period_start"], "end_date": sub["current_period_end"],
                                "items": [{"price": price, "quantity": item.get("quantity", 1)}],
                                "duration": None, "metadata": {}}]}
        self.schedules[sid] = schedule
        return self._export_schedule(schedule, p.get("expand") or [])

    def update_schedule(self, schedule: dict, p: dict) -> None:
        if p.get("end_behavior"):
            if p["end_behavior"] not in ("cancel", "release", "none", "renew"):
                raise StripeError(400, "Invalid end_behavior.", "end_behavior")
            schedule["end_behavior"] = p["end_behavior"]
        if "phases" not in p:
            return
        phases, start = [], None
        for i, ph in enumerate(p["phases"]):
            start = int(ph.get("start_date") or start or schedule["phases"][0]["start_date"])
            if i == 0 and start != schedule["phases"][0]["start_date"]:
                raise StripeError(400, "You can not modify the start date of the current phase.",
                                  "phases[0][start_date]")
            duration = ph.get("duration")
            if not duration or duration.get("interval") not in PERIOD:
                raise StripeError(400, "Each phase needs a duration (or an end_date).", f"phases[{i}][duration]")
            items = []
            for j, it in enumerate(ph.get("items") or []):
                if "price" in it:
                    items.append({"price": it["price"], "quantity": int(it.get("quantity", 1))})
                elif "price_data" in it and it["price_data"].get("product"):
                    pd = it["price_data"]
                    items.append({"price": {"id": "price_" + secrets.token_hex(8), "object": "price",
                                            "product": pd["product"], "unit_amount": int(pd["unit_amount"]),
                                            "currency": pd["currency"], "recurring": pd.get("recurring")},
                                  "quantity": int(it.get("quantity", 1))})
                else:
                    raise StripeError(400, "Each phase item needs a price, or price_data with a product.",
                                      f"phases[{i}][items][{j}]")
            if not items:
                raise StripeError(400, "Missing required param: items.", f"phases[{i}][items]")
            count = int(duration.get("interval_count", 1))
            end = start + PERIOD[duration["interval"]] * count
            phases.append({"start_date": start, "end_date": end, "items": items,
                           "duration": {"interval": duration["interval"], "interval_count": count},
                           "metadata": ph.get("metadata") or {}})
            start = end
        schedule["phases"] = phases

    @staticmethod
    def _export_schedule(schedule: dict, expand: list[str]) -> dict:
        out = json.loads(json.dumps(schedule))
        if "phases.items.price" not in expand:
            for ph in out["phases"]:
                for it in ph["items"]:
                    it["price"] = it["price"]["id"] if isinstance(it["price"], dict) else it["price"]
        return out

    def invoice_payments(self, p: dict, auth: str) -> dict:
        invoice = self._upstream("GET", f"/v1/invoices/{p.get('invoice')}", auth)
        data = []
        if invoice.get("payment_intent"):
            data.append({"object": "invoice_payment", "invoice": invoice["id"], "is_default": True,
                         "status": "paid" if invoice["status"] == "paid" else "open",
                         "amount_paid": invoice.get("amount_paid"), "currency": invoice.get("currency"),
                         "payment": {"type": "payment_intent", "payment_intent": invoice["payment_intent"]}})
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"}

    # --- plumbing -----------------------------------------------------------------------------

    def _upstream(self, method: str, path: str, auth: str) -> dict:
        r = httpx.request(method, self.upstream + path, headers={"Authorization": auth}, timeout=10)
        if r.status_code >= 400:
            raise StripeError(r.status_code, f"No such object: {path.rsplit('/', 1)[-1]}")
        return r.json()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                params = decode_form(body.decode() if method == "POST" else url.query)
                auth = self.headers.get("Authorization", "")
                key = self.headers.get("Idempotency-Key")
                try:
                    with standin._lock:
                        if method == "POST" and key and key in standin._idempotent:
                            status, answer = standin._idempotent[key]
                        else:
                            answer = standin.route(method, url.path, params, auth)
                            status = 200
                            if answer is not None:
                                standin.requests.append((method, url.path, params))
                                if method == "POST" and key:
                                    standin._idempotent[key] = (status, answer)
                except StripeError as exc:
                    status, answer = exc.status, {"error": {"type": "invalid_request_error",
                                                            "message": exc.message, "param": exc.param}}
                if answer is None:  # everything else is localstripe's
                    r = httpx.request(method, standin.upstream + self.path, content=body, timeout=10,
                                      headers={k: v for k, v in self.headers.items()
                                               if k.lower() in ("authorization", "content-type")})
                    status, raw = r.status_code, r.content
                else:
                    raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802 - http.server's names
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def do_DELETE(self):  # noqa: N802
                self._serve("DELETE")

        return Handler
