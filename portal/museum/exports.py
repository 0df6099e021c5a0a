"""An exhibit's numbers and exports, shared by the JSON API and the portal pages (issue 11).

    start, end = date_range("2026-01-01", "2026-01-31")      # ValueError for a bad date
    summary = exhibit_summary(exhibit, settings, start, end)         # noised: museum.privacy
    text, hidden = observations_csv(exhibit, settings, user_id, start, end)  # the user's own rows
"""
from __future__ import annotations

import csv
import datetime as _dt
import io

from db.observations import observation_rows
from portal.museum import analytics, curator, published
from portal.museum.privacy import Blur
from portal.museum.settings import MuseumSettings

OBSERVATION_COLUMNS = (["observed_at", "source", "session_id", "analysis_id", "video_id", "t_s", "track_id"]
                       + [f"p_{e}" for e in analytics.EMOTIONS] + ["emotion", "uncertain", "face_size"])


def parse_day(text: str | None, what: str) -> _dt.date | None:
    if text in (None, ""):
        return None
    try:
        return _dt.date.fromisoformat(str(text))
    except ValueError:
        raise ValueError(f"'{what}' must be a date like 2026-01-31, not {str(text)[:40]!r}") from None


def date_range(start: str | None, end: str | None,
               tz: _dt.tzinfo = _dt.timezone.utc) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """Local days ``start``..``end`` (both included) as naive UTC bounds [from, to)."""
    first, last = parse_day(start, "from"), parse_day(end, "to")
    if first and last and last < first:
        raise ValueError("'to' is before 'from'")

    def utc(day: _dt.date) -> _dt.datetime | None:  # None: past the calendar's ends (no bound)
        try:
            local = _dt.datetime.combine(day, _dt.time(), tzinfo=tz)
            return local.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            return None
    return (utc(first) if first else None,
            utc(last + _dt.timedelta(days=1)) if last and last < _dt.date.max else None)


def exhibit_summary(exhibit, settings: MuseumSettings, start=None, end=None,
                    bucket: str = "hour", rows: list[dict] | None = None) -> dict:
    """What members are shown: the breakdowns noised so that no visitor can be isolated
    (:mod:`portal.museum.privacy`)."""
    rows = observation_rows(exhibit.id, start, end) if rows is None else rows
    blur = Blur(settings.noise_key, exhibit.id, settings.noise)
    summary = analytics.summarise(rows, settings.min_visitors, settings.tz, bucket, blur)
    summary.update(exhibit_id=exhibit.id, exhibit=exhibit.name, timezone=settings.timezone)
    summary.update(published.summary_fields(  # curator measures with intervals (issue 20)
        published.measures(curator.visitors(rows), summary, blur, settings)))
    return summary


def observations_csv(exhibit, settings: MuseumSettings, user_id: int, start=None,
                     end=None) -> tuple[str, bool]:
    """One row per face the user recorded themselves at the exhibit (their sessions, photos and
    videos: numbers they were given when recording; no images).  Other members' recordings are
    never exported row by row, only as noised aggregates.  Only the header when the visitors
    are too few.  Returns (CSV text, hidden)."""
    rows = observation_rows(exhibit.id, start, end, owner_id=user_id)
    hidden = analytics.visitor_count(rows) < settings.min_visitors
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(OBSERVATION_COLUMNS)
    for r in ([] if hidden else rows):
        writer.writerow([r["observed_at"].isoformat() + "Z", r["source"], r["session_id"] or "",
                         r["computation_id"] or "", r.get("video_id") or "", f"{r['t']:.3f}", r["track_id"]]
                        + [f"{r['probabilities'][e]:.5f}" for e in analytics.EMOTIONS]
                        + [r["emotion"], int(bool(r.get("uncertain"))), r["face_size"]])
    return out.getvalue(), hidden


def aggregates_csv(summary: dict) -> str:
    """The summary's numbers as CSV (metric, key, value); hidden breakdowns say so."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "key", "value"])
    writer.writerow(["visitors", "", summary["visitors"]])
    writer.writerow(["faces", "", summary["faces"]])
    if summary["hidden"]:
        writer.writerow(["breakdown", "", summary["hidden"]])
    else:
        writer.writerow(["dwell_s_median", "", summary["dwell_s_median"]])
        if summary.get("uncertain_share") is not None:  # faces counted in no emotion below
            writer.writerow(["uncertain_share", "", f"{summary['uncertain_share']:.5f}"])
        for key in ("emotions", "mean_probabilities"):
            for name, value in summary[key].items():
                writer.writerow([key, name, f"{value:.5f}"])
        _curator_rows(writer, summary.get("measures"))
    for entry in summary["timeline"]:
        writer.writerow(["timeline_visitors", entry["start"], entry["visitors"]])
    return out.getvalue()


def _curator_rows(writer, measures: dict | None) -> None:
    """Issue 20's measures: value, then the 95 % interval's low and high (empty: none)."""
    if not measures:
        return
    writer.writerow(["stopped", "", "" if measures["stopped"] is None else measures["stopped"]])
    entries = [(name, "", measures[name], True) for name in ("attraction", "dwell", "expressive", "uncertain")]
    entries += [(metric, e, measures[key][e], False)  # their values are the rows above
                for metric, key in (("emotions", "emotions"), ("mean_probabilities", "probabilities"))
                for e in analytics.EMOTIONS]
    for metric, key, entry, with_value in entries:
        low, high = entry["ci95"] or ("", "")
        rows = [("", entry["value"])] if with_value else []
        for suffix, value in rows + [("_ci95_low", low), ("_ci95_high", high)]:
            writer.writerow([metric + suffix, key, "" if value is None else value])
