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


def test_a_take_can_cost_more_than_one_token() -> None:
    bucket = TokenBucket(Rate(burst=30, per_second=1), now=0.0)
    assert bucket.take(0.0, 17) == 0.0
    wait = bucket.take(0.0, 17)  # 13 left: 4 short, 4 s at one a second
    assert 3.99 <= wait <= 4.0 and bucket.strikes == 1
    assert bucket.take(0.0, 13) == 0.0


def test_a_cost_over_the_burst_is_charged_as_the_burst() -> None:
    bucket = TokenBucket(Rate(burst=5, per_second=1), now=0.0)
    assert bucket.take(0.0, 100) == 0.0  # a full bucket admits it: never refused forever
    assert bucket.take(0.0) > 0


def test_settle_counts_admitted_faults_as_strikes_until_a_good_one() -> None:
    bucket = TokenBucket(Rate(burst=10, per_second=1), now=0.0)
    for expected in (1, 2, 3):
        assert bucket.take(0.0, clears=False) == 0.0
        assert bucket.settle(False) == expected  # a take that passed did not clear them
    assert bucket.take(0.0, 10) > 0 and bucket.strikes == 4  # a refusal continues the run
    assert bucket.take(10.0, clears=False) == 0.0 and bucket.strikes == 4
    assert bucket.settle(True) == 0
