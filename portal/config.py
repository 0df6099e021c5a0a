"""Configuration, built once at the edge (run.py / tests) and passed in.

:func:`load_config` reads the environment (and explicit overrides such as
CLI flags); :func:`validate` refuses unsafe production settings.  Nothing
else in the portal reads ``os.environ``.

Environment variables:
    APP_ENV         development (default) or production
    DATA_DIR        data directory (default: <project>/var): SQLite file,
                    secret key, uploads/results
    DATABASE_URL    e.g. postgresql://user@127.0.0.1:5432/db (default: SQLite
                    file DATA_DIR/app.sqlite3, WAL mode)
    SECRET_KEY      session signing key (default: generated on first run and
                    kept in DATA_DIR/secret_key; required in production, where
                    it must be random: at least 32 characters that are not a
                    pattern or words - generate one with
                    python -c 'import secrets; print(secrets.token_hex(32))')
    LOG_FILE        rotating log file (default: <project>/logs/app.log)
    LOG_LEVEL       INFO (default), DEBUG, WARNING...
    DEBUG           1 to turn Flask debug on (refused in production)
    COOKIE_SECURE   1 to always mark cookies Secure (default: on in production,
                    where 0 is refused; in development cookies are Secure
                    when the request came over HTTPS, directly or through a
                    configured proxy - see PROXY_COUNT)

Rate limits (Flask-Limiter notation, e.g. "5 per 15 minutes"; see
portal/web/ratelimit.py and docs/security.md):
    LOGIN_LIMIT           failed logins per client IP + login name (5 per 15 minutes)
    LOGIN_USER_LIMIT      failed logins per login name, any IP (50 per hour)
    LOGIN_IP_LIMIT        failed logins per client IP, any name (100 per hour)
    REGISTER_LIMIT        registration attempts per client IP (10 per hour)
    PASSWORD_CHECK_LIMIT  wrong passwords on /account/password and /account/delete
                          per user (5 per 15 minutes)
    REDIS_URL             e.g. redis://127.0.0.1:6379/0: rate-limit counters shared by
                          every server process, and jobs go to Celery workers
                          (`make worker`); unset: in memory / the server's own process pool
    RATELIMIT_PREFIX      key prefix in Redis (default "emotion-portal")

Opted-in visits (issue 21; docs/visits.md):
    VISIT_ENDS      local time (ANALYTICS_TIMEZONE) at which visit codes expire and are
                    deleted with their readings (default 00:00: the end of the day)
    VISIT_GUESS_LIMIT   wrong or expired visit codes per client address (20 per 10 minutes)

Jobs and videos (issue 12):
    JOB_WORKERS     processes of the embedded pool (default: 1 per core)
    JOB_STALE_SECONDS   a running job silent this long was abandoned (60)
    VIDEO_MAX_MB / VIDEO_MAX_SECONDS / BATCH_MAX_PHOTOS   upload limits
                    (500 MB / 10800 s / 500)
    VIDEO_MAX_FPS   frames counted against VIDEO_MAX_SECONDS: a video may hold at most
                    VIDEO_MAX_SECONDS x min(its frame rate, VIDEO_MAX_FPS) frames (60)
    BATCH_MAX_MB    photos of one batch, unpacked from its zips (500)
    BATCH_USER_MAX_MB   photos waiting in one account's unfinished batches (2000)
    JOB_QUEUE_PER_USER  jobs one account may have queued or running (20)
    JOB_RUNNING_PER_USER    jobs of one account that run at the same time (1); the workers
                    take the other accounts' jobs in turn (docs/video.md, "Fair share")

Slow clients and recording frames (issue 18; docs/security.md):
    BODY_TIMEOUT    seconds a request body may pause before the server answers 408 (30)
    BODY_MIN_RATE   bytes/s a request body must average once it has taken BODY_TIMEOUT
                    seconds (1024); the portal sees a request only once its body is complete
    KEEPALIVE_TIMEOUT   seconds an idle keep-alive connection stays open (5)
    FRAME_MAX_PIXELS    largest kiosk / API recording frame in pixels, from its header
                    (1920x1080 = 2073600)
    FRAME_ANALYSES  recording frames analysed at once, all users together (default: one per
                    core, at least 2); a frame beyond them waits FRAME_WAIT_S then gets 503
    FRAME_WAIT_S    how long a frame waits for a free analysis (0.5)

Behind a reverse proxy (TLS terminated there):
    PROXY_COUNT       number of proxies in front that set X-Forwarded-For/-Proto/
                      -Host (default 0: those headers are ignored)
    TRUSTED_PROXIES   comma-separated addresses/networks of those proxies
                      (default 127.0.0.1,::1); the headers of any other peer are ignored
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from portal.analyses.settings import AnalysisSettings
from portal.museum.settings import MuseumSettings
from realtime import detector_spec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_KEYS = {"", "dev", "devkey", "secret", "changeme", "change-me", "change_me",
                    "please-change-me", "your-secret-key", "secret-key", "test", "xxx"}
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 10
# zxcvbn's estimate (10^25 ~ 83 bits): token_hex(32) scores ~60, token_urlsafe(32) ~43,
# "thisismysecretkeyforproductionuse" 20, "abcdefgh" * 4 just 2
MIN_SECRET_GUESSES_LOG10 = 25
GENERATE_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"


class ConfigError(RuntimeError):
    """The configuration is unsafe or unusable; the message says why."""


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    secret_key_source: str = "generated"  # "env", "file", "generated" or "given"
    log_file: Path = PROJECT_ROOT / "logs" / "app.log"
    log_level: str = "INFO"
    app_env: str = "development"
    debug: bool = False
    cookie_secure: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    login_limit: str = "5 per 15 minutes"
    login_user_limit: str = "50 per hour"
    login_ip_limit: str = "100 per hour"
    register_limit: str = "10 per hour"
    password_check_limit: str = "5 per 15 minutes"
    redis_url: str = ""
    ratelimit_prefix: str = "emotion-portal"
    proxy_count: int = 0
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    password_hash_method: str = "scrypt"
    per_page: int = 10
    testing: bool = False
    # jobs (issue 12)
    emotion_model: str | None = None  # EMOTION_MODEL: the model of photos, videos and batches alike
    upload_detector: str | None = None  # UPLOAD_DETECTOR: the detector of uploaded photos and batches
    job_workers: int = 0  # 0: one per core
    job_stale_seconds: float = 60.0
    video_max_mb: float = 500.0
    video_max_seconds: float = 3 * 3600.0
    batch_max_photos: int = 500
    video_max_fps: float = 60.0
    batch_max_mb: float = 500.0
    batch_user_max_mb: float = 2000.0
    job_queue_per_user: int = 20
    job_running_per_user: int = 1
    # slow clients and recording frames (issue 18)
    body_timeout_s: float = 30.0
    body_min_rate: float = 1024.0
    keepalive_timeout_s: float = 5.0
    frame_max_pixels: int = 1920 * 1080
    frame_analyses: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))
    frame_wait_s: float = 0.5
    # opted-in visits (issue 21; docs/visits.md)
    visit_ends: str = "00:00"  # local time (ANALYTICS_TIMEZONE) at which visit codes expire
    visit_guess_limit: str = "20 per 10 minutes"  # wrong or expired visit codes per client address

    @property
    def production(self) -> bool:
        return self.app_env == "production"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(data_dir: Path) -> tuple[str, str]:
    """Read DATA_DIR/secret_key, creating it (mode 0600) on first run."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip(), "file"
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip(), "file"
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key, "generated"


