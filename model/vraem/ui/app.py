"""The classroom app: a Solara page around the Mesa VRAEM model (``vraem ui``).

The page is built from Solara widgets around the model and its Mesa ``DataCollector``, redrawn
through Mesa's visualisation update counter (``mesa.visualization.utils``). It does not use
``SolaraViz``'s page any more: that page put its own controls (play and render intervals, "Use
Threads", a "Model Parameters" card, "Information: Time") below the scenario card, off a laptop
screen, and rebuilt the model only on Reset, so a student who picked a scenario and pressed ▶ ran
the previous one (issue 19). Here:

* every change in the sidebar applies at once: the valley starts again at month 0 with the new
  settings (after a short pause, so that dragging a slider does not rebuild it many times; ▶ or
  Step pressed within that pause apply the settings first), so no run can show one scenario
  while simulating another;
* Reset, ▶, Step, "Run 5 valleys" and the coca readout sit at the top of the page, the big coca
  chart right below them (all on a 1366x768 screen);
* a run that is replaced stays on the coca chart as a faint line, and in the table of runs with
  its settings, its coca at years 5 and 10 and its 5-valley spread, until "Clear earlier runs".

Per-tab state (settings, runs kept, layers shown) lives in Solara reactive variables, which Solara
keeps apart for every browser connection.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from html import escape

import numpy as np
import solara
from mesa.visualization.utils import force_update, update_counter

from vraem.params import REFERENCE_HOUSEHOLDS
from vraem.ui.classroom import (
    CLASSROOM_HOUSEHOLDS,
    MONTHS_PER_YEAR,
    READOUT_YEARS,
    SPREAD_VALLEYS,
    LeverDefaults,
    UISettings,
    build_scenario,
    describe_settings,
    describe_timeline,
    moved,
    readout,
    scenario_choices,
    spread_at,
    whole_valley,
)
from vraem.ui.render import (
    CHARTS,
    EARLIER_COLORS,
    LAYERS,
    LEGEND,
    Line,
    coca_chart_svg,
    line_chart_svg,
    map_png,
)
from vraem.ui.valleys import ClassroomModel, run_valleys

TITLE = "VRAEM coca economy: classroom"
PLAY_INTERVAL_MS = 10
"""Pause between months while playing; drawing a frame takes most of the rest."""
APPLY_DELAY_S = 0.3
"""How long the sidebar must stay still before the valley is rebuilt with its settings."""
MAX_EARLIER = len(EARLIER_COLORS)
"""Earlier runs kept on the coca chart (the oldest goes first)."""

SETTINGS = solara.reactive(UISettings())
"""This tab's scenario and slider settings; the valley is rebuilt with them when they change."""
SHOWN = solara.reactive(list(LAYERS))
"""Map layers switched on in this tab."""
PLAYING = solara.reactive(False)
"""Whether ▶ is playing."""
EARLIER = solara.reactive(())
"""Runs that were replaced, oldest first (:class:`Kept`)."""
SPREADS = solara.reactive({})
"""Coca by month of "Run 5 valleys", by the settings on replicate 0 (``UISettings.valleys()``)."""
VALLEYS_STATUS = solara.reactive("")
"""What "Run 5 valleys" is doing."""


def current_settings() -> UISettings:
    """Return this tab's settings without subscribing to them."""
    return SETTINGS.peek()


@dataclass(frozen=True)
class Kept:
    """A run kept after it was replaced: its settings, label, colour and coca by month."""

    settings: UISettings
    label: str
    color: str
    coca_ha: tuple[float, ...]


def kept_run(model: ClassroomModel, color: str) -> Kept:
    """The run shown now, as a :class:`Kept` entry (its label names what actually ran)."""
    run = model.classroom
    if run.error:
        label = f"{run.scenario.name} as written, valley {run.settings.replicate}"
    else:
        label = describe_settings(run.settings, run.defaults)
    return Kept(run.settings, label, color, tuple(model.datacollector.model_vars["coca_ha"]))


