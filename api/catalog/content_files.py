"""Reading and validating content/: every file becomes a typed model or a precise error naming the
file and the field. Nothing here touches the database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from api.catalog.models import DeliveryFormat, Family, OfferKind

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ORDERED = re.compile(r"^(\d+)-")
# Upload types a brief may accept: those api/core/filetypes.py recognises by content.
UPLOAD_TYPES = (
    "application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "video/mp4", "video/webm",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Duration(_Strict):
    days: int | None = Field(default=None, ge=1)
    hours_per_day: int | None = Field(default=None, ge=1)
    weeks: int | None = Field(default=None, ge=1)
    hours_per_week: int | None = Field(default=None, ge=1)
    lessons: int | None = Field(default=None, ge=1)
    text: str | None = None


class ScheduleItem(_Strict):
    text: Text
    starts_on: date | None = None


class OfferFile(_Strict):
    slug: Slug
    title: Text
    kind: OfferKind
    amount: int = Field(ge=0)
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")
    instalments: int | None = Field(default=None, ge=2, le=24)
    interval: Literal["month", "week"] | None = None
    access_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _plan(self) -> OfferFile:
        if self.kind is OfferKind.instalments and (self.instalments is None or self.interval is None):
            raise ValueError("an instalments offer needs 'instalments' and 'interval'")
        if self.kind is OfferKind.full and (self.instalments is not None or self.interval is not None):
            raise ValueError("a full offer has no 'instalments' or 'interval'")
        return self


class AttendanceRule(_Strict):
    minimum_percent: int = Field(ge=1, le=100)  # of the cohort's scheduled minutes
    recordings_make_up: bool = False  # a missed session counts once its recording is watched


class CohortFormat(_Strict):
    """How a live programme's cohorts run; sessions are generated from it (api/cohorts/schedule.py)."""

    pattern: Literal["consecutive_weekdays", "weekly"]
    sessions: int = Field(ge=1, le=52)
    start: Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    minutes: int = Field(ge=15, le=600)
    capacity: int = Field(default=20, ge=1, le=500)
    recording_days: int = Field(default=30, ge=0, le=365)


class Completion(_Strict):
    lessons: Literal["all"] | None = None
    knowledge_checks: Literal["all"] | None = None
    assessments: Literal["all"] | None = None
    attendance: AttendanceRule | None = None


class ProgrammeFile(_Strict):
    slug: Slug
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{1,29}$")]
    title: Text
    short_title: str | None = None
    family: Family
    level: int = Field(ge=1, le=20)
    summary: Text
    description: str = ""
    outcomes: list[Text] = Field(default_factory=list)
    format: DeliveryFormat
    duration: Duration = Field(default_factory=Duration)
    schedule: list[ScheduleItem] = Field(default_factory=list)
    cohort_format: CohortFormat | None = None
    prerequisites: list[str] = Field(default_factory=list)
    validity_months: int | None = Field(default=None, ge=1)
    renewal: str | None = None
    offers: list[OfferFile] = Field(default_factory=list)
    completion: Completion = Field(default_factory=lambda: Completion(lessons="all"))

    @model_validator(mode="after")
    def _cohorts(self) -> ProgrammeFile:
        live = self.format is DeliveryFormat.live_cohort
        if live and self.cohort_format is None:
            raise ValueError("a live_cohort programme needs a 'cohort_format' (how its cohorts' sessions run)")
        if live and self.completion.attendance is None:
            raise ValueError("a live_cohort programme's completion needs an 'attendance' rule")
        if not live and self.cohort_format is not None:
            raise ValueError("only a live_cohort programme has a 'cohort_format'")
        return self


class ModuleFile(_Strict):
    slug: Slug
    title: Text
    summary: str = ""


class Download(_Strict):
    title: Text
    file: str | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://")] | None = None

    @model_validator(mode="after")
    def _one(self) -> Download:
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of 'file' or 'url'")
        return self


FileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=120)]


class Captions(_Strict):
    file: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.vtt$", max_length=120)]  # WebVTT
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = "en"
    label: Text = "English"


class Video(_Strict):
    """A lesson's video: a file beside the lesson (served to enrolled learners only) or a hosted URL,
    with WebVTT captions and a transcript (Markdown, a file beside the lesson)."""
    file: FileName | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https://")] | None = None
    captions: list[Captions] = Field(default_factory=list)
    transcript: FileName | None = None

    @model_validator(mode="after")
    def _one(self) -> Video:
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of 'file' or 'url'")
        return self


class LessonFront(_Strict):
    slug: Slug
    title: Text
    minutes: int | None = Field(default=None, ge=1, le=600)
    # The full form with captions and a transcript (a bare URL is read only to say that it needs captions).
    video: Annotated[str, StringConstraints(pattern=r"^(https?://|/)")] | Video | None = None
    downloads: list[Download] = Field(default_factory=list)


