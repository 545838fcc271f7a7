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

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def __getattr__(self, name: str) -> np.random.Generator:
        try:
            return self._gens[name]
        except KeyError:
            raise AttributeError(f"no random stream named {name!r}") from None

    def rekey(self, month: int) -> None:
        """Move every stream to its block for the month after ``month`` (start + month x MONTH_STRIDE).

        For runs in which how many values a month draws depends on the run's own course (in an
        open valley, households arrive and leave, and per-household streams draw for those
        present): rekeyed after each month, a stream's draws no longer depend on how many values
        earlier months drew, so two policies share their random numbers again from month to month.
        """
        for name, gen in self._gens.items():
            gen.bit_generator.state = self._initial[name]
            gen.bit_generator.advance(int(month) * MONTH_STRIDE)

    def states(self) -> dict[str, dict]:
        """Bit-generator state of every stream (for tests of stream independence)."""
        return {name: gen.bit_generator.state for name, gen in self._gens.items()}