def keep(earlier: tuple[Kept, ...], model: ClassroomModel) -> tuple[Kept, ...]:
    """Add the model's run to the earlier runs (a longer run of the same settings replaces it)."""
    if model.month == 0:
        return earlier
    same = [k for k in earlier if k.settings == model.classroom.settings]
    if same and len(same[0].coca_ha) >= model.month + 1:
        return earlier
    rest = [k for k in earlier if k.settings != model.classroom.settings]
    used = {k.color for k in rest}
    color = same[0].color if same else next((c for c in EARLIER_COLORS if c not in used), EARLIER_COLORS[0])
    return (*rest, kept_run(model, color))[-MAX_EARLIER:]


# ---------------------------------------------------------------------------------------------
# Sidebar


@dataclass(frozen=True)
class LeverSlider:
    """A slider of the scenario card, bound to a :class:`UISettings` field."""

    name: str
    label: str
    min: float
    max: float
    step: float
    integer: bool = False


LEVERS = (
    LeverSlider("eradication_ha_per_month", "Eradication capacity, whole valley", 0, 2_000, 50),
    LeverSlider("development_million_soles_per_year", "Development budget, whole valley", 0, 300, 5),
    LeverSlider("development_start_month", "Development budget from month", 0, 240, 6, integer=True),
    LeverSlider("interdiction_factor", "Interdiction effort", 0, 5, 0.25),
)
"""The state's choices."""

UNCERTAINTIES = (
    LeverSlider("p_replant", "Replanting rate", 0, 1, 0.05),
    LeverSlider(
        "export_demand_growth_per_year", "Export demand growth after 2023 (per year)", -0.2, 0.4, 0.01
    ),
)
"""Facts about the valley that the sources do not pin down."""

VALLEY = (
    LeverSlider("n_households", "Households in this valley", 200, 3_000, 100, integer=True),
    LeverSlider("replicate", "Random valley (replicate)", 0, 19, 1, integer=True),
)
"""The classroom valley: its size and which random copy (the seed of replicate k of vraem run)."""


def slider_value(settings: UISettings, defaults: LeverDefaults, name: str) -> float:
    """Return where a slider stands: the student's value, else the scenario's."""
    value = getattr(settings, name)
    if value is None:
        value = getattr(defaults, name, 1.0)
    return value


def slider_text(name: str, value: float, settings: UISettings, start_year: int) -> str:
    """A slider's value in whole-valley units, with the classroom valley's value beside it."""
    share = settings.n_households / REFERENCE_HOUSEHOLDS
    if name == "eradication_ha_per_month":
        return f"{value:,.0f} ha/month (this valley: {value * share:,.0f})"
    if name == "development_million_soles_per_year":
        return f"S/{value:,.0f} M/year (this valley: S/{value * share:,.1f} M)"
    if name == "development_start_month":
        return f"{int(value)} ({start_year + int(value) // MONTHS_PER_YEAR})"
    if name == "interdiction_factor":
        return f"x{value:g} the scenario's raids"
    if name == "p_replant":
        return f"{value:.2f} of eradicated fields"
    if name == "export_demand_growth_per_year":
        return f"{value:+.0%} a year"
    if name == "n_households":
        return f"{int(value):,} ({share:.1%} of the real valley's {REFERENCE_HOUSEHOLDS:,})"
    return f"{int(value)}"


def settings_pending(model: ClassroomModel, settings: UISettings) -> bool:
    """Whether the panel's settings are not yet those of the valley on screen."""
    return model.classroom.settings != settings


def change_settings(new: UISettings) -> None:
    """Take new panel settings: stop playing at once; the valley is rebuilt with them shortly."""
    PLAYING.set(False)
    SETTINGS.set(new)


