"""Settings of the museum features (issue 11), built once at the edge (run.py) and passed in.

Environment variables (read only by :func:`portal.config.museum_settings_from_env`):

    ANALYTICS_MIN_VISITORS  a breakdown over fewer distinct visitors is hidden (default 5)
    ANALYTICS_NOISE         noise added to the shares/means members see, in units of one
                            visitor's weight: Laplace scale NOISE/visitors (default 1; 0: none,
                            which lets a member isolate a visitor: docs/privacy.md)
    ANALYTICS_STOP_S        a tracked visitor in view at least this long "stopped" (default 5)
    ANALYTICS_RESAMPLES     bootstrap and permutation resamples of the intervals (default 2000)
    ANALYTICS_TIMEZONE      time zone of timelines and the hour x weekday heatmap (default UTC)
    RETENTION_DAYS          stored photos/frames older than this are deleted; results and
                            observations are kept (default: unset, keep until deleted)
    API_TOKEN_TTL_S         lifetime of a token from POST /api/v1/token (default 3600)
    API_MAX_FPS             frames per second one recording session may post (default 10)
    API_MAX_SESSIONS        recording sessions one user may have running (default 8)
    API_MAX_FRAME_MB        largest frame a session accepts (default 2)
    KIOSK_IDLE_S            a kiosk recording whose frames stopped (page closed, camera gone)
                            ends after this many seconds (default 60)
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class MuseumSettings:
    min_visitors: int = 5
    timezone: str = "UTC"
    retention_days: float | None = None
    token_ttl_s: int = 3600
    invitation_days: int = 7
    max_fps: float = 10.0
    max_sessions: int = 8
    max_frame_bytes: int = 2 * 1024 * 1024
    session_idle_s: float = 600.0  # a running session's tracker is forgotten after this idle time
    kiosk_idle_s: float = 60.0  # KIOSK_IDLE_S: a kiosk recording without frames this long ends
    noise: float = 1.0  # ANALYTICS_NOISE (portal.museum.privacy)
    noise_key: bytes = dataclasses.field(default=b"", repr=False)  # seeds it: with_secret()
    stop_s: float = 5.0  # ANALYTICS_STOP_S (portal.museum.curator)
    resamples: int = 2000  # ANALYTICS_RESAMPLES (portal.museum.stats)

    def __post_init__(self):
        if self.min_visitors < 1:
            raise ValueError("ANALYTICS_MIN_VISITORS must be at least 1")
        if not 0 <= self.noise <= 100:
            raise ValueError("ANALYTICS_NOISE must be between 0 and 100 (default 1)")
        if not 0 <= self.stop_s <= 3600:
            raise ValueError("ANALYTICS_STOP_S must be between 0 and 3600 seconds (default 5)")
        if not 1000 <= self.resamples <= 100_000:  # fewer: p-values too coarse to be clear
            raise ValueError("ANALYTICS_RESAMPLES must be between 1000 and 100000 (default 2000)")
        if not 1 <= self.kiosk_idle_s <= 86400:
            raise ValueError("KIOSK_IDLE_S must be between 1 and 86400 seconds (default 60)")
        if self.retention_days is not None and self.retention_days <= 0:
            raise ValueError("RETENTION_DAYS must be positive")
        ZoneInfo(self.timezone)  # unknown zones fail at start-up

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_secret(self, secret_key: str) -> "MuseumSettings":
        """These settings with the noise key derived from the server's secret key (kept when
        one is set already): every process of the server draws the same noise."""
        if self.noise_key:
            return self
        key = hashlib.sha256(b"analytics-noise:" + secret_key.encode()).digest()
        return dataclasses.replace(self, noise_key=key)
