"""calls.throttle: the per-socket flood control, driven by a fake clock."""

from calls.throttle import FrameThrottle, Verdict


def make():
    return FrameThrottle(rate=50, burst=10, strikes=5)


def test_a_burst_up_to_the_bucket_size_is_allowed():
    throttle = make()
    assert [throttle.check(0.0) for _ in range(10)] == [Verdict.ALLOW] * 10


def test_frames_past_the_burst_are_limited_then_closed():
    throttle = make()
    for _ in range(10):
        throttle.check(0.0)
    verdicts = [throttle.check(0.0) for _ in range(5)]
    assert verdicts == [Verdict.LIMIT] * 4 + [Verdict.CLOSE]


def test_the_sustained_rate_is_allowed_indefinitely():
    """50 frames/s for a minute never trips a 50/s throttle."""
    throttle = make()
    verdicts = {throttle.check(n / 50) for n in range(50 * 60)}
    assert verdicts == {Verdict.ALLOW}


def test_a_client_that_slows_down_recovers_from_strikes():
    throttle = make()
    for _ in range(10):
        throttle.check(0.0)
    assert [throttle.check(0.0) for _ in range(4)] == [Verdict.LIMIT] * 4
    # A pause refills the bucket; each allowed frame pays back a strike.
    assert [throttle.check(1.0) for _ in range(10)] == [Verdict.ALLOW] * 10
    assert throttle.check(1.0) is Verdict.LIMIT


def test_sixty_frames_a_second_is_eventually_throttled():
    throttle = make()
    verdicts = [throttle.check(n / 60) for n in range(60 * 10)]
    assert Verdict.LIMIT in verdicts