def load_config(env: dict | None = None, **overrides) -> Config:
    """Build the configuration from ``env`` (default ``os.environ``) and
    ``overrides`` (e.g. CLI flags: host, port, debug; tests: anything)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(overrides.pop("data_dir", None) or env.get("DATA_DIR")
                    or PROJECT_ROOT / "var").resolve()
    database_url = (overrides.pop("database_url", None) or env.get("DATABASE_URL")
                    or str(data_dir / "app.sqlite3"))
    secret = overrides.pop("secret_key", None)
    if secret is not None:
        source = "given"
    elif env.get("SECRET_KEY"):
        secret, source = env["SECRET_KEY"], "env"
    elif (env.get("APP_ENV") or "").lower() == "production":
        secret, source = "", "missing"  # validate() refuses to start
    else:
        secret, source = load_secret_key(data_dir)
    values = dict(
        data_dir=data_dir, database_url=database_url, secret_key=secret,
        secret_key_source=source,
        log_file=Path(env.get("LOG_FILE") or PROJECT_ROOT / "logs" / "app.log"),
        log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
        app_env=(env.get("APP_ENV") or "development").strip().lower(),
        debug=_flag(env.get("DEBUG")),
        cookie_secure=(_flag(env.get("COOKIE_SECURE")) if env.get("COOKIE_SECURE")
                       else (env.get("APP_ENV") or "").strip().lower() == "production"),
        redis_url=(env.get("REDIS_URL") or "").strip(),
        emotion_model=(env.get("EMOTION_MODEL") or "").strip() or None,
        upload_detector=(env.get("UPLOAD_DETECTOR") or "").strip() or None,
        job_workers=int(env.get("JOB_WORKERS") or 0),
        job_stale_seconds=float(env.get("JOB_STALE_SECONDS") or 60),
        video_max_mb=float(env.get("VIDEO_MAX_MB") or 500),
        video_max_seconds=float(env.get("VIDEO_MAX_SECONDS") or 3 * 3600),
        batch_max_photos=int(env.get("BATCH_MAX_PHOTOS") or 500),
        video_max_fps=float(env.get("VIDEO_MAX_FPS") or 60),
        batch_max_mb=float(env.get("BATCH_MAX_MB") or 500),
        batch_user_max_mb=float(env.get("BATCH_USER_MAX_MB") or 2000),
        job_queue_per_user=int(env.get("JOB_QUEUE_PER_USER") or 20),
        job_running_per_user=int(env.get("JOB_RUNNING_PER_USER") or 1),
        proxy_count=int(env.get("PROXY_COUNT") or 0),
        **_abuse_limits(env),
    )
    if env.get("TRUSTED_PROXIES"):
        values["trusted_proxies"] = tuple(p.strip() for p in env["TRUSTED_PROXIES"].split(",")
                                          if p.strip())
    for name in ("login_limit", "login_user_limit", "login_ip_limit", "register_limit",
                 "password_check_limit", "ratelimit_prefix", "visit_ends", "visit_guess_limit"):
        if env.get(name.upper()):
            values[name] = env[name.upper()]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Config(**values)


def _abuse_limits(env: dict) -> dict:
    """BODY_TIMEOUT, BODY_MIN_RATE, KEEPALIVE_TIMEOUT, FRAME_* from ``env`` (only those set)."""
    values = {}
    for var, name, cast in (("BODY_TIMEOUT", "body_timeout_s", float), ("BODY_MIN_RATE", "body_min_rate", float),
                            ("KEEPALIVE_TIMEOUT", "keepalive_timeout_s", float),
                            ("FRAME_MAX_PIXELS", "frame_max_pixels", int), ("FRAME_ANALYSES", "frame_analyses", int),
                            ("FRAME_WAIT_S", "frame_wait_s", float)):
        if (env.get(var) or "").strip():
            try:
                values[name] = cast(env[var])
            except ValueError:
                raise ConfigError(f"{var} must be a number, not {env[var]!r}") from None
    return values


def validate(config: Config) -> Config:
    """Raise :class:`ConfigError` for settings that must not run."""
    if config.app_env not in {"development", "production"}:
        raise ConfigError(f"APP_ENV must be 'development' or 'production', not {config.app_env!r}")
    _validate_limits(config)
    if config.production:
        if config.debug:
            raise ConfigError("APP_ENV=production refuses to start with debug on (unset DEBUG)")
        key = config.secret_key.strip()
        if config.secret_key_source not in {"env", "given"} or not key:
            raise ConfigError(f"APP_ENV=production needs SECRET_KEY set in the environment "
                              f"(generate one with {GENERATE_KEY})")
        problem = secret_key_problem(key)
        if problem:
            raise ConfigError(f"SECRET_KEY is not a real secret ({problem}): use a random key, "
                              f"e.g. from {GENERATE_KEY}")
        if not config.cookie_secure:
            raise ConfigError("APP_ENV=production needs Secure cookies: serve it over HTTPS "
                              "(behind a TLS-terminating proxy: set PROXY_COUNT) and unset "
                              "COOKIE_SECURE=0")
    return config


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is guessable (None: it looks random enough)."""
    if key.lower() in PLACEHOLDER_KEYS or len(key) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(key)) < MIN_SECRET_DISTINCT:
        return f"fewer than {MIN_SECRET_DISTINCT} different characters"
    from zxcvbn import zxcvbn
    if zxcvbn(key[:100])["guesses_log10"] < MIN_SECRET_GUESSES_LOG10:
        return "it is made of a repeated pattern, a sequence or words"
    return None


