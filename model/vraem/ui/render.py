"""Cheap drawing for the classroom app: the valley map as a PNG, the charts as small SVGs.

Both are redrawn every month while the app plays, so both must take milliseconds. The map is composed
pixel by pixel in numpy at 5 pixels a cell and PNG-encoded (10-20 ms at 1,500 households on the project's
2-core machines; the browser scales it up) instead of rebuilding a matplotlib figure (0.3-0.5 s). The charts
are SVG line charts written directly (about 3 ms for all six). Vega-Lite (altair) charts are not used: the
browser would load Vega from a CDN at run time, which an offline classroom cannot reach.
Everything reads only the model's state and its Mesa ``DataCollector``, so it is unit-tested
without a browser.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from vraem.ui.valleys import legal_ha_by_cell

PIXELS_PER_CELL = 5
"""Image pixels per grid cell; the browser scales the image up without smoothing (CSS pixelated)."""

LAYERS = ("coca", "legal", "forest", "borders", "labs", "airstrips", "police")
"""Map layers a student can switch on and off."""
DEFAULT_LAYERS = frozenset(LAYERS)


@dataclass(frozen=True)
class Swatch:
    """A legend entry: label, CSS colour, and the marker shape drawn on the map."""

    label: str
    color: str
    shape: str = "square"


COCA_RGB = (200, 16, 110)
LEGAL_RGB = (242, 169, 0)
FOREST_RGB = (46, 125, 50)
RIVER_RGB = (33, 118, 214)
ROAD_RGB = (120, 100, 80)
BORDER_RGB = (40, 40, 40)
LAB_RGB = (0, 0, 0)
STRIP_RGB = (255, 255, 255)
POLICE_RGB = (13, 71, 161)

LEGEND = {
    "coca": Swatch("coca (ha per cell)", "rgb(200,16,110)"),
    "legal": Swatch("legal crops: food, cacao, coffee", "rgb(242,169,0)"),
    "forest": Swatch("forest", "rgb(46,125,50)"),
    "borders": Swatch("district borders", "rgb(40,40,40)", "line"),
    "labs": Swatch("active labs (cocinas)", "rgb(0,0,0)"),
    "airstrips": Swatch("active airstrips", "rgb(255,255,255)", "strip"),
    "police": Swatch("police and army units", "rgb(13,71,161)", "circle"),
}
"""Legend entries by layer, in the colours the map uses."""


def _blend(img: np.ndarray, rgb: tuple[int, int, int], alpha: np.ndarray) -> None:
    a = alpha[..., None]
    img[:] = img * (1.0 - a) + np.asarray(rgb, float) * a


def _up(cells: np.ndarray, s: int) -> np.ndarray:
    return np.repeat(np.repeat(cells, s, axis=0), s, axis=1)


def _stamp(img: np.ndarray, xs, ys, mask: np.ndarray, rgb, s: int) -> None:
    """Draw a small marker mask centred on each cell (x, y)."""
    mh, mw = mask.shape
    for x, y in zip(np.atleast_1d(xs), np.atleast_1d(ys), strict=True):
        top = int(y) * s + (s - mh) // 2
        left = int(x) * s + (s - mw) // 2
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + mh, img.shape[0]), min(left + mw, img.shape[1])
        sub = mask[r0 - top : r1 - top, c0 - left : c1 - left]
        img[r0:r1, c0:c1][sub] = rgb


def _disc(d: int) -> np.ndarray:
    r = (d - 1) / 2
    yy, xx = np.mgrid[:d, :d]
    return (yy - r) ** 2 + (xx - r) ** 2 <= r * r + 0.5


def _ring(d: int) -> np.ndarray:
    return _disc(d) & ~np.pad(_disc(d - 2), 1)


_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _half_line(s: int, dx: int, dy: int, thick: int) -> np.ndarray:
    """Pixels of a cell from its centre to its edge (or corner) in direction (dx, dy)."""
    mask = np.zeros((s, s), bool)
    c = (s - 1) / 2
    for t in np.linspace(0.0, s / 2 + 0.5, 4 * s):
        r, q = c + dy * t, c + dx * t
        r0, q0 = round(r - (thick - 1) / 2), round(q - (thick - 1) / 2)
        mask[max(r0, 0) : min(r0 + thick, s), max(q0, 0) : min(q0 + thick, s)] = True
    return mask


def _network(cells: np.ndarray, s: int, thick: int) -> np.ndarray:
    """Pixel mask of lines joining each marked cell to its marked neighbours (8 directions)."""
    return _network_cached(cells.tobytes(), cells.shape, s, thick)


@functools.lru_cache(maxsize=16)
def _network_cached(key: bytes, shape: tuple[int, int], s: int, thick: int) -> np.ndarray:
    cells = np.frombuffer(key, dtype=bool).reshape(shape)
    h, w = shape
    out = np.zeros((h * s, w * s), bool)
    padded = np.pad(cells, 1)
    for dx, dy in _DIRECTIONS:
        for sx, sy in ((dx, dy), (-dx, -dy)):
            neighbour = padded[1 + sy : 1 + sy + h, 1 + sx : 1 + sx + w]
            joined = cells & neighbour
            if joined.any():
                out |= _up(joined, s) & np.tile(_half_line(s, sx, sy, thick), (h, w))
    lone = _up(cells, s) & np.tile(_half_line(s, 0, 0, thick + 1), (h, w))
    return out | lone


def map_rgb(model, layers=DEFAULT_LAYERS, s: int = PIXELS_PER_CELL) -> np.ndarray:
    """Draw the valley as an (height*s, width*s, 3) uint8 image; north is up.

    Base: terrain shaded by elevation, rivers and roads. Layers (each optional): forest, legal
    crops and coca as colour intensity per cell (coca and legal crops at full colour from the
    95th percentile of the opening map, fixed for the run so that change shows), district borders,
    labs (black squares), airstrips (white runways), police units (blue discs).
    """
    L = model.landscape
    w, h = L.width, L.height

    def grid(values: np.ndarray) -> np.ndarray:
        return np.asarray(values, float).reshape(w, h).T  # rows are y (north at the top)

    elev = grid(L.layer("elevation_m"))
    shade = np.clip((elev - 500.0) / 3_000.0, 0.0, 1.0)
    base = np.empty((h, w, 3))
    base[:] = np.array([236.0, 232.0, 220.0])
    _blend(base, (170, 165, 160), shade * 0.8)
    run = getattr(model, "classroom", None)
    if "forest" in layers:
        _blend(base, FOREST_RGB, 0.65 * np.clip(grid(L.layer("forest_ha")) / L.cell_ha, 0.0, 1.0))
    if "legal" in layers:
        scale = run.legal_scale_ha if run else 1.0
        legal = grid(legal_ha_by_cell(model))
        _blend(base, LEGAL_RGB, np.where(legal > 0, 0.25 + 0.7 * np.clip(legal / scale, 0.0, 1.0), 0.0))
    if "coca" in layers:
        scale = run.coca_scale_ha if run else 1.0
        coca = grid(L.layer("coca_ha"))
        _blend(base, COCA_RGB, np.where(coca > 1e-6, 0.3 + 0.7 * np.clip(coca / scale, 0.0, 1.0), 0.0))
    img = _up(base, s)

    # Rivers and roads as lines joining the centres of neighbouring cells.
    for mask_flat, rgb, thick in ((L.road, ROAD_RGB, 1), (L.river, RIVER_RGB, 2)):
        img[_network(grid(mask_flat) > 0, s, thick)] = rgb
    if "borders" in layers:
        d = _up(grid(L.layer("district")), s)
        edge = np.zeros(d.shape, bool)
        edge[1:, :] |= d[1:, :] != d[:-1, :]
        edge[:, 1:] |= d[:, 1:] != d[:, :-1]
        img[edge] = BORDER_RGB

    if "labs" in layers:
        labs = model.labs
        xs, ys = L.xy(labs.cell[labs.active])
        square = np.ones((s // 2 + 1, s // 2 + 1), bool)
        _stamp(img, xs, ys, square, LAB_RGB, s)
    if "airstrips" in layers:
        strips = model.airstrips
        xs, ys = L.xy(strips.cell[strips.active])
        outline = np.ones((s // 2 + 2, s + 2), bool)
        _stamp(img, xs, ys, outline, (0, 0, 0), s)
        _stamp(img, xs, ys, np.ones((s // 2, s), bool), STRIP_RGB, s)
    if "police" in layers:
        units = [u.cell.coordinate for u in model.security_units if u.cell is not None]
        if units:
            xs, ys = np.array(units).T
            _stamp(img, xs, ys, _disc(s + 3), POLICE_RGB, s)
            _stamp(img, xs, ys, _ring(s + 3), (255, 255, 255), s)
    return img.astype(np.uint8)


def map_png(model, layers=DEFAULT_LAYERS, s: int = PIXELS_PER_CELL) -> bytes:
    """:func:`map_rgb` encoded as PNG bytes (fast compression: it changes every frame)."""
    buf = io.BytesIO()
    Image.fromarray(map_rgb(model, layers, s)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Charts


@dataclass(frozen=True)
class Chart:
    """One small chart: title, y-axis label, and the DataCollector columns it draws."""

    title: str
    y_title: str
    series: dict[str, str]
    """DataCollector column -> legend label."""


CHARTS = (
    Chart("Coca in the valley", "ha, this valley", {"coca_ha": "coca"}),
    Chart(
        "Eradicated and replanted",
        "ha per month, this valley",
        {"eradicated_ha": "eradicated", "replanted_ha": "replanted"},
    ),
    Chart(
        "Household income",
        "USD per month",
        {"income_mean_usd": "all income", "coca_income_mean_usd": "from coca"},
    ),
    Chart("Coca leaf price", "USD per kg", {"leaf_price_usd_per_kg": "leaf"}),
    Chart(
        "Confrontations",
        "per month",
        {"confrontations": "confrontations", "casualties": "casualties"},
    ),
    Chart("Labs and airstrips", "active", {"active_labs": "labs", "active_airstrips": "airstrips"}),
)
"""The live charts; column names are those of :mod:`vraem.metrics`."""

COLORS = ("#c8106e", "#1565c0", "#e08e00", "#2e7d32")
EARLIER_COLORS = ("#1565c0", "#2e7d32", "#e08e00", "#6a1b9a", "#00838f", "#5d4037", "#455a64", "#ef6c00")
"""Colours of earlier runs on the coca chart, in the order they were kept (then round again)."""
MARK_YEARS = (5, 10)
"""Years marked on the coca chart with a dashed line (those of the readout)."""


def nice_ticks(hi: float, lo: float = 0.0, n: int = 4) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k) covering ``lo``..``hi``."""
    if not math.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    count = math.ceil((hi - first) / step - 1e-9)
    return [first + k * step for k in range(count + 1)]


