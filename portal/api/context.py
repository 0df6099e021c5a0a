"""What the API's routes share, built once by :func:`portal.api.build_api`."""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from portal.accounts.limits import LoginAttempts
from portal.analyses.service import Analyses
from portal.config import Config
from portal.jobs.service import JobService
from portal.museum.frame_gate import FrameGate
from portal.museum.recording import Recorder
from portal.museum.settings import MuseumSettings


@dataclass
class ApiContext:
    config: Config
    app: Analyses  # the web app's engine context: analyser, storage, downloads
    museum: MuseumSettings
    limiter: LoginAttempts  # failed POST /token logins, limited like the login form
    recorder: Recorder  # camera sessions' trackers and limits (the portal's one recorder, from run.py)
    dummy_hash: str  # checked when the user does not exist, so both cases take as long
    jobs: JobService | None = None  # videos and photo batches (the Flask app's job service)
    frames: FrameGate | None = None  # recording frames: size limit, analyses at once (shared with the kiosk)
    visit_guesses: object = None  # wrong visit codes per client address (portal.api.visits.Guesses)


def get_ctx(request: Request) -> ApiContext:
    return request.app.state.ctx
