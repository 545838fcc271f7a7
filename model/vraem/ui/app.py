"""The classroom app: Mesa's SolaraViz around the VRAEM model (``vraem ui``).

SolaraViz gives the page: the title bar, the Reset / play / Step controls with the play and render
intervals, Mesa's "Model Parameters" card (households, replicate) and the step counter; it owns
the model and rebuilds it on Reset. This module adds a sidebar card with the scenario picker and
the lever and uncertainty sliders, and the main view: the valley map with layer switches, the
live charts and a short guide for students. The model is built from the settings by
:class:`vraem.ui.classroom.ClassroomModel`; drawing is in :mod:`vraem.ui.render`.

Per-tab state (the settings, the layers shown) lives in Solara reactive variables, which Solara
keeps apart for every browser connection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html import escape

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.user_param import Slider
from mesa.visualization.utils import update_counter

from vraem.params import REFERENCE_HOUSEHOLDS
from vraem.ui.classroom import (
    CLASSROOM_HOUSEHOLDS,
    ClassroomModel,
    LeverDefaults,
    UISettings,
    build_scenario,
    describe_timeline,
    moved,
    scenario_choices,
)
from vraem.ui.render import LAYERS, LEGEND, charts_svg, map_png

TITLE = "VRAEM coca economy: classroom"
PLAY_INTERVAL_MS = 10
"""SolaraViz's pause between frames while playing; drawing a frame takes most of the rest."""

SETTINGS = solara.reactive(UISettings())
"""This tab's scenario and slider settings; the model reads them on Reset."""
SHOWN = solara.reactive(list(LAYERS))
"""Map layers switched on in this tab."""


def current_settings() -> UISettings:
    """Return this tab's settings without subscribing to them (SolaraViz calls it on Reset)."""
    return SETTINGS.peek()


MODEL_PARAMS = {
    "settings": current_settings,
    "n_households": Slider("Households", CLASSROOM_HOUSEHOLDS, 200, 3_000, 100),
    "replicate": Slider("Replicate (another random valley)", 0, 0, 19, 1),
}
"""Mesa's "Model Parameters" card: a fixed reader of the panel's settings and two sliders."""


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
    LeverSlider("eradication_ha_per_month", "Eradication capacity (ha/month, whole valley)", 0, 2_000, 50),
    LeverSlider("development_million_soles_per_year", "Development budget (million soles/year)", 0, 300, 5),
    LeverSlider("development_start_month", "Development starts in month", 0, 240, 6, integer=True),
    LeverSlider("interdiction_factor", "Interdiction effort (x the scenario's raids)", 0, 5, 0.25),
)
"""The state's choices."""

UNCERTAINTIES = (
    LeverSlider("p_replant", "Replanting rate (share of eradicated coca replanted)", 0, 1, 0.05),
    LeverSlider(
        "export_demand_growth_per_year", "Export demand growth after 2023 (per year)", -0.2, 0.4, 0.01
    ),
)
"""Facts about the valley that the sources do not pin down."""


def slider_value(settings: UISettings, defaults: LeverDefaults, name: str) -> float:
    """Return where a slider stands: the student's value, else the scenario's."""
    value = getattr(settings, name)
    if value is None:
        value = getattr(defaults, name, 1.0)
    return value


def pending_changes(model_settings: UISettings, panel: UISettings) -> bool:
    """Tell whether the panel differs from what the running model was built with."""
    keep = {"n_households": model_settings.n_households, "replicate": model_settings.replicate}
    return replace(panel, **keep) != model_settings


# ---------------------------------------------------------------------------------------------
# Sidebar


@solara.component
def ScenarioPanel(model: solara.Reactive[ClassroomModel]):
    """Scenario picker, lever and uncertainty sliders, free-form settings; errors in one line."""
    settings = SETTINGS.value
    built, defaults = solara.use_memo(lambda: build_scenario(settings), [settings])

    def set_field(name: str, integer: bool):
        def on_value(v) -> None:
            SETTINGS.set(replace(SETTINGS.peek(), **{name: int(v) if integer else float(v)}))

        return on_value

    with solara.Card("Scenario and sliders", classes=["vraem-scenario-card"]):
        solara.Select(
            "Scenario",
            values=scenario_choices(),
            value=settings.scenario,
            on_value=lambda v: SETTINGS.set(SETTINGS.peek().with_scenario(v)),
        )
        if defaults is not None:
            for group, sliders in (
                ("Levers: the state's choices", LEVERS),
                ("Uncertainties", UNCERTAINTIES),
            ):
                solara.Text(group, style={"font-weight": "bold", "margin-top": "8px"})
                for s in sliders:
                    value = slider_value(settings, defaults, s.name)
                    changed = s.name in moved(settings, defaults)
                    hi = defaults.months if s.name == "development_start_month" else s.max
                    cls = solara.SliderInt if s.integer else solara.SliderFloat
                    with solara.Column(gap="0px", classes=[f"vraem-slider-{s.name}"]):
                        solara.Text(
                            f"{s.label}: {value:g}" + (" (changed)" if changed else ""),
                            style={
                                "font-size": "13px",
                                "font-weight": "bold" if changed else "normal",
                            },
                        )
                        cls(
                            "",
                            value=int(value) if s.integer else float(value),
                            min=int(s.min) if s.integer else s.min,
                            max=int(hi) if s.integer else max(hi, float(value)),
                            step=s.step,
                            on_value=set_field(s.name, s.integer),
                            thumb_label=False,
                        )
        solara.InputText(
            "More settings: key=value; key=value",
            value=settings.extra,
            on_value=lambda v: SETTINGS.set(replace(SETTINGS.peek(), extra=v)),
            continuous_update=False,
            classes=["vraem-extra"],
        )
        solara.Text(
            "Any parameter, as in `vraem run --set`: e.g. farmer.share_never=0.5",
            style={"font-size": "12px", "color": "#666"},
        )
        with solara.Row():
            solara.Button(
                "Scenario's values",
                on_click=lambda: SETTINGS.set(SETTINGS.peek().with_scenario(SETTINGS.peek().scenario)),
                text=True,
                color="primary",
            )
        if built.error:
            solara.Error(built.error, classes=["vraem-settings-error"])
        elif pending_changes(model.value.classroom.settings, settings):
            solara.Info("Press Reset (under Controls) to run with these settings.", dense=True)


