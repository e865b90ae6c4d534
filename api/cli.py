"""The `cadre` command: serve, worker, db upgrade, content sync, users, enrol, codes, payments, keys,
verify, certificates, demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlmodel import Session


def _session() -> Session:
    import api.models  # noqa: F401
    from api.core.db import get_engine

    return Session(get_engine(), expire_on_commit=False)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.core.config import DEV_SECRET, get_settings

    s = get_settings()
    host = args.host or s.host
    if s.secret_key == DEV_SECRET and host not in ("127.0.0.1", "localhost", "::1"):
        # With the public development secret anyone could forge CSRF tokens and offline payment events.
        print(f"Refusing to listen on {host} with the development secret: set CADRE_SECRET_KEY.", file=sys.stderr)
        return 1
    workers = args.workers or s.web_workers
    if workers < 1 or (workers > 1 and args.reload):
        print("--workers must be 1 or more, and 1 with --reload.", file=sys.stderr)
        return 1
    if workers > 1 and s.is_sqlite:
        print(f"Serving {workers} app processes on SQLite: they share its one write lock; PostgreSQL is the "
              "database for more than one.", file=sys.stderr)
    port = args.port or s.port
    stop, threads = None, []
    # With --workers N uvicorn supervises N app processes from this one; only this one runs the
    # embedded worker threads, so the outbox is drained once, not N times.
    if s.embedded_worker and not args.no_worker:
        # Development and the embedded default: the worker runs in this process, so mail goes out
        # with no second terminal, and it stops with Ctrl-C. Production runs `cadre worker`.
        import threading

        from api.outbox.worker import start_threads

        if s.env == "development":
            _deliver_waiting()
        stop = threading.Event()
        threads = start_threads(1, stop)
        print("Background worker running in this process (emails, events, scheduled jobs); "
              "--no-worker to leave it to `cadre worker`.", file=sys.stderr)
    if s.env == "development":
        _demo_banner(f"http://{host}:{port}")
    try:
        # Forwarded headers are the app's business (CADRE_TRUSTED_PROXIES, api/core/middleware.py): uvicorn's
        # own handling would believe any client on 127.0.0.1.
        uvicorn.run("api.main:create_app", factory=True, host=host, port=port,
                    proxy_headers=False, log_level="warning", reload=args.reload, workers=workers)
    finally:
        if stop is not None:
            stop.set()
            for t in threads:
                t.join(timeout=5)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import signal
    import threading

    import api.models  # noqa: F401
    from api.core.config import get_settings
    from api.core.db import utcnow
    from api.outbox import scheduler
    from api.outbox import service as outbox
    from api.outbox.worker import Worker, engine_sessions, start_threads

    if args.once:
        worker = Worker()
        ran = scheduler.run_due(worker.sessions, worker.jobs, worker=worker.name, now=utcnow())
        handled = worker.drain()
        with _session() as session:
            st = outbox.stats(session)
        print(f"Ran {len(ran)} scheduled job(s){': ' + ', '.join(ran) if ran else ''}; handled {handled} message(s). "
              f"Outbox: {st.pending} pending ({st.retrying} retrying), {st.dead} dead.")
        return 0
    count = args.concurrency or get_settings().worker_concurrency
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threads = start_threads(count, stop, engine_sessions())
    print(f"cadre worker: {count} thread(s) draining the outbox and running scheduled jobs (Ctrl-C to stop).",
          file=sys.stderr, flush=True)
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=0.5)
    print("cadre worker stopped.", file=sys.stderr)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    from api.core.config import ROOT

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(cfg, args.revision)
    print(f"Database migrated to {args.revision}.")
    return 0


def cmd_content_sync(args: argparse.Namespace) -> int:
    from api.catalog.content_files import ContentError, load
    from api.catalog.sync import apply
    from api.core.config import get_settings

    root = args.path or get_settings().content_dir
    try:
        catalogue = load(root)
    except ContentError as exc:
        print(f"Content is not valid ({len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}); "
              "nothing was changed:", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    lessons = sum(1 for t in catalogue.programmes for m in t.modules for _ in m.items)
    if args.check:
        briefs = sum(len(t.briefs) for t in catalogue.programmes)
        print(f"Content is valid: {len(catalogue.programmes)} programmes, {lessons} lessons and checks, "
              f"{briefs} assessment briefs, "
              f"{len(catalogue.awards)} awards.")
        return 0
    with _session() as session:
        report = apply(session, catalogue)
        session.commit()
    print(report.summary())
    if args.verbose:
        for line in report.changes:
            print(f"  {line}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from api.accounts import service
    from api.accounts.models import Role
    from api.accounts.schemas import UserCreate
    from api.core.errors import CadreError

    with _session() as session:
        try:
            if args.action == "create":
                import getpass

                password = args.password or getpass.getpass("Password: ")
                roles = {Role(r) for r in (args.role or [])}
                user = service.create_user(session, UserCreate(email=args.email, full_name=args.name,
                                                               password=password), roles=roles, verified=True)
                print(f"Created {user.email} with roles: {', '.join(sorted(service.roles_of(session, user)))}.")
            elif args.action in ("grant", "revoke"):
                user = service.get_by_email(session, args.email)
                if user is None:
                    print(f"No account uses {args.email}.", file=sys.stderr)
                    return 1
                role = Role(args.role_name)
                changed = (service.grant_role if args.action == "grant" else service.revoke_role)(session, user, role)
                print(f"{user.email}: {role.value} {'granted' if args.action == 'grant' else 'revoked'}"
                      + ("" if changed else " (no change)") + ".")
            else:
                from api.core.pagination import EXPORT_BATCH, batches

                for rows in batches(lambda after: service.list_users(session, args.search, after=after,
                                                                     size=EXPORT_BATCH)):
                    for user, roles in rows:
                        print(f"{user.email:40} {user.full_name:30} {','.join(sorted(roles))}")
            session.commit()
        except CadreError as exc:
            print(exc.message, file=sys.stderr)
            return 1
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    return 0


def cmd_enrol(args: argparse.Namespace) -> int:
    from api.catalog.models import Programme
    from api.core.errors import CadreError
    from api.learning import reports
    from api.learning import service as enrolment_service
    from api.learning.models import EnrolmentSource

    with _session() as session:
        try:
            if args.action == "grant":
                if args.days is not None and args.days < 1:
                    print("--days must be 1 or more (leave it out for lifetime access).", file=sys.stderr)
                    return 2
                e = enrolment_service.grant(session, email=args.email, programme=args.programme,
                                            override=args.override, access_days=args.days,
                                            source=EnrolmentSource(args.source))
                code = session.get(Programme, e.programme_id).code
                window = "lifetime access" if e.access_until is None else f"access until {e.access_until:%-d %B %Y}"
                print(f"Enrolled {args.email.strip().lower()} in {code} ({e.status}, {window}).")
            elif args.action == "cancel":
                if not (args.reason or "").strip():
                    print("Give a reason with --reason: the learner's record keeps it.", file=sys.stderr)
                    return 2
                e, changed = enrolment_service.cancel_for(session, email=args.email, programme=args.programme,
                                                          reason=args.reason)
                code = session.get(Programme, e.programme_id).code
                print(f"Cancelled {args.email.strip().lower()} in {code} ({args.reason.strip()}); progress is kept."
                      if changed else f"{args.email.strip().lower()} in {code} was already cancelled.")
            else:
                slug = enrolment_service.find_programme(session, args.programme).slug if args.programme else None
                from api.core.pagination import EXPORT_BATCH, batches

                filters = reports.clean_filters(slug, args.status, args.search)
                count = 0
                for rows in batches(lambda after: reports.progress_page(session, filters, after=after,
                                                                        size=EXPORT_BATCH)):
                    for r in rows:
                        print(f"{r.user.email:40} {r.programme.code:11} {r.enrolment.status:10} "
                              f"{r.enrolment.source:18} {r.percent:>3}%  {r.lessons_done}/{r.lessons_total} lessons, "
                              f"{r.checks_passed}/{r.checks_total} checks")
                    count += len(rows)
                    session.expunge_all()  # a batch at a time, at any size
                print(f"{count} enrolment{'s' if count != 1 else ''}.")
            session.commit()
        except CadreError as exc:
            print(exc.message, file=sys.stderr)
            return 1
    return 0


def cmd_codes(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from api.core.errors import CadreError
    from api.core.money import format_money
    from api.payments import codes

    def day(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None

    with _session() as session:
        try:
            if args.action == "create":
                code = codes.create(
                    session, code=args.code, percent_off=args.percent,
                    amount_off=args.amount, currency=args.currency if args.amount else None,
                    programme_slugs=args.programme or [], valid_from=day(args.valid_from),
                    valid_until=day(args.valid_until), max_redemptions=args.max_redemptions,
                    max_per_customer=None if args.per_customer == 0 else args.per_customer)
                print(f"Created {codes.display(code)}: {codes.describe(code)}"
                      + (f" on {', '.join(args.programme)}" if args.programme else " on every programme") + ".")
            elif args.action == "deactivate":
                changed = codes.deactivate(session, args.code)
                print(f"{codes.display(args.code)} " + ("deactivated." if changed else "was already inactive."))
            else:
                from api.core.pagination import EXPORT_BATCH, batches

                every = (r for rows in batches(lambda after: codes.list_codes(session, after=after, size=EXPORT_BATCH))
                         for r in rows)
                for r in every:
                    c = r.code
                    discount = (f"{c.percent_off}%" if c.percent_off
                                else format_money(c.amount_off or 0, c.currency or "GBP"))
                    print(f"{codes.display(c):20} {discount:>10} {'active' if c.active else 'inactive':9} "
                          f"{','.join(r.programmes) or 'all':15} used {r.redeemed}"
                          f"{f'/{c.max_redemptions}' if c.max_redemptions else ''} (+{r.reserved} in checkout)")
            session.commit()
        except CadreError as exc:
            print(exc.message, file=sys.stderr)
            return 1
    return 0


def cmd_payments_sweep(args: argparse.Namespace) -> int:
    from api.payments import service

    with _session() as session:
        done = service.sweep(session)
        session.commit()
    print(f"Closed {done['expired']} expired checkout(s); paused access on {done['suspended']} plan(s) with an "
          "instalment unpaid past the grace period.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api import demo
    from api.core.config import get_settings
    from api.demo import people

    if get_settings().env == "production":
        print("Demo data is for development only.", file=sys.stderr)
        return 1
    with _session() as session:
        who, logins = people.ensure(session, reset_passwords=args.reset_passwords)
        lines = demo.run(session, who)
        session.commit()
    print("\nDemo data (development only):")
    for line in lines:
        print(f"  {line}")
    print()
    for line in people.login_lines(logins):
        print(line)
    print()
    return 0


def _worker_sessions():
    from api.outbox.worker import engine_sessions

    return engine_sessions()


def _deliver_waiting(max_batches: int = 20) -> None:
    """Development start: the scheduled jobs that are due and what is queued (after `make run`, the demo's
    dozen emails and its session reminders, which the console prints in full) are handled before the
    logins are shown, so they are the last thing on the screen rather than scrolled away. The worker
    threads do the rest, as always (`cadre worker --once` does the same two steps)."""
    from api.core.db import utcnow
    from api.outbox import scheduler
    from api.outbox.worker import Worker

    try:
        worker = Worker(_worker_sessions())
        scheduler.run_due(worker.sessions, worker.jobs, worker=worker.name, now=utcnow())
        worker.drain(max_batches=max_batches)
    except Exception as exc:  # the database, say: the worker threads try again in a moment
        print(f"Queued messages left to the worker: {exc}", file=sys.stderr)


def _demo_banner(url: str | None = None) -> None:
    """On every development start, after the queued emails: the demo logins again, last on the screen."""
    from api.demo import people

    with _session() as session:
        logins = people.existing(session)
    if logins:
        where = [f"Cadre is on {url} (Ctrl-C stops it)."] if url else []
        print("\n".join(["", *people.login_lines(logins), *where, ""]), file=sys.stderr, flush=True)


def cmd_keys(args: argparse.Namespace) -> int:
    from api.certificates import keys as keystore
    from api.certificates import signing

    try:
        if args.action == "create":
            if args.if_missing and any(k.status == "current" for k in keystore.load_keys()):
                print("An issuer key already exists.")
                return 0
            key = keystore.create_key()
        elif args.action == "rotate":
            key = keystore.rotate_key()
            _refresh_stored_verifications()
        else:
            for k in keystore.load_keys():
                print(f"{k.verification_method(signing.host())}  {k.status}  created {k.created_at}")
            return 0
    except keystore.KeyStoreError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Current issuer key: {key.verification_method(signing.host())}")
    return 0


def _refresh_stored_verifications() -> None:
    """Certificates keep the result of verifying their signature (certificates/stored.py); after a
    key change, re-verify those whose key is no longer published as it was."""
    from api.certificates import stored

    with _session() as session:
        changed = stored.refresh_all(session)
        session.commit()
    print(f"Stored verification results checked against the published keys; {changed} verified again.")


def cmd_verify(args: argparse.Namespace) -> int:
    from api.certificates.offline import verify_file

    return verify_file(args.file, did_document=args.did_document, offline=args.offline)


def cmd_certificates(args: argparse.Namespace) -> int:
    from api.certificates import service as certificates_service

    with _session() as session:
        sent = certificates_service.send_expiry_reminders(session)
        session.commit()
    print(f"Queued {sent} expiry reminder{'s' if sent != 1 else ''} (the worker sends them; `cadre worker` runs "
          "this hourly by itself).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cadre", description="Cadre: learning and accreditation platform.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the site (CADRE_HOST, CADRE_PORT)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--reload", action="store_true")
    p.add_argument("--workers", type=int, default=None,
                   help="app processes (default CADRE_WEB_WORKERS, 1); the background worker still runs once, "
                        "in the supervising process")
    p.add_argument("--no-worker", action="store_true",
                   help="do not run the background worker in this process (run `cadre worker` instead)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="send queued email, deliver domain events, run scheduled jobs")
    p.add_argument("--once", action="store_true", help="run what is due now, then exit (for cron or a check)")
    p.add_argument("--concurrency", type=int, help="threads, each with its own connection "
                                                   "(default CADRE_WORKER_CONCURRENCY)")
    p.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="run the migrations")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db_upgrade)

    content = sub.add_parser("content", help="the catalogue in content/").add_subparsers(dest="c", required=True)
    p = content.add_parser("sync", help="validate content/ and upsert it by slug")
    p.add_argument("--check", action="store_true", help="validate only, change nothing")
    p.add_argument("--path", type=Path, help="content folder (default CADRE_CONTENT_DIR)")
    p.add_argument("-v", "--verbose", action="store_true", help="list every change")
    p.set_defaults(func=cmd_content_sync)

    users = sub.add_parser("users", help="accounts and roles").add_subparsers(dest="action", required=True)
    p = users.add_parser("create", help="create a verified account")
    p.add_argument("email")
    p.add_argument("--name", required=True, help="full name as it should appear on a certificate")
    p.add_argument("--password", help="prompted for when omitted")
    p.add_argument("--role", action="append", choices=["learner", "coach", "admin", "employer"])
    p.set_defaults(func=cmd_users)
    for action in ("grant", "revoke"):
        p = users.add_parser(action, help=f"{action} a role")
        p.add_argument("email")
        p.add_argument("role_name", choices=["learner", "coach", "admin", "employer"])
        p.set_defaults(func=cmd_users)
    p = users.add_parser("list", help="list accounts")
    p.add_argument("--search")
    p.set_defaults(func=cmd_users)

    keys = sub.add_parser("keys", help="the issuer's signing keys").add_subparsers(dest="action", required=True)
    p = keys.add_parser("create", help="create the first signing key")
    p.add_argument("--if-missing", action="store_true", help="do nothing when a key exists")
    p.set_defaults(func=cmd_keys)
    keys.add_parser("rotate", help="new current key; the old one stays published").set_defaults(func=cmd_keys)
    keys.add_parser("list", help="published keys").set_defaults(func=cmd_keys)

    p = sub.add_parser("verify", help="verify a credential file without the database")
    p.add_argument("file", type=Path)
    p.add_argument("--did-document", type=Path,
                   help="the issuer's DID document (did.json) instead of fetching it")
    p.add_argument("--offline", action="store_true", help="fetch nothing: status is reported as not checked")
    p.set_defaults(func=cmd_verify)

    certs = sub.add_parser("certificates", help="certificates").add_subparsers(dest="action", required=True)
    certs.add_parser("remind", help="email holders 90 and 30 days before expiry (also a scheduled job of "
                                    "`cadre worker`)").set_defaults(func=cmd_certificates)

    enrol = sub.add_parser("enrol", help="who may study what").add_subparsers(dest="action", required=True)
    p = enrol.add_parser("grant", help="give a learner a place (reactivates a cancelled one)")
    p.add_argument("email")
    p.add_argument("programme", metavar="CODE", help="programme code or slug, e.g. ACXP")
    p.add_argument("--override", action="store_true", help="skip the ladder's prerequisite check")
    p.add_argument("--days", type=int, help="access window in days (default: lifetime)")
    p.add_argument("--source", default="admin_grant", choices=["admin_grant", "organisation_seat", "free"])
    p.set_defaults(func=cmd_enrol)
    p = enrol.add_parser("cancel", help="end a learner's access (their progress is kept)")
    p.add_argument("email")
    p.add_argument("programme", metavar="CODE")
    p.add_argument("--reason", help="required: why (kept on the learner's record)")
    p.set_defaults(func=cmd_enrol)
    p = enrol.add_parser("list", help="enrolments with progress")
    p.add_argument("--programme", metavar="CODE")
    p.add_argument("--status", choices=["active", "suspended", "completed", "cancelled"])
    p.add_argument("--search", help="part of a name or email")
    p.set_defaults(func=cmd_enrol)

    codes_p = sub.add_parser("codes", help="discount codes").add_subparsers(dest="action", required=True)
    p = codes_p.add_parser("create", help="create a discount code")
    p.add_argument("code")
    off = p.add_mutually_exclusive_group(required=True)
    off.add_argument("--percent", type=int, help="percentage off, 1-100")
    off.add_argument("--amount", type=int, help="amount off in minor units (pence): 1000 is £10")
    p.add_argument("--currency", default="GBP", help="currency of --amount (default GBP)")
    p.add_argument("--programme", action="append", help="only for this programme slug (repeatable)")
    p.add_argument("--valid-from", help="YYYY-MM-DD")
    p.add_argument("--valid-until", help="YYYY-MM-DD (the code stops working at the start of that day)")
    p.add_argument("--max-redemptions", type=int, help="uses overall (default: no limit)")
    p.add_argument("--per-customer", type=int, default=1, help="uses per customer (default 1; 0: no limit)")
    p.set_defaults(func=cmd_codes)
    p = codes_p.add_parser("list", help="list discount codes with their redemptions")
    p.set_defaults(func=cmd_codes)
    p = codes_p.add_parser("deactivate", help="stop a code working")
    p.add_argument("code")
    p.set_defaults(func=cmd_codes)

    pay = sub.add_parser("payments", help="payments").add_subparsers(dest="p", required=True)
    p = pay.add_parser("sweep", help="close expired checkouts; pause access where an instalment is overdue "
                                     "past CADRE_INSTALMENT_GRACE_DAYS (also a scheduled job of `cadre worker`)")
    p.set_defaults(func=cmd_payments_sweep)

    from api.cohorts import cli as cohorts_cli

    cohorts_cli.register(sub)

    p = sub.add_parser("demo", help="create (or refresh) the demo accounts and their data, print the logins "
                                    "(development only)")
    p.add_argument("--reset-passwords", action="store_true", help="set changed demo passwords back to those shown")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