@solara.component
def Slider(s: LeverSlider, settings: UISettings, defaults: LeverDefaults, start_year: int, note: str):
    """One labelled slider: the label shows the value; a moved lever says what it changes."""
    if s.name in ("n_households", "replicate"):
        value = getattr(settings, s.name)
        changed = s.name == "n_households" and value != CLASSROOM_HOUSEHOLDS
    else:
        value = slider_value(settings, defaults, s.name)
        changed = s.name in moved(settings, defaults)
    hi = defaults.months if s.name == "development_start_month" else s.max

    def on_value(v) -> None:
        change_settings(replace(SETTINGS.peek(), **{s.name: int(v) if s.integer else float(v)}))

    with solara.Column(gap="0px", classes=[f"vraem-slider-{s.name}"]):
        solara.Text(
            f"{s.label}: {slider_text(s.name, value, settings, start_year)}"
            + (" (changed)" if changed else ""),
            style={"font-size": "13px", "font-weight": "bold" if changed else "normal"},
        )
        cls = solara.SliderInt if s.integer else solara.SliderFloat
        cls(
            "",
            value=int(value) if s.integer else float(value),
            min=int(s.min) if s.integer else s.min,
            max=int(hi) if s.integer else max(hi, float(value)),
            step=s.step,
            on_value=on_value,
            thumb_label=False,
        )
        if note:
            solara.Text(
                note, style={"font-size": "12px", "color": "#8a4b00"}, classes=[f"vraem-note-{s.name}"]
            )


@solara.component
def ScenarioPanel():
    """Scenario picker, valley, lever and uncertainty sliders, free-form settings; one-line errors."""
    settings = SETTINGS.value
    built, defaults = solara.use_memo(lambda: build_scenario(settings), [settings])
    choices = scenario_choices()
    if settings.scenario not in choices:
        choices = [settings.scenario, *choices]
    start_year = built.scenario.start_year if built.scenario is not None else 2013

    with solara.Card(classes=["vraem-scenario-card"], style={"padding": "4px 10px"}):
        solara.Select(
            "Scenario",
            values=choices,
            value=settings.scenario,
            on_value=lambda v: change_settings(SETTINGS.peek().with_scenario(v)),
        )
        if defaults is not None:
            for group, sliders in (
                ("This valley", VALLEY),
                ("Levers: the state's choices", LEVERS),
                ("Uncertainties", UNCERTAINTIES),
            ):
                solara.Text(group, style={"font-weight": "bold", "margin-top": "6px"})
                for s in sliders:
                    Slider(s, settings, defaults, start_year, built.notes.get(s.name, ""))
        solara.InputText(
            "More settings: key=value; key=value",
            value=settings.extra,
            on_value=lambda v: change_settings(replace(SETTINGS.peek(), extra=v)),
            continuous_update=False,
            classes=["vraem-extra"],
        )
        solara.Text(
            "Any parameter, as in `vraem run --set`: e.g. farmer.share_never=0.5",
            style={"font-size": "12px", "color": "#666"},
        )
        solara.Button(
            "Scenario's values",
            on_click=lambda: change_settings(SETTINGS.peek().with_scenario(SETTINGS.peek().scenario)),
            text=True,
            color="primary",
        )
        if built.error:
            solara.Error(built.error, classes=["vraem-settings-error"], dense=True)


# ---------------------------------------------------------------------------------------------
# Controls and readout


def _ha(v: float | None) -> str:
    return "not yet" if v is None else f"{v:,.0f} ha"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:+.0%}".replace("-", "\u2212")