class Option(_Strict):
    text: Text
    correct: bool = False


class Question(_Strict):
    prompt: Text
    kind: Literal["single", "multiple"] = "single"
    options: list[Option] = Field(min_length=2, max_length=10)
    explanation: str = ""

    @model_validator(mode="after")
    def _answers(self) -> Question:
        right = sum(o.correct for o in self.options)
        if self.kind == "single" and right != 1:
            raise ValueError("a single-choice question needs exactly one correct option")
        if self.kind == "multiple" and right < 1:
            raise ValueError("a multiple-choice question needs at least one correct option")
        return self


DEFAULT_CHECK_ATTEMPTS = 3  # a check always has a limit: with unlimited tries, any check is passed by trying


class QuizFile(_Strict):
    slug: Slug
    title: Text
    pass_mark: int = Field(ge=0, le=100)
    max_attempts: int = Field(default=DEFAULT_CHECK_ATTEMPTS, ge=1, le=10)
    retry_after_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60)  # the wait after an attempt not passed
    questions: list[Question] = Field(min_length=1)


class Level(_Strict):
    score: int = Field(ge=0, le=100)
    label: Text
    descriptor: Text


class Criterion(_Strict):
    slug: Slug
    title: Text
    description: str = ""
    weight: int = Field(default=1, ge=1, le=100)
    must_pass: bool = False
    # On a must-pass criterion, the lowest level score that passes it (default: the second level).
    pass_score: int | None = Field(default=None, ge=0, le=100)
    levels: list[Level] = Field(min_length=2)

    @model_validator(mode="after")
    def _levels(self) -> Criterion:
        scores = [lv.score for lv in self.levels]
        if scores != sorted(set(scores)):
            raise ValueError("levels: scores must rise from the first level to the last, each different")
        if self.pass_score is not None and self.pass_score not in scores:
            raise ValueError(f"pass_score: {self.pass_score} is not the score of one of the levels")
        if self.pass_score is not None and not self.must_pass:
            raise ValueError("pass_score: only a must_pass criterion has a pass_score")
        return self

    @property
    def max_score(self) -> int:
        return self.levels[-1].score


class PassRule(_Strict):
    pass_mark: int = Field(ge=0, le=100)  # weighted percent of the maximum needed to pass
    fail_below: int | None = Field(default=None, ge=0, le=100)  # below this: fail even with attempts left


class Files(_Strict):
    max_files: int = Field(default=3, ge=0, le=20)
    max_mb: int = Field(default=10, ge=1, le=100)  # per file
    types: list[str] = Field(default_factory=lambda: ["application/pdf"])  # MIME types, checked by content

    @model_validator(mode="after")
    def _types(self) -> Files:
        for t in self.types:
            if t not in UPLOAD_TYPES:
                raise ValueError(f"types: '{t}' is not a type Cadre can check (one of {', '.join(UPLOAD_TYPES)})")
        return self


class Moderation(_Strict):
    sample_percent: int = Field(default=10, ge=0, le=100)  # a random share of passes checked by a second coach
    min_count: int = Field(default=1, ge=0)  # at least this many per brief and period, whatever the share
    double_marking: bool = False
    tolerance: int = Field(default=1, ge=0, le=10)  # levels two markers may differ by and still agree


class BriefFile(_Strict):
    slug: Slug
    title: Text
    brief: Text
    criteria: list[Criterion] = Field(min_length=1)
    pass_rule: PassRule
    files: Files = Field(default_factory=Files)
    text: Literal["none", "allowed", "required"] = "allowed"
    max_attempts: int = Field(default=2, ge=1, le=10)
    resubmission_days: int = Field(default=28, ge=1, le=365)
    marking_days: int = Field(default=10, ge=1, le=60)  # working days (Monday to Friday)
    blind_marking: bool = False
    appeal_days: int = Field(default=14, ge=0, le=365)
    moderation: Moderation = Field(default_factory=Moderation)

    @model_validator(mode="after")
    def _some_work(self) -> BriefFile:
        if self.text == "none" and self.files.max_files == 0:
            raise ValueError("a brief must accept text or files (text: none and files.max_files: 0)")
        dup = {c.slug for c in self.criteria if [x.slug for x in self.criteria].count(c.slug) > 1}
        if dup:
            raise ValueError(f"criteria: slug '{sorted(dup)[0]}' is used twice")
        return self

    def rubric(self) -> dict[str, Any]:
        """The part marks are made against: hashed into a rubric_version."""
        return {"criteria": [{**c.model_dump(), "max_score": c.max_score} for c in self.criteria],
                "pass_rule": self.pass_rule.model_dump()}

    def settings(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include={
            "files", "text", "max_attempts", "resubmission_days", "marking_days", "blind_marking",
            "appeal_days", "moderation"})


