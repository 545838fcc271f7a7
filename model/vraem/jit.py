"""Compiled monthly kernels (numba) and the rules they share with the rest of the code.

The monthly phases loop over households in compiled kernels (:func:`kernel`): one pass that does
a rule's whole arithmetic per household costs a fraction of the dozen NumPy passes (and their
temporaries) the same rule takes as array expressions (docs/performance.md).

Each behaviour rule is written once, as a plain function marked :func:`rule`. From Python it runs
on scalars or NumPy arrays as before (the tests and the UI call it that way); inside a kernel it is
compiled and called per household. A rule may use ordinary arithmetic, ``np.exp``,
and the helpers below, :func:`where`, :func:`clip`, :func:`minimum` and :func:`maximum`, which
are NumPy's functions from Python and their scalar forms inside a kernel.

Compiled kernels are cached on disk, keyed by a hash of every source file of the package: a
change to a rule in one module cannot leave a stale kernel of another module in use (numba's own
cache looks only at the kernel's file). Set ``NUMBA_DISABLE_JIT=1`` to run every kernel as plain
Python (slow; for debugging).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
import numpy as np
from numba.extending import overload, register_jitable

_PACKAGE = Path(__file__).resolve().parent


def _source_hash() -> str:
    """A hash of every Python source of the package and of numba's version."""
    h = hashlib.sha256(numba.__version__.encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(_PACKAGE)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _configure_cache() -> str | None:
    """Point numba's on-disk cache at a folder named by the sources' hash (unless the user set one).

    Returns the folder, or None when the user chose one (``NUMBA_CACHE_DIR``) or none is writable.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    name = f"numba-{_source_hash()}"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for base in (_PACKAGE / "__pycache__", Path(xdg) / "vraem"):
        folder = base / name
        if _writable_dir(folder):
            numba.config.CACHE_DIR = str(folder)
            return str(folder)
    return None


CACHE_DIR = _configure_cache()
"""Where this process's compiled kernels are cached (None: numba's default or the user's)."""


def kernel(fn):
    """Compile a monthly kernel (nopython mode, cached on disk)."""
    return numba.njit(cache=True)(fn)


RULES: list = []
"""Every function marked :func:`rule` (``tests/test_jit.py`` checks each compiled form)."""


def rule(fn):
    """Mark a behaviour rule: a plain function from Python, compiled inline inside kernels."""
    RULES.append(fn)
    return register_jitable(fn)


def where(cond, a, b):
    """``np.where`` from Python; ``a if cond else b`` inside a kernel."""
    return np.where(cond, a, b)


def clip(x, lo, hi):
    """``np.clip`` from Python; ``min(max(x, lo), hi)`` inside a kernel."""
    return np.clip(x, lo, hi)


def minimum(a, b):
    """``np.minimum`` from Python; its scalar form inside a kernel (NaN still wins).

    NumPy's own ``np.minimum`` compiles, for scalars, to branches that stop LLVM from vectorizing
    the loop around it; this form is two comparisons and a select (docs/performance.md).
    """
    return np.minimum(a, b)


def maximum(a, b):
    """``np.maximum`` from Python; its scalar form inside a kernel (NaN still wins)."""
    return np.maximum(a, b)


@overload(minimum)
def _minimum_scalar(a, b):
    def impl(a, b):
        return b if (a > b) | (b != b) else a

    return impl


@overload(maximum)
def _maximum_scalar(a, b):
    def impl(a, b):
        return b if (a < b) | (b != b) else a

    return impl


@overload(where)
def _where_scalar(cond, a, b):
    def impl(cond, a, b):
        return a if cond else b

    return impl


@overload(clip)
def _clip_scalar(x, lo, hi):
    def impl(x, lo, hi):
        return min(max(x, lo), hi)

    return impl


def unsigned(index):
    """An integer index array viewed as unsigned integers of the same width (no copy).

    Inside a kernel, an element of a signed array used as an index is first checked for being
    negative (NumPy's wraparound); an unsigned one is not. Household columns of cells, districts
    and types hold no negative values, so a loop that gathers through them gives the same values a
    few instructions cheaper (docs/performance.md).
    """
    return index.view(np.dtype(f"u{index.dtype.itemsize}"))


@overload(unsigned)
def _unsigned_array(index):
    dtype = np.dtype(f"u{index.dtype.bitwidth // 8}").type

    def impl(index):
        return index.view(dtype)

    return impl


@numba.njit(cache=True)
def _block_sum(a, lo, n):
    """NumPy's sum of a block of at most 128 values: 8 accumulators, then the rest in order."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True)
def pairwise_sum(a):
    """The sum of a 1-d float array exactly as NumPy's ``a.sum()`` gives it, for kernels.

    NumPy sums pairwise: it halves the array (at a multiple of 8) until a part has at most 128
    values, sums those over 8 accumulators, and adds the halves' sums. A kernel's running sum
    differs from that by rounding; where a sum feeds back into the model (next month's supply,
    say), the rounding could flip a later random comparison, so such sums use this one. (The
    halving runs on an explicit stack: numba's cache does not reload recursive functions.)
    """
    starts = np.empty(128, dtype=np.int64)
    sizes = np.empty(128, dtype=np.int64)
    expanded = np.zeros(128, dtype=np.bool_)
    sums = np.empty(128)
    starts[0], sizes[0] = 0, a.size
    top, n_sums = 1, 0
    while top > 0:
        k = top - 1
        n = sizes[k]
        if n <= 128:
            sums[n_sums] = _block_sum(a, starts[k], n)
            n_sums += 1
            top -= 1
        elif expanded[k]:
            # Both halves are summed (left below right): replace them by their sum.
            sums[n_sums - 2] = sums[n_sums - 2] + sums[n_sums - 1]
            n_sums -= 1
            top -= 1
        else:
            expanded[k] = True
            half = n // 2
            half -= half % 8
            # The right half goes on the stack first so that the left one is summed first.
            starts[top], sizes[top], expanded[top] = starts[k] + half, n - half, False
            starts[top + 1], sizes[top + 1], expanded[top + 1] = starts[k], half, False
            top += 2
    return 0.0 + sums[0]