def _validate_limits(config: Config) -> None:
    import ipaddress

    from limits import parse_many
    for name in ("login_limit", "login_user_limit", "login_ip_limit", "register_limit",
                 "password_check_limit", "visit_guess_limit"):
        try:
            parse_many(getattr(config, name))
        except ValueError:
            raise ConfigError(f"{name.upper()} is not a rate limit like '5 per 15 minutes': "
                              f"{getattr(config, name)!r}") from None
    for name, value in (("BODY_TIMEOUT", config.body_timeout_s), ("KEEPALIVE_TIMEOUT", config.keepalive_timeout_s),
                        ("FRAME_MAX_PIXELS", config.frame_max_pixels), ("FRAME_ANALYSES", config.frame_analyses)):
        if not value > 0:
            raise ConfigError(f"{name} must be positive, not {value!r}")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", config.visit_ends):
        raise ConfigError(f"VISIT_ENDS must be a local time like 00:00 or 18:30, not {config.visit_ends!r}")
    if config.body_min_rate < 0 or config.frame_wait_s < 0:
        raise ConfigError("BODY_MIN_RATE and FRAME_WAIT_S must be 0 or more")
    _validate_job_limits(config)
    if config.proxy_count < 0:
        raise ConfigError("PROXY_COUNT must be 0 (no proxy) or the number of proxies in front")
    for entry in config.trusted_proxies:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None