def _fmt(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e4:
        return f"{v / 1e3:g}k"
    return f"{v:,.2f}".rstrip("0").rstrip(".") if a < 10 else f"{v:,.0f}"


def line_chart_svg(
    chart: Chart, columns: dict[str, list[float]], months: int, width: int = 300, height: int = 170
) -> str:
    """One small line chart as an SVG string: months on a fixed 0..``months`` axis."""
    left, right, top, bottom = 46, 10, 40, 26
    pw, ph = width - left - right, height - top - bottom
    series = {label: np.asarray(columns[col], float) for col, label in chart.series.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in series.values()] + [np.zeros(1)])
    lo = min(0.0, float(finite.min()))
    ticks = nice_ticks(float(finite.max()), lo)
    y0, y1 = ticks[0], ticks[-1]

    def px(i: np.ndarray) -> np.ndarray:
        return left + pw * i / max(months, 1)

    def py(v: np.ndarray) -> np.ndarray:
        return top + ph * (1.0 - (v - y0) / (y1 - y0))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" role="img" '
        f'aria-label="{chart.title}">',
        f'<text x="6" y="13" font-size="12" fill="#222">'
        f'<tspan font-weight="bold">{chart.title}</tspan>'
        f'<tspan fill="#666"> ({chart.y_title})</tspan></text>',
    ]
    for t in ticks:
        y = py(np.float64(t))
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#444">{_fmt(t)}</text>')
    for t in nice_ticks(months, n=4):
        if t > months:
            break
        x = px(np.float64(t))
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + ph}" y2="{top + ph + 3}" stroke="#888"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 14}" text-anchor="middle" fill="#444">{t:g}</text>')
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#888"/>'
        f'<text x="{left + pw}" y="{height - 1}" text-anchor="end" fill="#555">month</text>'
    )
    legend_x = 6
    for k, (label, values) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        ok = np.isfinite(values)
        if ok.any():
            idx = np.flatnonzero(ok)
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px(idx), py(values[idx]), strict=True))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        if len(series) > 1:
            out.append(
                f'<rect x="{legend_x}" y="22" width="12" height="3" fill="{color}"/>'
                f'<text x="{legend_x + 15}" y="27" fill="#333">{label}</text>'
            )
            legend_x += 24 + 6 * len(label)
    out.append("</svg>")
    return "".join(out)


