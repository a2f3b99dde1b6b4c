from moderation.ratelimit import Rate, TokenBucket


def test_burst_then_refill() -> None:
    bucket = TokenBucket(Rate(burst=3, per_second=1), now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take(0.0)
    assert 0.99 <= wait <= 1.0
    assert bucket.strikes == 1
    assert bucket.take(1.0) == 0.0
    assert bucket.strikes == 0


def test_refill_is_capped_at_burst() -> None:
    bucket = TokenBucket(Rate(burst=2, per_second=10), now=0.0)
    bucket.take(0.0)
    assert [bucket.take(100.0) for _ in range(3)][:2] == [0.0, 0.0]
    assert bucket.take(100.0) > 0


def test_clock_going_backwards_does_not_mint_tokens() -> None:
    bucket = TokenBucket(Rate(burst=1, per_second=1), now=10.0)
    assert bucket.take(10.0) == 0.0
    assert bucket.take(5.0) > 0