def _validate_job_limits(config: Config) -> None:
    for name in ("video_max_fps", "batch_max_mb", "batch_user_max_mb", "job_queue_per_user",
                 "job_running_per_user"):
        if not getattr(config, name) > 0:
            raise ConfigError(f"{name.upper()} must be a positive number, not {getattr(config, name)!r}")


def analysis_settings_from_env(env: dict | None = None) -> AnalysisSettings:
    env = dict(os.environ if env is None else env)
    values: dict = {}
    if env.get("EMOTION_MODEL"):
        values["model_path"] = env["EMOTION_MODEL"]
    if env.get("UPLOAD_DETECTOR"):
        values["upload_detector"] = env["UPLOAD_DETECTOR"]
    if env.get("LIVE_DETECTOR"):
        values["live_detector"] = env["LIVE_DETECTOR"]
    if env.get("UPLOAD_MAX_MB"):
        values["max_upload_bytes"] = int(float(env["UPLOAD_MAX_MB"]) * 1024 * 1024)
    if env.get("UPLOAD_MAX_PIXELS"):
        values["max_pixels"] = int(env["UPLOAD_MAX_PIXELS"])
    if env.get("CLASSIFIER_THREADS"):
        values["classifier_threads"] = int(env["CLASSIFIER_THREADS"])
    if env.get("LIVE_STREAM_EVERY"):
        values["stream_every"] = float(env["LIVE_STREAM_EVERY"])
    for name, var in (("streams_per_user", "LIVE_STREAMS_PER_USER"), ("max_streams", "LIVE_MAX_STREAMS"),
                      ("stream_time_limit", "LIVE_TIME_LIMIT"), ("uploads_per_minute", "UPLOADS_PER_MINUTE")):
        if env.get(var):
            values[name] = int(env[var])
    settings = AnalysisSettings(**values)
    for name in (settings.upload_detector, settings.live_detector):
        detector_spec(name)  # unknown names fail here, at start-up, with the list of valid ones
    return settings


def museum_settings_from_env(env: dict | None = None) -> MuseumSettings:
    env = dict(os.environ if env is None else env)
    values: dict = {}
    for key, name, cast in (("ANALYTICS_MIN_VISITORS", "min_visitors", int),
                            ("ANALYTICS_NOISE", "noise", float),
                            ("ANALYTICS_STOP_S", "stop_s", float),
                            ("ANALYTICS_RESAMPLES", "resamples", int),
                            ("ANALYTICS_TIMEZONE", "timezone", str),
                            ("RETENTION_DAYS", "retention_days", float),
                            ("API_TOKEN_TTL_S", "token_ttl_s", int),
                            ("API_MAX_FPS", "max_fps", float),
                            ("API_MAX_SESSIONS", "max_sessions", int),
                            ("KIOSK_IDLE_S", "kiosk_idle_s", float)):
        if env.get(key):
            values[name] = cast(env[key])
    if env.get("API_MAX_FRAME_MB"):
        values["max_frame_bytes"] = int(float(env["API_MAX_FRAME_MB"]) * 1024 * 1024)
    return MuseumSettings(**values)
