"""Named random streams from one seed.

One ``SeedSequence`` per run is spawned into a fixed, append-only list of named streams (the idea
Starsim uses). Each mechanism draws only from its own stream, and draws a fixed number of values
each month whether or not it acts, so that switching a policy on does not shift the random draws
of anything else: scenarios are compared on common random numbers.
"""

from __future__ import annotations

import numpy as np


def replicate_seed(base_seed: int, replicate: int) -> int:
    """The seed of replicate ``k``: the same in every scenario and parameter point (CRN)."""
    return int(np.random.SeedSequence([int(base_seed), int(replicate)]).generate_state(1)[0])


STREAM_NAMES: tuple[str, ...] = (
    "landscape",
    "households",
    "allocation",
    "replanting",
    "eradication",
    "resistance",
    "labs",
    "raids",
    "airstrips",
    "interdiction",
    "couriers",
    "mayors",
    "elections",
    "programme",
    "clans",
    "cartels",
    "compliance",
    "raid_resistance",
    "mayor_decisions",
    "wealth",
    "disease",
    "migration",
    "harvest_choice",
    "courier_households",
)
"""Append-only: adding a name at the end leaves every existing stream's draws unchanged."""

SETUP_STREAMS: frozenset[str] = frozenset({"landscape", "households", "clans", "cartels", "mayors", "wealth"})
"""Streams drawn only while the model is built (``VraemModel.__init__``): :meth:`Streams.rekey` leaves
them alone, since no month draws from them (``tests/test_reproducibility.py`` checks that a run
does not)."""


MONTH_STRIDE = 2**40
"""Draws between the starts of two months of a rekeyed stream (:meth:`Streams.rekey`): far more than
any month draws, so the months' blocks of a stream never overlap."""


def skip(gen: np.random.Generator, n: int) -> None:
    """Move a stream past ``n`` uniform draws (``gen.random(n)``) without making them.

    A mechanism that needs none of its month's draws skips them, so its stream stays where a
    month that used them would leave it (common random numbers), at no cost. Each float64 uniform
    takes one 64-bit output of the PCG64 bit generator, which ``advance`` jumps over.
    """
    gen.bit_generator.advance(n)


_MASK_128 = (1 << 128) - 1


def _stride_step(state: dict) -> tuple[int, int]:
    """``(a, c)`` such that MONTH_STRIDE draws of a PCG64 stream take its state to a x state + c.

    PCG64's state moves by a 128-bit linear congruential step, so any fixed number of steps is
    again one: ``c`` is where ``advance`` takes state 0 (with the stream's increment), and
    ``a + c`` where it takes state 1.
    """
    c = _advanced(_with_state(state, 0), MONTH_STRIDE)
    return (_advanced(_with_state(state, 1), MONTH_STRIDE) - c) & _MASK_128, c


def _with_state(state: dict, position: int) -> dict:
    """A PCG64 state dict: ``state``'s stream (its increment) at the LCG state ``position``."""
    return {
        "bit_generator": "PCG64",
        "state": {"state": position, "inc": state["state"]["inc"]},
        "has_uint32": 0,
        "uinteger": 0,
    }


def _advanced(state: dict, n: int) -> int:
    """The LCG state ``n`` draws after the PCG64 state ``state`` (by the bit generator's ``advance``)."""
    bg = np.random.PCG64(0)
    bg.state = state
    bg.advance(n)
    return bg.state["state"]["state"]


class Streams:
    """A set of independent ``numpy.random.Generator`` streams spawned from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        children = np.random.SeedSequence(self.seed).spawn(len(STREAM_NAMES))
        self._gens = {
            name: np.random.Generator(np.random.PCG64(child))
            for name, child in zip(STREAM_NAMES, children, strict=True)
        }
        self._initial = {name: gen.bit_generator.state for name, gen in self._gens.items()}
        # Rekeying (below) moves each stream from one month's block start to the next by the
        # linear congruential step PCG64 takes over MONTH_STRIDE draws, state -> a x state + c
        # (mod 2**128), with a and c worked out once by the bit generator's own ``advance``.
        monthly = [name for name in STREAM_NAMES if name not in SETUP_STREAMS]
        self._stride_step = {name: _stride_step(self._initial[name]) for name in monthly}
        self._block_month = 0
        self._block_start = {name: self._initial[name]["state"]["state"] for name in monthly}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def __getattr__(self, name: str) -> np.random.Generator:
        # Only for stream names: while ``copy`` or ``pickle`` rebuild a Streams, ``_gens`` is not
        # set yet, and looking it up here again would recurse without end.
        gens = self.__dict__.get("_gens")
        if gens is None or name not in gens:
            raise AttributeError(f"no random stream named {name!r}")
        return gens[name]

    def rekey(self, month: int) -> None:
        """Move each monthly stream to its block for the month after ``month`` (start + month x stride).

        For runs in which how many values a month draws depends on the run's own course (in an
        open valley, households arrive and leave, and per-household streams draw for those
        present): rekeyed after each month, a stream's draws no longer depend on how many values
        earlier months drew, so two policies share their random numbers again from month to month.

        Months rekeyed in order (as a run does) step each block start on by one stride, a
        multiplication and an addition of 128-bit integers; any other month is reached from the
        stream's start with ``advance``. Either way the state is the same. The streams of the set-up
        (:data:`SETUP_STREAMS`) are not moved: no month draws from them.
        """
        month = int(month)
        if month == self._block_month + 1:
            for name, start in self._block_start.items():
                a, c = self._stride_step[name]
                self._block_start[name] = (a * start + c) & _MASK_128
        elif month != self._block_month:
            for name in self._block_start:
                self._block_start[name] = _advanced(self._initial[name], month * MONTH_STRIDE)
        self._block_month = month
        for name, start in self._block_start.items():
            self._gens[name].bit_generator.state = _with_state(self._initial[name], start)

    def states(self) -> dict[str, dict]:
        """Bit-generator state of every stream (for tests of stream independence)."""
        return {name: gen.bit_generator.state for name, gen in self._gens.items()}