@solara.component
def Controls(model: solara.Reactive[ClassroomModel]):
    """Reset, ▶/❚❚, Step, Run 5 valleys, Clear earlier runs; refuses to run stale settings."""
    m = model.value
    playing = PLAYING.value
    pending = settings_pending(m, SETTINGS.value)
    spreads = SPREADS.value
    status = VALLEYS_STATUS.value

    async def play() -> None:
        # On the page's own event loop, between its messages: a click on ❚❚ or a new setting is
        # handled between two months, never during one.
        while PLAYING.peek():
            current = model.peek()
            if settings_pending(current, SETTINGS.peek()) or not current.running:
                PLAYING.set(False)
                break
            current.step()
            force_update()
            await asyncio.sleep(PLAY_INTERVAL_MS / 1000)

    solara.lab.use_task(play, dependencies=[playing], prefer_threaded=False)

    def rebuild(only_if_pending: bool) -> None:
        """Start the valley again with the panel's settings (keeping the run on screen)."""
        if only_if_pending and not settings_pending(model.peek(), SETTINGS.peek()):
            return
        PLAYING.set(False)
        EARLIER.set(keep(EARLIER.peek(), model.peek()))
        model.set(ClassroomModel(SETTINGS.peek()))

    def toggle() -> None:
        if PLAYING.peek():
            PLAYING.set(False)
            return
        rebuild(only_if_pending=True)  # settings still pending apply now, never the old run
        if model.peek().running:
            PLAYING.set(True)

    def step() -> None:
        rebuild(only_if_pending=True)
        current = model.peek()
        if PLAYING.peek() or not current.running:
            return
        current.step()
        force_update()

    def valleys() -> None:
        settings = model.peek().classroom.settings
        key = settings.valleys()
        if key in SPREADS.peek():
            return

        def progress(k: int) -> bool:
            VALLEYS_STATUS.set(f"running valley {k + 1} of {SPREAD_VALLEYS}...")
            return True

        try:
            series = run_valleys(settings, progress=progress)
            SPREADS.set({**SPREADS.peek(), key: series})
        finally:
            VALLEYS_STATUS.set("")

    valleys_task = solara.lab.use_task(valleys, dependencies=None, prefer_threaded=True)

    def clear() -> None:
        EARLIER.set(())
        key = model.peek().classroom.settings.valleys()
        SPREADS.set({k: v for k, v in SPREADS.peek().items() if k == key})

    have_spread = m.classroom.settings.valleys() in spreads
    with solara.Row(
        gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}, classes=["vraem-controls"]
    ):
        solara.Button("Reset", color="primary", on_click=lambda: rebuild(only_if_pending=False))
        solara.Button(
            "❚❚" if playing else "▶",
            color="primary",
            on_click=toggle,
            disabled=not playing and not pending and not m.running,
        )
        solara.Button(
            "Step", color="primary", on_click=step, disabled=playing or (not pending and not m.running)
        )
        solara.Button(
            f"Run {SPREAD_VALLEYS} valleys",
            color="primary",
            outlined=True,
            on_click=valleys_task,
            disabled=bool(status) or have_spread,
            classes=["vraem-run-valleys"],
        )
        solara.Button(
            "Clear earlier runs",
            text=True,
            on_click=clear,
            disabled=not EARLIER.value,
            classes=["vraem-clear"],
        )
        if pending:
            solara.Text("Applying your settings...", classes=["vraem-pending"], style={"color": "#8a4b00"})
        elif status:
            solara.Text(status, classes=["vraem-valleys-status"], style={"color": "#555"})
        elif not m.running:
            solara.Text(
                f"The run ended at month {m.month} (the scenario's months).",
                style={"color": "#555"},
                classes=["vraem-ended"],
            )
    if m.classroom.error:
        where = "the scenario file as written" if m.classroom.as_written else m.classroom.scenario.name
        solara.Error(
            f"Your settings could not be used: {end_sentence(m.classroom.error)} The valley runs {where}.",
            classes=["vraem-model-error"],
            dense=True,
        )


def end_sentence(text: str) -> str:
    """``text`` ending in a full stop (or its own question mark)."""
    return text if text.endswith((".", "?", "!")) else text + "."


def readout_html(model: ClassroomModel, spreads: dict) -> str:
    """The readout: coca now, at years 5 and 10, the change since the start, the 5-valley spread."""
    run = model.classroom
    sc = run.scenario
    coca = model.datacollector.model_vars["coca_ha"]
    r = readout(coca)
    n = sc.parameters.farmer.n_households
    valleys = spreads.get(run.settings.valleys())
    head = (
        f"<b>Running: <span class='vraem-running'>{escape(sc.name)}</span></b>, valley "
        f"{run.settings.replicate}; month {r.month} of {model.months} ({sc.start_year + r.month // 12})"
    )
    cols = [("now", "vraem-now", r.month, r.now_ha)]
    for y in READOUT_YEARS:
        month = y * MONTHS_PER_YEAR
        if month <= model.months:
            cols.append((f"year {y} ({sc.start_year + y})", f"vraem-year{y}", month, r.at_year[y]))
    th = "".join(f"<th>{label}</th>" for label, *_ in cols)
    this = "".join(
        f"<td class='{cls}'><b>{_ha(v)}</b> <span class='vraem-change'>{_pct(r.change(v))}</span></td>"
        for _, cls, _, v in cols
    )
    whole = "".join(f"<td>{'' if v is None else f'{whole_valley(v, n):,.0f} ha'}</td>" for _, _, _, v in cols)
    if valleys is None:
        spread = f"<td colspan='{len(cols)}'>press <i>Run {SPREAD_VALLEYS} valleys</i></td>"
    else:
        cells = []
        for _, cls, month, _v in cols:
            s = spread_at(valleys, month)
            cells.append(
                "<td></td>"
                if s is None or cls == "vraem-now"
                else f"<td class='{cls}-spread'>{s.low:,.0f} to {s.high:,.0f} ha "
                f"(median {s.median:,.0f}; {_pct(r.change(s.low))} to {_pct(r.change(s.high))})</td>"
            )
        spread = "".join(cells)
    return (
        f"<div style='font-size:13px;margin:2px 0'>{head}. Start: {r.start_ha:,.0f} ha; changes are "
        "against this start.</div>"
        "<table class='vraem-readout-table'>"
        f"<tr><th></th>{th}</tr>"
        f"<tr><td>coca, this valley</td>{this}</tr>"
        f"<tr class='vraem-spread'><td>{SPREAD_VALLEYS} valleys (replicates 0-{SPREAD_VALLEYS - 1})</td>"
        f"{spread}</tr>"
        f"<tr style='color:#666'><td>whole valley, about</td>{whole}</tr>"
        "</table>"
    )