def charts_svg(model, width: int = 300, height: int = 170) -> list[str]:
    """Every chart of :data:`CHARTS` from the model's Mesa ``DataCollector``."""
    data = model.datacollector.model_vars
    months = getattr(model, "months", None) or len(data["coca_ha"])
    return [line_chart_svg(c, data, months, width, height) for c in CHARTS]


@dataclass(frozen=True)
class Line:
    """A coca series drawn on the big chart: an earlier run (faint) or the current one."""

    values: np.ndarray
    color: str
    tag: str = ""
    """Short label written at the line's end (``#2``)."""


def coca_chart_svg(
    current: np.ndarray,
    months: int,
    earlier: list[Line] = (),
    valleys: list[np.ndarray] = (),
    width: int = 520,
    height: int = 250,
) -> str:
    """The big coca chart: this run, earlier runs as faint tagged lines, and the 5-valley band.

    Args:
        current: This run's coca ha by month (row ``k`` is month ``k``).
        months: Length of the x axis (the scenario's ``months``); longer series are cut there.
        earlier: Earlier runs, drawn faint with their tag at the line's end.
        valleys: Coca by month of the "run 5 valleys" replicates of this run's settings: their
            lowest-to-highest band is shaded and each is drawn thin.
        width: Pixels.
        height: Pixels.

    """
    left, right, top, bottom = 52, 30, 34, 26
    pw, ph = width - left - right, height - top - bottom
    cut = months + 1
    everything = [np.asarray(current, float)[:cut]]
    everything += [np.asarray(e.values, float)[:cut] for e in earlier]
    everything += [np.asarray(v, float)[:cut] for v in valleys]
    finite = np.concatenate([v[np.isfinite(v)] for v in everything] + [np.zeros(1)])
    ticks = nice_ticks(float(finite.max()))
    y0, y1 = ticks[0], ticks[-1]

    def px(i) -> np.ndarray:
        return left + pw * np.asarray(i, float) / max(months, 1)

    def py(v) -> np.ndarray:
        return top + ph * (1.0 - (np.asarray(v, float) - y0) / (y1 - y0))

    def points(values: np.ndarray) -> str:
        idx = np.flatnonzero(np.isfinite(values))
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px(idx), py(values[idx]), strict=True))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img" '
        'aria-label="Coca in the valley" class="vraem-coca-svg">',
        '<text x="6" y="15" font-size="13" fill="#222"><tspan font-weight="bold">Coca in the valley'
        '</tspan><tspan fill="#666"> (ha, this valley; faint: earlier runs; band: 5 valleys)</tspan></text>',
    ]
    for t in ticks:
        y = float(py(t))
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#444">{_fmt(t)}</text>')
    for t in nice_ticks(months, n=6):
        if t > months:
            break
        x = float(px(t))
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + ph}" y2="{top + ph + 3}" stroke="#888"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 14}" text-anchor="middle" fill="#444">{t:g}</text>')
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#888"/>'
        f'<text x="{left + pw}" y="{height - 1}" text-anchor="end" fill="#555">month</text>'
    )
    for year in MARK_YEARS:
        month = 12 * year
        if month <= months:
            x = float(px(month))
            out.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" stroke="#999" '
                f'stroke-dasharray="3,3"/><text x="{x + 3:.1f}" y="{top + 10}" fill="#666">year {year}</text>'
            )
    band = [np.asarray(v, float)[:cut] for v in valleys]
    if band:
        n = min(len(v) for v in band)
        if n > 1:
            stack = np.vstack([v[:n] for v in band])
            lo, hi = stack.min(axis=0), stack.max(axis=0)
            idx = np.arange(n)
            upper = [f"{x:.1f},{y:.1f}" for x, y in zip(px(idx), py(hi), strict=True)]
            lower = [f"{x:.1f},{y:.1f}" for x, y in zip(px(idx[::-1]), py(lo[::-1]), strict=True)]
            out.append(
                f'<polygon class="vraem-band" points="{" ".join(upper + lower)}" fill="{COLORS[0]}" '
                'fill-opacity="0.15" stroke="none"/>'
            )
        for v in band:
            out.append(
                f'<polyline class="vraem-valley" points="{points(v)}" fill="none" stroke="{COLORS[0]}" '
                'stroke-opacity="0.45" stroke-width="0.8"/>'
            )
    for e in earlier:
        v = np.asarray(e.values, float)[:cut]
        out.append(
            f'<polyline class="vraem-earlier" points="{points(v)}" fill="none" stroke="{e.color}" '
            'stroke-opacity="0.5" stroke-width="1.5"/>'
        )
        if e.tag and len(v):
            out.append(
                f'<text x="{float(px(len(v) - 1)) + 3:.1f}" y="{float(py(v[-1])) + 4:.1f}" '
                f'fill="{e.color}" font-size="10">{e.tag}</text>'
            )
    cur = np.asarray(current, float)[:cut]
    out.append(
        f'<polyline class="vraem-current" points="{points(cur)}" fill="none" stroke="{COLORS[0]}" '
        'stroke-width="2.2"/>'
    )
    out.append("</svg>")
    return "".join(out)