# ---------------------------------------------------------------------------------------------
# Main view


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
            style="font-weight:500;margin:0",
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
    """Draw the live charts from the model's Mesa DataCollector."""
    update_counter.get()
    cells = "".join(f'<div class="vraem-chart">{svg}</div>' for svg in charts_svg(model))
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
    if changes or extra:
        parts = [f"{k.replace('_', ' ')} = {v:g}" for k, v in changes.items()]
        if extra:
            parts.append(f"more settings: <code>{escape(extra)}</code>")
        yours = "Your changes to this scenario: " + "; ".join(parts) + "."
    else:
        yours = "No slider is moved: the scenario runs exactly as its file says."
    timeline = "".join(f"<li>{escape(line)}</li>" for line in describe_timeline(sc))
    n = sc.parameters.farmer.n_households
    return f"""
<h3>What you are looking at</h3>
<p><b>The map</b> is a generated valley shaped like the VRAEM: the Apurímac comes from the south,
meets the Mantaro from the west and becomes the Ene, flowing north. Each square is about 1.25 km
across. Magenta squares grow coca (the deeper, the more), yellow ones legal crops (food, cacao,
coffee); green is forest. Black squares are the clans' labs, white bars the airstrips of the drug
flights, blue discs the police and army units (they move to where they last worked). Thin dark
lines are district borders, one mayor each. Switch layers on and off under the map.</p>
<p><b>The charts</b> follow the valley month by month: coca hectares; what eradication destroyed
and how much farmers replanted; household income; the farm-gate price of coca leaf; confrontations
between security forces and communities; labs and airstrips at work. One step is one month;
&#9654; plays, Step advances one month, Reset starts again with the sliders' settings.</p>
<p><b>The scenario</b> <i>{escape(sc.name)}</i>: {escape(sc.description.strip())}</p>
<ul>{timeline}</ul>
<p><b>The sliders</b> start at the scenario's own values, and a slider left there changes
nothing. A moved lever replaces that lever for the whole run (the development budget from its
start month on, none before); interdiction effort multiplies the scenario's lab raids, airstrip
destructions, forced landings and courier arrests. Uncertainties are facts the sources do not pin
down. Press <b>Reset</b> to run with new settings. {yours}</p>
<p><b>This valley</b> has {n:,} households, a scaled-down copy of the real one (about
{REFERENCE_HOUSEHOLDS:,}): starting coca, export demand, eradication capacity and budgets shrink in
proportion, so hectares here are about {n / REFERENCE_HOUSEHOLDS:.1%} of the real valley's.</p>
"""


@solara.component
def Guide(model: ClassroomModel):
    """Show the text panel, and the settings error if the model had to fall back."""
    if model.classroom.error:
        solara.Error(
            f"Your settings could not be used: {model.classroom.error}. "
            "The valley runs the scenario file as written.",
            classes=["vraem-model-error"],
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=guide_html(model),
        classes=["vraem-guide"],
        style="max-width:1100px;font-size:14px;line-height:1.45",
    )


@solara.component
def MainView(model: solara.Reactive[ClassroomModel]):
    """Map and charts side by side (wrapping on narrow screens), the guide below."""
    m = model.value
    with solara.Column(style={"padding": "8px 16px"}):
        solara.Style(".vraem-map img { image-rendering: pixelated; width: 100%; }")
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start", "gap": "16px"}):
            with solara.Column(style={"flex": "1 1 460px", "max-width": "660px"}):
                ValleyMap(m)
            with solara.Column(style={"flex": "1 1 620px"}):
                Charts(m)
        Guide(m)


@solara.component
def Page():
    """Lay out the app: the scenario card first in the sidebar, SolaraViz, then the view."""
    first = solara.use_memo(lambda: ClassroomModel(current_settings), [])
    model = solara.use_reactive(first)
    with solara.Sidebar():
        ScenarioPanel(model)
    SolaraViz(
        model,
        components=[],
        model_params=MODEL_PARAMS,
        name=TITLE,
        play_interval=PLAY_INTERVAL_MS,
        render_interval=1,
    )
    MainView(model)