READOUT_CSS = """
.vraem-readout-table { border-collapse: collapse; font-size: 13px; }
.vraem-readout-table th, .vraem-readout-table td { padding: 1px 10px 1px 0; text-align: left; }
.vraem-readout-table th { font-weight: 500; color: #444; }
.vraem-runs-table { border-collapse: collapse; font-size: 12px; }
.vraem-runs-table td, .vraem-runs-table th { padding: 1px 8px 1px 0; text-align: left; }
.vraem-map img { image-rendering: pixelated; width: 100%; }
"""


@solara.component
def Readout(model: ClassroomModel):
    """The live readout under the controls."""
    update_counter.get()
    return solara.HTML(
        tag="div", unsafe_innerHTML=readout_html(model, SPREADS.value), classes=["vraem-readout"]
    )


def earlier_lines(model: ClassroomModel, earlier: tuple[Kept, ...]) -> list[Line]:
    """The earlier runs drawn on the coca chart (not one with the settings on screen)."""
    now = model.classroom.settings
    return [
        Line(np.asarray(k.coca_ha, float), k.color, f"#{i + 1}")
        for i, k in enumerate(earlier)
        if k.settings != now
    ]


def runs_html(model: ClassroomModel, earlier: tuple[Kept, ...], spreads: dict) -> str:
    """The table of runs under the coca chart: this one and the earlier ones, to compare."""
    y = READOUT_YEARS[-1]
    month = y * MONTHS_PER_YEAR

    def row(tag: str, color: str, label: str, coca, settings: UISettings, cls: str) -> str:
        r = readout(coca)
        v = r.at_year[y]
        s = spread_at(spreads.get(settings.valleys(), []), month)
        spread = "" if s is None else f"{s.low:,.0f} to {s.high:,.0f} ha"
        return (
            f"<tr class='{cls}'><td><span style='display:inline-block;width:14px;height:3px;"
            f"background:{color};vertical-align:middle'></span> {tag}</td><td>{escape(label)}</td>"
            f"<td>{_ha(v)} {_pct(r.change(v))}</td><td>{spread}</td></tr>"
        )

    now = model.classroom.settings
    rows = [
        row(
            "this run",
            "#c8106e",
            kept_run(model, "").label,
            model.datacollector.model_vars["coca_ha"],
            now,
            "vraem-run-current",
        )
    ]
    rows += [
        row(f"#{i + 1}", k.color, k.label, k.coca_ha, k.settings, "vraem-run-earlier")
        for i, k in enumerate(earlier)
        if k.settings != now
    ]
    return (
        "<table class='vraem-runs-table'><tr><th>run</th><th>settings</th>"
        f"<th>coca at year {y} (change)</th><th>{SPREAD_VALLEYS} valleys at year {y}</th></tr>"
        + "".join(rows)
        + "</table>"
    )


