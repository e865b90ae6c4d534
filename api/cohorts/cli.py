"""`cadre cohorts`: list, create (sessions generated from the programme's format), and run the
cohorts' scheduled work now (holds, waitlist offers, reminders)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, time


def register(sub) -> None:
    cohorts = sub.add_parser("cohorts", help="live cohorts").add_subparsers(dest="action", required=True)
    p = cohorts.add_parser("list", help="every cohort with its first session and seats left")
    p.add_argument("--programme")
    p = cohorts.add_parser("create", help="a cohort with its sessions from the programme's format")
    p.add_argument("programme")
    p.add_argument("starts_on", help="the first day, local: YYYY-MM-DD")
    p.add_argument("--time-zone", required=True, help="IANA name, e.g. Europe/London")
    p.add_argument("--capacity", type=int)
    p.add_argument("--start", help="local start time HH:MM (default: the format's)")
    p.add_argument("--facilitator", action="append", default=[], help="a coach's email (repeatable)")
    cohorts.add_parser("run", help="release expired holds, send waitlist offers and session reminders now")
    for name in ("list", "create", "run"):
        cohorts.choices[name].set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from api.cli import _session
    from api.cohorts import notices, seats, service, waitlist
    from api.core.errors import CadreError
    from api.core.timezones import format_instant

    with _session() as session:
        try:
            if args.action == "list":
                page = service.all_cohorts(session, programme_slug=args.programme)
                while True:
                    for c in page.rows:
                        first = format_instant(c.first.starts_at, c.cohort.time_zone) if c.first else "-"
                        print(f"{c.cohort.public_id:18} {c.cohort.status:9} {c.seats_left:>3}/{c.cohort.capacity:<3} "
                              f"{first:40} {c.cohort.title}")
                    if not page.next:
                        break
                    page = service.all_cohorts(session, programme_slug=args.programme, after=page.next)
            elif args.action == "create":
                ids = [service.coach_by_email(session, e).id for e in args.facilitator]
                cohort = service.create_cohort(session, programme_slug=args.programme,
                                               starts_on=date.fromisoformat(args.starts_on), time_zone=args.time_zone,
                                               capacity=args.capacity,
                                               start_time=time.fromisoformat(args.start) if args.start else None,
                                               facilitator_ids=ids)
                for row in service.sessions_of(session, cohort):
                    print(f"  {row.title}: {format_instant(row.starts_at, cohort.time_zone)}")
                print(f"Created {cohort.public_id}: {cohort.title}")
            else:
                released = seats.expire_holds(session)
                done = waitlist.run_offers(session)
                sent = notices.send_reminders(session)
                print(f"{released} hold(s) released, {done['offered']} offer(s) sent, {done['lapsed']} lapsed, "
                      f"{sent} reminder(s) queued")
            session.commit()
        except (CadreError, ValueError) as exc:
            print(getattr(exc, "message", str(exc)), file=sys.stderr)
            return 1
    return 0
