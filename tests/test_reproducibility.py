"""Same seed, same results (in one process and in two); policies do not shift unrelated draws."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from vraem.rng import MONTH_STRIDE, SETUP_STREAMS, STREAM_NAMES, Streams, skip
from vraem.runner import run_once
from vraem.simulation import VraemModel


def test_same_seed_same_table(small_scenario):
    sc = small_scenario("integrated")
    a = run_once(sc, 0).table
    b = run_once(sc, 0).table
    pd.testing.assert_frame_equal(a, b)


def test_different_replicates_differ(small_scenario):
    sc = small_scenario("integrated")
    a = run_once(sc, 0).table
    b = run_once(sc, 1).table
    assert not np.allclose(a["coca_ha"].iloc[1:], b["coca_ha"].iloc[1:])


def test_same_seed_same_table_in_two_processes(tmp_path):
    outs = []
    for i in range(2):
        out = tmp_path / f"r{i}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "vraem.cli",
                "run",
                "integrated",
                "--replicates",
                "1",
                "--months",
                "18",
                "--set",
                "farmer.n_households=400",
                "--out",
                str(out),
                "--no-plot",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        outs.append(pd.read_parquet(out / "results.parquet"))
    pd.testing.assert_frame_equal(outs[0], outs[1])


def test_streams_are_independent_and_append_only():
    s = Streams(7)
    a = s["allocation"].random(5)
    b = Streams(7)["allocation"].random(5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(Streams(7)["replanting"].random(5), a)
    assert len(set(STREAM_NAMES)) == len(STREAM_NAMES)


def test_rekeyed_streams_forget_how_much_was_drawn():
    a, b = Streams(7), Streams(7)
    a.allocation.random(10)
    b.allocation.random(99)
    a.rekey(3)
    b.rekey(3)
    first = a.allocation.random(5)
    np.testing.assert_array_equal(first, b.allocation.random(5))
    c = Streams(7)
    c.rekey(4)
    assert not np.allclose(c.allocation.random(5), first)
    assert not np.allclose(Streams(7).allocation.random(5), first)


def test_a_stream_used_after_several_rekeys_starts_at_the_last_months_block():
    """Streams move to their month's block when next used: a stream idle for months, drawn
    from and rekeyed in between, starts where moving every stream at every rekey put it."""
    s = Streams(7)
    s.replanting.random(3)
    for month in (1, 2, 3):
        s.allocation.random(month)
        s.rekey(month)
    k = STREAM_NAMES.index("replanting")
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence(7).spawn(len(STREAM_NAMES))[k]))
    expected.bit_generator.advance(3 * MONTH_STRIDE)
    np.testing.assert_array_equal(s.replanting.random(4), expected.random(4))
    assert s.states()["allocation"] == _advanced(Streams(7)["allocation"], 3 * MONTH_STRIDE)


def _advanced(gen: np.random.Generator, n: int) -> dict:
    gen.bit_generator.advance(n)
    return gen.bit_generator.state


@pytest.mark.parametrize("open_valley", [True, False], ids=["open_valley", "closed_valley"])
def test_policy_change_leaves_unrelated_draws_unchanged(small_scenario, open_valley):
    """In an open valley the streams are rekeyed each month (policies change who is present)."""
    quiet = small_scenario("status_quo", **{"mechanisms.open_valley": open_valley})
    busy = small_scenario("eradication_first", **{"mechanisms.open_valley": open_valley})

    def build(sc):
        m = VraemModel(params=sc.parameters, policy=sc.policy, seed=11, months=sc.months)
        return m

    a, b = build(quiet), build(busy)
    # The valley and the households are drawn identically whatever the policy.
    np.testing.assert_array_equal(a.landscape.layer("elevation_m"), b.landscape.layer("elevation_m"))
    np.testing.assert_array_equal(a.households.cell, b.households.cell)
    np.testing.assert_array_equal(a.households.kind, b.households.kind)
    a.run()
    b.run()
    # Mechanisms draw a fixed number of values a month, so streams stay in step across policies.
    sa, sb = a.streams.states(), b.streams.states()
    for name in (
        "allocation",
        "replanting",
        "eradication",
        "resistance",
        "elections",
        "programme",
        "couriers",
        "interdiction",
        "airstrips",
    ):
        assert sa[name] == sb[name], name
    # ... while the outcomes do differ.
    assert b.results()["eradicated_ha"].sum() > 0 == a.results()["eradicated_ha"].sum()


def test_skipping_draws_leaves_a_stream_where_drawing_them_would():
    """Every stream's later draws are the same whether a month's unused draws were made or skipped."""
    made, skipped = Streams(12), Streams(12)
    for name in STREAM_NAMES:
        made[name].random(7)
        made[name].uniform(0.5, 1.5, 3)
        skip(skipped[name], 10)
        np.testing.assert_array_equal(made[name].random(1_000), skipped[name].random(1_000))
    assert made.states() == skipped.states()


def test_rekeying_month_by_month_lands_where_advance_from_the_start_does():
    """The in-order path (one 128-bit LCG step a month) and any out-of-order month reach the
    state ``advance(month x MONTH_STRIDE)`` gives from the stream's start."""
    s = Streams(11)
    k = STREAM_NAMES.index("programme")
    start = np.random.PCG64(np.random.SeedSequence(11).spawn(len(STREAM_NAMES))[k])
    for month in [*range(1, 14), 13, 40, 41, 2, 3]:
        s.programme.random(month + 5)
        s.rekey(month)
        expected = np.random.PCG64(0)
        expected.state = start.state
        expected.advance(month * MONTH_STRIDE)
        assert s.programme.bit_generator.state == expected.state, month


def test_no_month_draws_from_the_set_up_streams(small_scenario):
    """Rekeying leaves the set-up streams alone, which is right only while no month draws from them:
    their states after months of a busy run in an open valley are those the set-up left."""
    sc = small_scenario("integrated", **{"mechanisms.open_valley": True})
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=5, months=30)
    built = m.streams.states()
    m.run()
    after = m.streams.states()
    assert SETUP_STREAMS and all(after[name] == built[name] for name in SETUP_STREAMS)
    assert any(after[name] != built[name] for name in STREAM_NAMES if name not in SETUP_STREAMS)


def test_streams_survive_copy_and_pickle():
    """A copied or unpickled set of streams draws what the original draws next (a model can be
    deep-copied, say to branch a run)."""
    import copy
    import pickle

    s = Streams(13)
    s.allocation.random(7)
    s.rekey(2)
    for twin in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        np.testing.assert_array_equal(twin.allocation.random(4), copy.deepcopy(s).allocation.random(4))
        twin.rekey(3)
        assert twin.states()["programme"] == _advanced(Streams(13)["programme"], 3 * MONTH_STRIDE)
    with pytest.raises(AttributeError, match="no random stream named 'nonesuch'"):
        _ = s.nonesuch
