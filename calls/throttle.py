"""Per-socket flood control: a token bucket plus a strike count. Pure; time is passed in."""

from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"  # process the frame
    LIMIT = "limit"  # answer `rate_limited`, drop the frame
    CLOSE = "close"  # the client kept flooding: close the socket (4429)


@dataclass
class FrameThrottle:
    """Allows `rate` frames/s sustained with bursts up to `burst`.

    Each frame over the limit is a strike; `strikes` of them without the client
    slowing down (an allowed frame pays one strike back) close the socket.
    """

    rate: float
    burst: int
    strikes: int
    _tokens: float = field(init=False)
    _last: float | None = field(init=False, default=None)
    _strikes: float = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)

    def check(self, now: float) -> Verdict:
        if self._last is not None:
            self._tokens = min(
                self.burst, self._tokens + (now - self._last) * self.rate
            )
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            self._strikes = max(0, self._strikes - 1)
            return Verdict.ALLOW
        self._strikes += 1
        return Verdict.CLOSE if self._strikes >= self.strikes else Verdict.LIMIT
