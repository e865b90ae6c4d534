"""Bulk verification pages: any logged-in person (an employer, with or without an organisation) uploads
a CSV of certificate numbers and surnames, or credential files, and sees the results with a CSV of them
to download. The checks are bulk.py's; this module reads the upload and renders."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.accounts.deps import CurrentUser, optional_user
from api.certificates import bulk
from api.core.db import SessionDep, without_transaction
from api.core.errors import CadreError, Invalid
from api.core.middleware import UploadBody
from api.core.security import csrf_protect
from api.core.templates import render

router = APIRouter(dependencies=[Depends(csrf_protect), Depends(optional_user)], include_in_schema=False)

PAGE = "/verify/bulk"


def owner_of(user) -> str:
    return f"user:{user.id}"


def _page(request: Request, status: int = 200, *, result: bulk.BulkResult | None = None,
          errors: dict[str, str] | None = None, sealed: str | None = None):
    from api.core.config import get_settings

    return render(request, "certificates/bulk.html", status, result=result, errors=errors or {}, sealed=sealed,
                  words=bulk.STATUS_WORDS, human_date=bulk.human_date, max_rows=get_settings().bulk_max_rows,
                  max_files=bulk.MAX_FILES)


def csv_response(result: bulk.BulkResult) -> Response:
    name = f"cadre-verification-{result.checked_at:%Y-%m-%d-%H%M}.csv"
    return Response(bulk.to_csv(result), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get(PAGE)
def bulk_form(request: Request, user: CurrentUser):
    return _page(request)


async def _uploads(request: Request) -> tuple[UploadFile | None, list[UploadFile], str]:
    form = await request.form()
    csv_file = form.get("csv_file")
    files = [f for f in form.getlist("credentials") if isinstance(f, UploadFile) and f.filename]
    return (csv_file if isinstance(csv_file, UploadFile) and csv_file.filename else None), files, \
        str(form.get("output") or "page")


@router.post(PAGE, dependencies=[UploadBody])
async def bulk_check(request: Request, user: CurrentUser, session: SessionDep):
    csv_file, files, output = await _uploads(request)
    if csv_file is not None:
        data = await csv_file.read(bulk.MAX_CSV_BYTES + 1)
        uploads = None
    else:
        data = None
        uploads = []
        for f in files[:bulk.MAX_FILES + 1]:
            uploads.append((f.filename or "", await f.read(bulk.MAX_CREDENTIAL_BYTES + 1)))
    # The database and the cryptography block: off the event loop.
    return await run_in_threadpool(_check, request, user, session, data, uploads, output)


def run_check(session, owner: str, data: bytes | None, uploads: list[tuple[str, bytes]] | None) -> bulk.BulkResult:
    """A CSV (`data`) or credential files (`uploads`) checked for `owner`, counted against its allowance."""
    if data is not None:
        rows, encoding = bulk.parse_csv(data)
        bulk.limit(owner, len(rows))
        return bulk.BulkResult("csv", bulk.check_rows(session, rows),
                               encoding=None if encoding == "utf-8" else encoding)
    if not uploads:
        raise Invalid("Choose a CSV file, or one or more credential files (.json), to check.", code="no_file")
    if len(uploads) > bulk.MAX_FILES:
        raise Invalid(f"Choose at most {bulk.MAX_FILES} credential files at once; nothing was checked.",
                      code="too_many_files")
    bulk.limit(owner, len(uploads))
    with without_transaction(session):  # signatures take a while: no lock is held meanwhile
        checked = bulk.crypto_checks(uploads)
    return bulk.BulkResult("files", bulk.check_files(session, checked))


def _check(request: Request, user, session, data, uploads, output: str):
    try:
        result = run_check(session, owner_of(user), data, uploads)
    except CadreError as exc:
        field = "credentials" if uploads else "csv_file"
        return _page(request, exc.status_code, errors={field: exc.message})
    if output == "csv":
        return csv_response(result)
    return _page(request, result=result, sealed=bulk.seal(result, owner_of(user)))


@router.post(PAGE + "/results.csv")
def bulk_download(request: Request, user: CurrentUser, results: str = Form("")):
    result = bulk.unseal(results, owner_of(user))
    if result is None:
        return _page(request, 410, errors={"csv_file": "These results are more than an hour old (or not yours). "
                                                       "Upload the file again to check it now."})
    return csv_response(result)