@solara.component
def CocaChart(model: ClassroomModel):
    """The big coca chart with earlier runs and the 5-valley band, and the table of runs."""
    update_counter.get()
    earlier = EARLIER.value
    spreads = SPREADS.value
    coca = np.asarray(model.datacollector.model_vars["coca_ha"], float)
    svg = coca_chart_svg(
        coca,
        model.months,
        earlier_lines(model, earlier),
        spreads.get(model.classroom.settings.valleys(), []),
    )
    with solara.Column(gap="2px", classes=["vraem-coca"]):
        solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["vraem-coca-chart"])
        solara.HTML(tag="div", unsafe_innerHTML=runs_html(model, earlier, spreads), classes=["vraem-runs"])


# ---------------------------------------------------------------------------------------------
# Map, other charts, guide


@solara.component
def ValleyMap(model: ClassroomModel):
    """Draw the map with its layer switches and legend."""
    update_counter.get()
    shown = SHOWN.value
    run = model.classroom
    year = run.scenario.start_year + model.month / 12.0
    with solara.Column(gap="4px", classes=["vraem-map"]) as col:
        solara.HTML(
            tag="h3",
            unsafe_innerHTML=f"The valley in month {model.month} (year {year:.1f})",
            classes=["vraem-map-title"],
            style="font-weight:500;margin:0;font-size:15px",
        )
        solara.Image(map_png(model, frozenset(shown)), width="100%", classes=["vraem-map-image"])
        with solara.Row(style={"flex-wrap": "wrap", "gap": "0 14px"}, classes=["vraem-layers"]):
            for layer in LAYERS:
                sw = LEGEND[layer]
                radius = "50%" if sw.shape == "circle" else "1px"
                height = "6px" if sw.shape == "strip" else "12px"
                with solara.Row(gap="4px", style={"align-items": "center"}):
                    solara.HTML(
                        tag="span",
                        unsafe_innerHTML="",
                        style=(
                            f"display:inline-block;width:14px;height:{height};background:{sw.color};"
                            f"border:1px solid #333;border-radius:{radius}"
                        ),
                    )

                    def toggle(on: bool, layer=layer) -> None:
                        now = set(SHOWN.peek())
                        now = now | {layer} if on else now - {layer}
                        SHOWN.set([x for x in LAYERS if x in now])

                    solara.v.Checkbox(
                        label=sw.label,
                        v_model=layer in shown,
                        on_v_model=toggle,
                        dense=True,
                        hide_details=True,
                        class_=f"ma-0 pa-0 vraem-layer-{layer}",
                    )
        solara.Text(
            f"Coca and legal crops at full colour from {run.coca_scale_ha:.1f} and "
            f"{run.legal_scale_ha:.1f} ha per cell (the opening map's top 5%); "
            "blue lines rivers, brown lines roads.",
            style={"font-size": "12px", "color": "#555"},
        )
    return col


@solara.component
def Charts(model: ClassroomModel):
    """Draw the other live charts from the model's Mesa DataCollector."""
    update_counter.get()
    data = model.datacollector.model_vars
    cells = "".join(
        f'<div class="vraem-chart">{line_chart_svg(c, data, model.months)}</div>' for c in CHARTS[1:]
    )
    return solara.HTML(
        tag="div",
        unsafe_innerHTML=cells,
        style="display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:6px",
        classes=["vraem-charts"],
    )