class Winner(_Strict):
    year: int = Field(ge=1990, le=2100)
    name: Text
    role: str | None = None
    organisation: str | None = None
    country: str | None = None
    citation: str = ""


class AwardFile(_Strict):
    slug: Slug
    title: Text
    description: str = ""
    first_awarded: int | None = None
    winners: list[Winner] = Field(default_factory=list)


# --- the loaded tree --------------------------------------------------------------------------

@dataclass
class LessonItem:
    front: LessonFront
    body: str
    path: str
    transcript: str | None = None  # the video's transcript (Markdown), read from its file


@dataclass
class QuizItem:
    quiz: QuizFile
    path: str


@dataclass
class ModuleTree:
    module: ModuleFile
    items: list[LessonItem | QuizItem] = field(default_factory=list)
    path: str = ""


@dataclass
class ProgrammeTree:
    programme: ProgrammeFile
    path: str
    modules: list[ModuleTree] = field(default_factory=list)
    briefs: list[tuple[BriefFile, str]] = field(default_factory=list)


@dataclass
class Catalogue:
    programmes: list[ProgrammeTree] = field(default_factory=list)
    awards: list[tuple[AwardFile, str]] = field(default_factory=list)


class ContentError(Exception):
    """Every problem found, each naming its file and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Reader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def fail(self, path: Path, message: str) -> None:
        self.problems.append(f"{self.rel(path)}: {message}")

    def yaml(self, path: Path, text: str | None = None) -> Any:
        try:
            return yaml.safe_load(text if text is not None else path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            self.fail(path, f"not valid YAML: {exc}".replace("\n", " "))
            return None

    def model(self, path: Path, cls: type[BaseModel], data: Any) -> Any:
        if not isinstance(data, dict):
            self.fail(path, f"expected a mapping of fields, found {type(data).__name__}")
            return None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(file)"
                self.fail(path, f"{loc}: {err['msg'].removeprefix('Value error, ')}")
            return None


def _ordered(paths: list[Path]) -> list[Path]:
    def key(p: Path) -> tuple[int, str]:
        m = ORDERED.match(p.name)
        return (int(m.group(1)) if m else 10**6, p.name)

    return sorted(paths, key=key)


def _split_front_matter(text: str) -> tuple[str | None, str]:
    if not text.startswith("---"):
        return None, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        return None, text
    front = parts[0][3:]
    body = parts[1]
    body = body[body.find("\n") + 1:] if "\n" in body else ""
    return front, body.lstrip("\n")


def load(root: Path) -> Catalogue:
    """Read and validate the whole tree; raise ContentError listing every problem."""
    r = _Reader(root)
    cat = Catalogue()
    programmes_dir = root / "programmes"
    if not programmes_dir.is_dir():
        raise ContentError([f"{r.rel(programmes_dir)}: folder missing"])
    for pdir in sorted(p for p in programmes_dir.iterdir() if p.is_dir()):
        pfile = pdir / "programme.yaml"
        if not pfile.is_file():
            r.fail(pfile, "file missing")
            continue
        prog = r.model(pfile, ProgrammeFile, r.yaml(pfile))
        if prog is None:
            continue
        tree = ProgrammeTree(programme=prog, path=r.rel(pfile))
        for mdir in _ordered([m for m in pdir.iterdir() if m.is_dir() and ORDERED.match(m.name)]):
            mfile = mdir / "module.yaml"
            if not mfile.is_file():
                r.fail(mfile, "file missing")
                continue
            module = r.model(mfile, ModuleFile, r.yaml(mfile))
            if module is None:
                continue
            mtree = ModuleTree(module=module, path=r.rel(mfile))
            for item in _ordered([f for f in mdir.iterdir() if f.is_file() and ORDERED.match(f.name)]):
                if item.name.endswith(".quiz.yaml"):
                    quiz = r.model(item, QuizFile, r.yaml(item))
                    if quiz:
                        mtree.items.append(QuizItem(quiz, r.rel(item)))
                elif item.suffix == ".md":
                    front_text, body = _split_front_matter(item.read_text(encoding="utf-8"))
                    if front_text is None:
                        r.fail(item, "front matter missing: start the file with a --- block holding slug and title")
                        continue
                    front = r.model(item, LessonFront, r.yaml(item, front_text))
                    if front is None:
                        continue
                    for i, dl in enumerate(front.downloads):
                        if dl.file and (".." in Path(dl.file).parts or Path(dl.file).is_absolute()
                                        or not (mdir / dl.file).is_file()):
                            r.fail(item, f"downloads.{i}.file: {dl.file} is not a file beside the lesson")
                    if not body.strip():
                        r.fail(item, "body: the lesson has no text")
                    transcript = None
                    if front.video is not None and not (isinstance(front.video, Video) and front.video.captions):
                        # A learner who cannot hear it must be able to follow it (and axe-core refuses the page).
                        r.fail(item, "video: give it WebVTT captions (the full form: file or url, captions, "
                                     "transcript; see content/README.md)")
                    if isinstance(front.video, Video):
                        v = front.video
                        named = [("video.file", v.file), ("video.transcript", v.transcript),
                                 *((f"video.captions.{i}.file", c.file) for i, c in enumerate(v.captions))]
                        for where, name in named:
                            if name and not (mdir / name).is_file():
                                r.fail(item, f"{where}: {name} is not a file beside the lesson")
                        for i, c in enumerate(v.captions):
                            if (mdir / c.file).is_file() and not (mdir / c.file).read_bytes().lstrip(b"\xef\xbb\xbf") \
                                    .startswith(b"WEBVTT"):
                                r.fail(item, f"video.captions.{i}.file: {c.file} is not WebVTT (it must start WEBVTT)")
                        if v.transcript and (mdir / v.transcript).is_file():
                            transcript = (mdir / v.transcript).read_text(encoding="utf-8")
                    mtree.items.append(LessonItem(front, body, r.rel(item), transcript))
            tree.modules.append(mtree)
        adir = pdir / "assessments"
        if adir.is_dir():
            for bfile in _ordered([f for f in adir.iterdir() if f.suffix == ".yaml"]):
                brief = r.model(bfile, BriefFile, r.yaml(bfile))
                if brief:
                    tree.briefs.append((brief, r.rel(bfile)))
        cat.programmes.append(tree)
    awards_dir = root / "awards"
    if awards_dir.is_dir():
        for afile in sorted(awards_dir.glob("*.yaml")):
            award = r.model(afile, AwardFile, r.yaml(afile))
            if award:
                cat.awards.append((award, r.rel(afile)))
    _cross_check(cat, r)
    if r.problems:
        raise ContentError(r.problems)
    return cat


def _cross_check(cat: Catalogue, r: _Reader) -> None:
    def dup(values: list[tuple[str, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for value, path in values:
            if value in seen:
                r.problems.append(f"{path}: slug: {what} '{value}' is also used in {seen[value]}")
            seen.setdefault(value, path)

    dup([(t.programme.slug, t.path) for t in cat.programmes], "programme slug")
    codes = {t.programme.code: t for t in cat.programmes}
    dup([(t.programme.code, t.path) for t in cat.programmes], "programme code")
    dup([(a.slug, p) for a, p in cat.awards], "award slug")
    for t in cat.programmes:
        p = t.programme
        dup([(m.module.slug, m.path) for m in t.modules], "module slug")
        items = [(i.front.slug if isinstance(i, LessonItem) else i.quiz.slug, i.path)
                 for m in t.modules for i in m.items]
        dup(items + [(b.slug, path) for b, path in t.briefs], "lesson, check or brief slug")
        dup([(o.slug, t.path) for o in p.offers], "offer slug")
        # Accreditation rests on judged practical work: no programme completes on lessons alone.
        if p.completion.assessments != "all":
            r.problems.append(f"{t.path}: completion.assessments: must be 'all' (a programme is never "
                              "completed by lessons alone; declare its briefs in assessments/)")
        elif not t.briefs:
            r.problems.append(f"{t.path}: completion.assessments: 'all' but the programme has no brief "
                              "in its assessments/ folder")
        for i, code in enumerate(p.prerequisites):
            if code not in codes:
                r.problems.append(f"{t.path}: prerequisites.{i}: no programme has code '{code}'")
            elif code == p.code:
                r.problems.append(f"{t.path}: prerequisites.{i}: a programme cannot require itself")
            elif codes[code].programme.family != p.family or codes[code].programme.level != p.level - 1:
                r.problems.append(f"{t.path}: prerequisites.{i}: {code} is not the rung below (level {p.level - 1} "
                                  f"of the {p.family.value} ladder)")
        # One source of truth for a programme's place: its level and what it requires must agree.
        if p.level > 1 and not p.prerequisites:
            r.problems.append(f"{t.path}: level: level {p.level} needs a prerequisite on level {p.level - 1} "
                              "(or make it level 1: a first step)")
        if p.level == 1 and p.prerequisites:
            r.problems.append(f"{t.path}: level: a level 1 programme is a first step and requires nothing")
    # A cycle in the ladder would make every programme in it impossible to start.
    graph = {t.programme.code: [c for c in t.programme.prerequisites if c in codes] for t in cat.programmes}
    state: dict[str, int] = {}

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            r.problems.append(f"{codes[code].path}: prerequisites: cycle {' -> '.join([*trail, code])}")
            return
        state[code] = 1
        for nxt in graph[code]:
            visit(nxt, [*trail, code])
        state[code] = 2

    for code in graph:
        visit(code, [])
