"""What the members of an organisation are shown of its visitors (issue 18): numbers from
which no single visitor can be isolated by differencing.

The attack this stops: a member who knows every visitor of a period but one (because they
added those "padding" visitors themselves, with photos or a camera of their own) subtracts the
known part from a released mean and gets the remaining visitor's exact probabilities.  The
minimum-visitors rule alone does not stop it; padding is what makes the visitors enough.

The defence (see docs/privacy.md for the reasons):

* every visitor weighs 1/n in the shares and means (:mod:`portal.museum.analytics`), so one visitor
  moves a released number by at most 1/n;
* each released share and mean gets Laplace noise of scale ``noise / n``: one visitor's whole
  weight, so differencing two releases leaves an error of the same size as the visitor's own
  numbers; dwell-time histogram counts get Laplace noise of scale ``noise`` (one visitor is one
  count), and the median dwell time is read off the noisy histogram;
* the noise is drawn from a generator seeded with an HMAC (a server-side key) of the exhibit,
  the metric and the exact set of visitors counted: asking again, from any date range that
  holds the same visitors, gives the same numbers, so repeating a query cannot average the
  noise away; any other set of visitors draws new noise, so two releases that differ by the
  padding cannot cancel it either.

    blur = Blur(key=b"secret", exhibit_id=7, noise=1.0)
    summary = analytics.summarise(rows, 5, blur=blur)
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets

from portal.museum import analytics

log = logging.getLogger(__name__)
DECIMALS = 3  # released shares and means are rounded to this many decimals
_PROCESS_KEY = secrets.token_bytes(32)  # when no key is configured (tests, scripts)


def _key_text(key: tuple) -> str:
    return ",".join("-" if v is None else str(v) for v in key)


class Blur(analytics.Exact):
    """Seeded noise for one exhibit's releases (see the module docstring)."""

    def __init__(self, key: bytes, exhibit_id: int, noise: float = 1.0):
        self.key, self.exhibit_id, self.noise = key or _PROCESS_KEY, int(exhibit_id), float(noise)

    def _rng(self, metric: str, keys: set) -> random.Random:
        message = f"{self.exhibit_id}|{metric}|" + ";".join(sorted(_key_text(k) for k in keys))
        digest = hmac.new(self.key, message.encode(), hashlib.sha256).digest()
        return random.Random(int.from_bytes(digest, "big"))

    @staticmethod
    def _laplace(rng: random.Random, scale: float) -> float:
        return scale * (rng.expovariate(1.0) - rng.expovariate(1.0))

    def scale(self, visitors: int) -> float | None:
        return round(self.noise / visitors, 6) if visitors and self.noise > 0 else None

    def shares(self, metric: str, keys: set, values: dict[str, float]) -> dict[str, float]:
        """A distribution over the emotions, noised, clipped at 0 and scaled to sum to 1."""
        if self.noise <= 0 or not keys:
            return values
        rng, scale = self._rng(metric, keys), self.noise / len(keys)
        noisy = {e: max(0.0, v + self._laplace(rng, scale)) for e, v in values.items()}
        total = sum(noisy.values())
        if total <= 0:
            return {e: round(1 / len(noisy), DECIMALS) for e in noisy}
        return {e: round(v / total, DECIMALS) for e, v in noisy.items()}

    def dwell(self, keys: set, dwells: list[float]) -> tuple[list[dict], float | None]:
        """The dwell-time histogram with noisy whole counts, and the median read off it."""
        histogram = analytics.dwell_histogram(dwells)
        if self.noise <= 0 or not dwells:
            return analytics.Exact.dwell(self, keys, dwells)
        rng = self._rng("dwell", keys)
        for entry in histogram:
            entry["visitors"] = max(0, round(entry["visitors"] + self._laplace(rng, self.noise)))
        median = analytics.histogram_median([b["visitors"] for b in histogram])
        return histogram, None if median is None else round(median, 1)
