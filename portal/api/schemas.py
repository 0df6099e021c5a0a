"""Request and response models of the JSON API (issue 11)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

import db

MAX_ID = db.MAX_ID  # the one largest id (db/base.py: PostgreSQL's serial)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]  # an id in the URL path
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: Literal["read", "full"] = "full"


class Leading(BaseModel):
    emotion: str
    probability: float


class Face(BaseModel):
    box: list[int] = Field(description="x, y, width, height in pixels")
    detection_score: float | None = None
    emotion: str = Field(description="the most probable emotion (also when the face is uncertain)")
    confidence: float
    uncertain: bool = Field(False, description="the answer is doubtful by the model's rule (no emotion reached "
                                               "its threshold): show the two leading emotions, not one")
    leading: list[Leading] | None = Field(None, description="the two most probable emotions")
    probabilities: dict[str, float]


class AnalysisResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    faces: list[Face] = []


class Analysis(BaseModel):
    """The stored computation: the same document as its JSON download."""
    model_config = ConfigDict(extra="allow")
    id: int
    kind: str
    created_at: str
    title: str
    exhibit: str
    notes: str
    consent: bool
    faces_found: int
    dominant_emotion: str | None
    model_version: str
    result: AnalysisResult
    user: str


class AnalysisPage(BaseModel):
    items: list[Analysis]
    total: int
    page: int
    per_page: int
    pages: int


class OrganisationIn(Strict):
    name: str = Field(min_length=1, max_length=200)


class Organisation(BaseModel):
    id: int
    name: str
    owner_id: int
    role: Literal["owner", "manager", "viewer"] = Field(description="your role")
    members: list[str]
    created_at: str


Role = Literal["manager", "viewer"]


class Member(BaseModel):
    username: str
    role: Literal["owner", "manager", "viewer"]
    joined_at: str


class InvitationIn(Strict):
    role: Role = Field("viewer", description="the invitee's role: a manager records and edits "
                                             "exhibits, a viewer reads dashboards only")


class RoleIn(Strict):
    role: Role


class TransferIn(Strict):
    username: str = Field(min_length=1, max_length=40, description="the member who becomes the owner")


class InvitationOut(BaseModel):
    code: str
    expires_at: str
    url: str = Field(description="portal page where a logged-in user accepts the invitation")
    role: Role


class ExhibitIn(Strict):
    organisation_id: BodyId
    name: str = Field(min_length=1, max_length=200)
    location: str = Field("", max_length=200)
    description: str = Field("", max_length=4000)


class ExhibitPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    location: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    archived: bool | None = None


class Exhibit(BaseModel):
    id: int
    organisation_id: int
    name: str
    location: str
    description: str
    archived: bool
    created_at: str


class DwellBin(BaseModel):
    from_s: float
    to_s: float | None
    visitors: int


class TimelineEntry(BaseModel):
    start: str
    visitors: int
    faces: int
    emotions: dict[str, float] | None
    uncertain_share: float | None = Field(None, description="share of faces marked uncertain (in no emotion)")
    hidden: str | None


class Heatmap(BaseModel):
    weekdays: list[str]
    visitors: list[list[int]] = Field(description="[weekday][hour] distinct visitors")
    dominant: list[list[str | None]] = Field(description="[weekday][hour] most frequent emotion, or 'uncertain'")


class Breakdown(BaseModel):
    visitors: int
    faces: int
    hidden: str | None = Field(description="'too few visitors to show' when the breakdown is hidden")
    emotions: dict[str, float] | None = Field(description="share of faces per emotion; faces marked uncertain "
                                                          "count in none (uncertain_share)")
    uncertain_share: float | None = Field(None, description="share of faces marked uncertain (the model's rule: "
                                                            "no emotion reached its threshold)")
    mean_probabilities: dict[str, float] | None
    dwell_s_median: float | None
    dwell_histogram: list[DwellBin] | None
    noise_scale: float | None = Field(None, description="Laplace scale of the noise in each share "
                                      "and mean (ANALYTICS_NOISE / visitors); null: exact")


class Estimate(BaseModel):
    value: float | None
    ci95: list[float] | None = Field(description="95 % interval [low, high], over visitors "
                                     "(docs/analytics.md); null: too few visitors")


class DwellEstimate(Estimate):
    q1: float | None = Field(description="first quartile of the dwell time, seconds")
    q3: float | None = Field(description="third quartile of the dwell time, seconds")


class CuratorMeasures(BaseModel):
    """Issue 20: each share and mean with its 95 % interval (docs/analytics.md)."""
    visitors: int
    tracked: int = Field(description="visitors of sessions and videos (photos have no dwell time)")
    stopped: int | None = Field(description="tracked visitors in view at least stop_s seconds")
    stop_s: float
    attraction: Estimate = Field(description="stopped / tracked visitors")
    dwell: DwellEstimate = Field(description="median dwell time, seconds")
    expressive: Estimate = Field(description="share of faces with an emotion other than neutral")
    uncertain: Estimate = Field(description="share of faces the model was unsure of (in no emotion)")
    emotions: dict[str, Estimate]
    probabilities: dict[str, Estimate]


class Summary(Breakdown):
    exhibit_id: int
    exhibit: str
    timezone: str
    min_visitors: int
    timeline: list[TimelineEntry]
    heatmap: Heatmap
    stopped: int | None = Field(None, description="tracked visitors who stayed at least "
                                "ANALYTICS_STOP_S seconds")
    attraction: float | None = Field(None, description="stopped / tracked visitors")
    ci95: dict[str, list[float] | None] | None = Field(
        None, description="{emotion: [low, high]}: 95 % interval of each emotion share")
    measures: CuratorMeasures | None = None


class ChangeTest(BaseModel):
    before: float | None
    after: float | None
    before_ci95: list[float] | None = None
    after_ci95: list[float] | None = None
    difference: float | None = Field(description="after - before")
    ci95: list[float] | None = Field(description="95 % interval of the difference")
    p_value: float | None = Field(description="permutation test over visitors, two-sided")
    clear: bool = Field(description="Holm-adjusted p-value below 0.05 and an interval without 0")
    words: str


class Comparison(BaseModel):
    exhibit_id: int
    exhibit: str
    split: str = Field(description="first day of the 'after' period")
    before: Summary
    after: Summary
    tests: dict[str, ChangeTest] | None = Field(description="per measure; null: too few visitors")
    hidden: str | None
    words: list[str]


class RankedExhibit(BaseModel):
    exhibit_id: int
    exhibit: str
    visitors: int
    value: float | None
    ci95: list[float] | None
    clearly_above_next: bool | None = Field(description="clearly above the next exhibit in the list")
    p_value_next: float | None
    hidden: str | None


class Ranking(BaseModel):
    organisation_id: int
    measure: str
    label: str
    exhibits: list[RankedExhibit] = Field(description="highest first; too few visitors last")
    notes: list[str] = Field(description="which neighbours differ clearly, in words")


class SessionIn(Strict):
    exhibit_id: BodyId
    visit_code: str | None = Field(None, max_length=40, description="an opted-in visit's code "
                                   "(issue 21): this session's observations count for the visit too")


class Session(BaseModel):
    id: int
    exhibit_id: int
    started_at: str
    stopped_at: str | None


class TrackedFace(Face):
    track_id: int


class FrameOut(BaseModel):
    t: float
    faces: list[TrackedFace]


class SessionSummary(Breakdown):
    duration_s: float


class JobSubmitted(BaseModel):
    job_id: int
    video_id: int | None = None
    batch_id: int | None = None


class Job(BaseModel):
    id: int
    kind: Literal["video", "batch"]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(description="0..1")
    error: str | None = Field(description="why a failed job failed")
    attempts: int
    worker: str | None = Field(description="the worker that ran (or runs) it")
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    video_id: int | None = None
    batch_id: int | None = None


class VideoTrack(BaseModel):
    model_config = ConfigDict(extra="allow")
    track_id: int
    first_seen_s: float
    last_seen_s: float
    dwell_s: float
    frames: int
    dominant_emotion: str | None
    mean_probabilities: dict[str, float]


class VideoFace(BaseModel):
    track_id: int
    box: list[int] = Field(description="x, y, width, height in pixels")
    emotion: str
    confidence: float | None = None
    uncertain: bool | None = Field(None, description="doubtful by the model's rule (null: analysed before the mark)")
    probabilities: dict[str, float]


class VideoFrame(BaseModel):
    t: float
    frame: int | None = None
    faces: list[VideoFace]


class Video(BaseModel):
    id: int
    job_id: int | None
    status: str | None = Field(description="the job's status; the analysis fields are null until 'done'")
    created_at: str
    title: str
    filename: str
    exhibit_id: int | None
    notes: str
    consent: bool
    sample_fps: float | None
    preset: str = Field(description="asked for: auto (chosen per video by measurement), default, close or room")
    detector_choice: dict | None = Field(None, description="once done: the preset used ('preset'), the one asked "
                                         "for ('requested'), 'reason', and the probe's 'faces', 'frames_probed', "
                                         "'median_face_px', 'median_face_share'")
    duration_s: float | None
    fps: float | None
    width: int | None
    height: int | None
    frames: int | None
    frames_analysed: int | None
    dominant_emotion: str | None
    tracks: list[VideoTrack]
    timeline: list[VideoFrame]


class BatchItem(BaseModel):
    name: str = Field(description="the photo's file name as uploaded")
    analysis_id: int


class Batch(BaseModel):
    id: int
    job_id: int | None
    status: str | None = Field(description="the job's status")
    created_at: str
    title: str
    exhibit_id: int | None
    notes: str
    consent: bool
    photos: int = Field(description="photos uploaded")
    analyses: list[BatchItem] = Field(description="one per photo analysed (a photo that could not be read has none)")


class Error(BaseModel):
    """Every refusal of the API: ``{"detail": "what is wrong and what to do"}``."""
    detail: str


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidRequest(BaseModel):
    """422: FastAPI's list of fields that are missing or malformed, or one message for a value
    that is refused (a NUL character, a date range, an empty image...)."""
    detail: str | list[ValidationItem]


def declared(*codes: int, described: dict[int, str] | None = None) -> dict:
    """``responses=`` for a route: each status in ``codes`` and ``described`` with its body model
    and a description (``described``'s own, else :data:`REFUSALS`')."""
    described = described or {}
    return {code: {"model": InvalidRequest if code == 422 else Error,
                   "description": described.get(code) or REFUSALS[code]}
            for code in sorted(set(codes) | set(described))}


REFUSALS = {
    400: "the body cannot be parsed (not the form or JSON the route takes)",
    401: "no token, or it is invalid, expired or revoked",
    403: "the token's scope or your role does not allow it (the message says what is needed)",
    404: "not found, or not yours",
    409: "the object is not in a state that allows it",
    413: "the request, upload or frame is larger than its limit (the message names it)",
    415: "the upload is not an accepted format, or cannot be read",
    422: "a field is missing, malformed or refused",
    429: "a limit per account or address was reached (Retry-After when the wait is known)",
    503: "the service is busy or not available on this server",
}
COMMON = (400, 401, 403, 404, 413, 422)  # what any route may answer (auth, ownership, body)
