"""The ordering guard's rules, case by case."""

from __future__ import annotations

from app.sync.guard import Observation, Verdict, judge


def obs(status: str, at: int, fp: str = "x") -> Observation:
    return Observation(status, at, fp + status + str(at))


def test_first_observation_applies() -> None:
    assert judge(None, obs("open", 1)) is Verdict.APPLY


def test_identical_content_is_skipped() -> None:
    a = Observation("open", 5, "same")
    assert judge(a, Observation("open", 9, "same")) is Verdict.SKIP


def test_terminal_states_are_never_left() -> None:
    for terminal in ("paid", "void"):
        for other in ("draft", "open", "uncollectible", "paid" if terminal == "void" else "void"):
            assert judge(obs(terminal, 1), obs(other, 100)) is Verdict.SKIP


def test_reaching_a_terminal_state_applies_even_if_timestamps_disagree() -> None:
    assert judge(obs("open", 10), obs("paid", 9)) is Verdict.APPLY


def test_older_never_overwrites_newer() -> None:
    assert judge(obs("open", 10), obs("open", 9)) is Verdict.SKIP
    assert judge(obs("uncollectible", 10), obs("open", 10)) is Verdict.SKIP


def test_newer_applies_and_ties_go_to_the_higher_rank() -> None:
    assert judge(obs("open", 10), obs("open", 11)) is Verdict.APPLY
    assert judge(obs("open", 10), obs("uncollectible", 10)) is Verdict.APPLY


def test_same_time_same_rank_different_content_refetches() -> None:
    assert judge(Observation("open", 10, "a"), Observation("open", 10, "b")) is Verdict.REFETCH


def test_a_newer_paid_snapshot_updates_a_paid_record() -> None:
    assert judge(obs("paid", 10), obs("paid", 11)) is Verdict.APPLY