def guide_html(model: ClassroomModel) -> str:
    """Write the student guide for the running model (HTML; tested without a browser)."""
    run = model.classroom
    sc = run.scenario
    changes = moved(run.settings, run.defaults)
    extra = run.settings.extra.strip()
    if run.error:
        yours = "Your settings could not be used, so none of them is applied (see the red line above)."
    elif changes or extra:
        parts = [f"{k.replace('_', ' ')} = {v:g}" for k, v in changes.items()]
        if extra:
            parts.append(f"more settings: <code>{escape(extra)}</code>")
        yours = "Your changes to this scenario: " + "; ".join(parts) + "."
        notes = list(dict.fromkeys(run.notes.values()))
        if notes:
            yours += " " + " ".join(escape(n) for n in notes)
    else:
        yours = "No slider is moved: the scenario runs exactly as its file says."
    timeline = "".join(f"<li>{escape(line)}</li>" for line in describe_timeline(sc))
    n = sc.parameters.farmer.n_households
    return f"""
<h3>What you are looking at</h3>
<p><b>The scenario</b> <i>{escape(sc.name)}</i> ({sc.months} months from {sc.start_year}):
{escape(sc.description.strip())}</p>
<ul>{timeline}</ul>
<p><b>The numbers at the top</b> read the coca chart for you: coca now, after 5 and after 10
years, and the change against this run's own start. <b>Run {SPREAD_VALLEYS} valleys</b> runs the
same settings in {SPREAD_VALLEYS} random valleys (the replicates of <code>vraem run</code>) and shows
how far apart they end: a difference between two policies smaller than that spread may be luck.
When you change anything, the run you had stays on the coca chart as a faint numbered line and in
the table under it, until <b>Clear earlier runs</b>.</p>
<p><b>The map</b> is a generated valley shaped like the VRAEM: the Apurímac comes from the south,
meets the Mantaro from the west and becomes the Ene, flowing north. Each square is about 1.25 km
across. Magenta squares grow coca (the deeper, the more), yellow ones legal crops (food, cacao,
coffee); green is forest. Black squares are the clans' labs, white bars the airstrips of the drug
flights, blue discs the police and army units (they move to where they last worked). Thin dark
lines are district borders, one mayor each. Switch layers on and off under the map.</p>
<p><b>The charts</b> follow the valley month by month: coca hectares; what eradication destroyed
and how much farmers replanted; household income; the farm-gate price of coca leaf; confrontations
between security forces and communities; labs and airstrips at work. One step is one month;
&#9654; plays, Step advances one month, Reset starts the same settings again.</p>
<p><b>The sliders</b> start at the scenario's own values, and a slider left there changes nothing.
Every change applies at once: the valley starts again at month 0. A moved lever replaces that
lever where the scenario uses it at the slider's starting value and keeps the scenario's other
phases; the line under the slider says which phases it changes. Interdiction effort multiplies the
scenario's lab raids, airstrip destructions, forced landings and courier arrests. Uncertainties
are facts the sources do not pin down. {yours}</p>
<p><b>This valley</b> has {n:,} households, a scaled-down copy of the real one (about
{REFERENCE_HOUSEHOLDS:,}): starting coca, export demand, eradication capacity and budgets shrink in
proportion, so hectares here are about {n / REFERENCE_HOUSEHOLDS:.1%} of the real valley's. The
sliders speak of the whole valley (800 ha/month of eradication there is
{800 * n / REFERENCE_HOUSEHOLDS:,.0f} ha/month here); the charts and the table show this valley.</p>
"""


@solara.component
def Guide(model: ClassroomModel):
    """Show the text panel."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=guide_html(model),
        classes=["vraem-guide"],
        style="max-width:1100px;font-size:14px;line-height:1.45",
    )


# ---------------------------------------------------------------------------------------------
# The page


@solara.component
def Page():
    """Lay out the app: settings in the sidebar; controls, readout, coca chart and map on top."""
    first = solara.use_memo(lambda: ClassroomModel(current_settings), [])
    model = solara.use_reactive(first)
    settings = SETTINGS.value

    async def apply() -> None:
        """Rebuild the valley with the panel's settings once they stop changing."""
        if not settings_pending(model.peek(), settings):
            return
        await asyncio.sleep(APPLY_DELAY_S)
        if SETTINGS.peek() != settings or not settings_pending(model.peek(), settings):
            return  # a newer change follows (its own task applies it), or ▶/Step/Reset applied it
        PLAYING.set(False)
        EARLIER.set(keep(EARLIER.peek(), model.peek()))
        model.set(ClassroomModel(settings))

    solara.lab.use_task(apply, dependencies=[settings], prefer_threaded=False)

    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        ScenarioPanel()
    m = model.value
    with solara.Column(style={"padding": "4px 12px"}, gap="6px"):
        solara.Style(READOUT_CSS)
        Controls(model)
        Readout(m)
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start", "gap": "12px"}):
            with solara.Column(style={"flex": "0 1 520px"}):
                CocaChart(m)
            with solara.Column(style={"flex": "1 1 320px", "max-width": "520px"}):
                ValleyMap(m)
        Charts(m)
        Guide(m)
