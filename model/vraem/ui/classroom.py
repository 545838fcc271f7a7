"""What the classroom app runs: a scenario file plus the students' slider settings.

Plain functions with no browser in sight, so that they can be unit-tested. The app
(:mod:`vraem.ui.app`) only draws widgets around them.

Where scenarios come from: the shipped ``scenarios/*.yaml``, and a lesson's own folders
(``vraem ui --scenarios DIR``, and ``./scenarios`` where ``vraem ui`` starts), passed to the app's
server process in the environment variable :data:`LESSON_ENV`. A lesson file named like a shipped
one is listed once if it is the unchanged copy ``vraem init`` made, else as ``name (lesson)``.

How sliders change a scenario (the app tells students the same, lever by lever):

* The picked file is the starting point: its parameters, its ``months`` and its policy timeline,
  exactly as ``vraem run`` would use them.
* A slider starts at the scenario's own value (for a lever, the value in force over most of the
  run). A slider left there changes nothing.
* A moved lever replaces that lever in the months where the scenario holds it at that value, and
  leaves the scenario's other phases alone: moving eradication under ``development_first`` changes
  its eradication phase (month 48 on), not its four years of development first. The development
  start month moves the start of the scenario's main budget; before it the valley keeps the
  budget the scenario had before that programme (none if it started at month 0). Interdiction
  effort multiplies the scenario's lab raids, airstrip destructions, forced landings and courier
  arrests in every phase. The replanting rate and export demand growth are uncertainties: they
  hold in every month. :func:`lever_notes` says in one line which phases each moved lever changes.
* "More settings" takes ``dotted.key=value`` items, the syntax of ``vraem run --set``, applied to
  the file before the sliders.

Everything goes through the scenario schema (:func:`vraem.scenario.validate_scenario`), so a bad
combination becomes one short line shown in the app (no list of allowed keys, no file paths; a
near-miss key gets a suggestion), never a crash: :class:`ClassroomModel` then runs the scenario
file as written and says so.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vraem.params import REFERENCE_HOUSEHOLDS, ModelParams
from vraem.policy import PolicyPhase
from vraem.scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    allowed_keys,
    apply_override,
    parse_set_options,
    read_yaml_mapping,
    resolve_scenario_path,
    split_dotted,
    validate_scenario,
)

CLASSROOM_HOUSEHOLDS = 1_500
"""Default households in the classroom valley: fast enough to watch, big enough to see patterns.

Valley-wide quantities (initial coca, export demand, policy capacities, budgets) scale with the
number of households (``params.REFERENCE_HOUSEHOLDS``), so the valley is a scaled-down copy.
"""

DEFAULT_SCENARIO = "status_quo"

LESSON_ENV = "VRAEM_UI_SCENARIOS"
"""Environment variable with a lesson's scenario folders (``os.pathsep``-separated), set by
``vraem ui`` for its server process."""

LESSON_SUFFIX = " (lesson)"
"""Added to a lesson file's name in the picker when a shipped scenario has the same name."""

INTERDICTION_LEVERS = (
    "lab_raids_per_month",
    "airstrip_destructions_per_month",
    "flight_interdictions_per_month",
    "courier_arrests_per_month",
)
"""Policy levers that the interdiction-effort slider multiplies."""

SOLES_PER_MILLION = 1.0e6
MONTHS_PER_YEAR = 12

READOUT_YEARS = (5, 10)
"""Years after the start that the readout holds (the class question asks about year 10)."""

SPREAD_VALLEYS = 5
"""Random valleys of "run 5 valleys": replicates 0-4, the seeds of ``vraem run --replicates 5``."""


@dataclass(frozen=True)
class UISettings:
    """What the students chose. ``None`` means "as the scenario says"."""

    scenario: str = DEFAULT_SCENARIO
    """A name from :func:`scenario_choices` (or a path)."""
    n_households: int = CLASSROOM_HOUSEHOLDS
    replicate: int = 0
    """Which random valley: the run's seed is the scenario's replicate seed, as in ``vraem run``."""
    p_replant: float | None = None
    eradication_ha_per_month: float | None = None
    development_million_soles_per_year: float | None = None
    development_start_month: int | None = None
    interdiction_factor: float = 1.0
    export_demand_growth_per_year: float | None = None
    extra: str = ""
    """``dotted.key=value`` items separated by ``;`` or new lines (as ``vraem run --set``)."""

    def with_scenario(self, scenario: str) -> UISettings:
        """Another scenario, every slider back at its value (households and replicate kept)."""
        return UISettings(scenario=scenario, n_households=self.n_households, replicate=self.replicate)

    def valleys(self) -> UISettings:
        """The same settings on replicate 0: the key of their "run 5 valleys" spread."""
        return replace(self, replicate=0)


@dataclass(frozen=True)
class LeverDefaults:
    """Slider positions that leave a scenario unchanged."""

    p_replant: float
    eradication_ha_per_month: float
    development_million_soles_per_year: float
    development_start_month: int
    export_demand_growth_per_year: float
    months: int


@dataclass
class Built:
    """A scenario ready to run, or the one-line reason it could not be built."""

    scenario: Scenario | None
    error: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    """The parameter overrides the sliders applied (for the panel)."""
    notes: dict[str, str] = field(default_factory=dict)
    """One line per moved slider: which phases of the scenario it changes (:func:`lever_notes`)."""


# ---------------------------------------------------------------------------------------------
# Scenario files


@dataclass(frozen=True)
class Choice:
    """An entry of the scenario picker."""

    name: str
    """What the picker shows (and :attr:`UISettings.scenario` holds)."""
    path: Path
    lesson: bool = False
    """From a lesson's folder rather than the shipped scenarios."""


def lesson_folders(value: str | None = None) -> list[Path]:
    """The lesson folders the app was started with (:data:`LESSON_ENV`), existing ones only."""
    text = os.environ.get(LESSON_ENV, "") if value is None else value
    return [Path(p) for p in text.split(os.pathsep) if p.strip() and Path(p).is_dir()]


def find_choices(folder: Path = SCENARIO_DIR, lessons: Sequence[Path] | None = None) -> list[Choice]:
    """The picker's entries: the lesson files first (sorted by name), then the shipped ones.

    A lesson file that is a byte-for-byte copy of a shipped one (``vraem init`` copies them all) is
    not listed twice; an edited one is listed as ``name (lesson)``.
    """
    shipped = {p.stem: p for p in folder.glob("*.yaml")}
    stems = sorted(shipped)
    if DEFAULT_SCENARIO in stems:
        stems.remove(DEFAULT_SCENARIO)
        stems.insert(0, DEFAULT_SCENARIO)
    out = [Choice(stem, shipped[stem]) for stem in stems]
    taken = set(shipped)
    lesson: list[Choice] = []
    for lesson_dir in lesson_folders() if lessons is None else lessons:
        if lesson_dir.resolve() == folder.resolve():
            continue
        for path in sorted(lesson_dir.glob("*.yaml")):
            if path.stem in shipped and _same_bytes(path, shipped[path.stem]):
                continue
            name = path.stem
            for candidate in (name, name + LESSON_SUFFIX, f"{name} ({lesson_dir.name})", str(path)):
                if candidate not in taken:
                    name = candidate
                    break
            taken.add(name)
            lesson.append(Choice(name, path, lesson=True))
    return lesson + out


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def scenario_choices(folder: Path = SCENARIO_DIR, lessons: Sequence[Path] | None = None) -> list[str]:
    """Names the picker lists: a lesson's files first, then the shipped ones, ``status_quo`` first."""
    return [c.name for c in find_choices(folder, lessons)]


def scenario_path(name: str) -> Path:
    """The file behind a picker name (lesson or shipped), else a shipped name or a path."""
    for choice in find_choices():
        if choice.name == name:
            return choice.path
    return resolve_scenario_path(name)


def _raw(name: str) -> tuple[dict[str, Any], str]:
    path = scenario_path(name)
    return read_yaml_mapping(path), str(path)


def parse_extra(text: str) -> dict[str, Any]:
    """Parse the "More settings" box: ``key=value`` items split by ``;`` or new lines."""
    items = [s.strip() for s in re.split(r"[;\n]", text or "") if s.strip()]
    try:
        return parse_set_options(items)
    except ScenarioError as exc:
        raise ScenarioError(str(exc).replace("--set ", "More settings: ", 1)) from None


# ---------------------------------------------------------------------------------------------
# Short errors for students


def _setting_names() -> dict[str, list[str]]:
    """Every parameter's dotted name (``farmer.p_replant``), by its last part (``p_replant``)."""
    out: dict[str, list[str]] = {}
    for group, group_field in ModelParams.model_fields.items():
        for name in group_field.annotation.model_fields:
            out.setdefault(name, []).append(f"{group}.{name}")
    return out


def suggest_key(key: str) -> str | None:
    """The key a near-miss ``key`` probably meant (``farmer.p_replnt`` -> ``farmer.p_replant``)."""
    parts = split_dotted(key)
    names = _setting_names()
    walked: list[str | int] = []
    for i, part in enumerate(parts):
        if isinstance(part, int):
            walked.append(part)
            continue
        allowed = allowed_keys(Scenario, tuple(walked))
        if part in allowed:
            walked.append(part)
            continue
        if i == len(parts) - 1 and part in names:  # a parameter under the wrong group, or none
            return names[part][0]
        candidates = allowed + (sorted(ModelParams.model_fields) if not walked else [])
        close = difflib.get_close_matches(part, candidates, n=1, cutoff=0.6)
        if close:
            return re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", close[0], key, count=1)
        close = difflib.get_close_matches(part, list(names), n=1, cutoff=0.75)
        return names[close[0]][0] if close else None
    return None


def check_key(key: str, source: str = "More settings") -> None:
    """Raise a one-line :class:`ScenarioError` if ``key`` names no setting, with a suggestion."""
    parts = split_dotted(key)
    walked: list[str | int] = []
    for part in parts:
        if not isinstance(part, int) and part not in allowed_keys(Scenario, tuple(walked)):
            guess = suggest_key(key)
            hint = f"; did you mean {guess}?" if guess else " (`vraem params` lists every parameter)"
            raise ScenarioError(f"{source}: {key}: unknown key {part!r}{hint}")
        walked.append(part)


ALLOWED_LIST = re.compile(r" \(allowed: [^)]*\)")


def short_error(message: str, path: str | Path | None, name: str, source: str | None = None) -> str:
    """One short line for the app: no allowed-key list, the file named by its picker name.

    Args:
        message: A :class:`ScenarioError` message (``<file>: <key> must be ...``).
        path: The scenario file, replaced by ``name`` (or by ``source`` for a problem the
            student's "More settings" or sliders caused).
        name: The scenario's name in the picker.
        source: What caused the problem, if not the file itself.

    """
    text = " ".join(str(message).split())
    if path is not None:
        for p in {str(path), str(Path(path).resolve())}:
            text = text.replace(f"{p}: ", f"{source or name}: ").replace(p, name)
    text = ALLOWED_LIST.sub("", text)
    if source:
        text = text.replace(f"{source}: parameters.", f"{source}: ")
    return text


# ---------------------------------------------------------------------------------------------
# Levers


def lever_months(scenario: Scenario, lever: str) -> np.ndarray:
    """The lever's value in each month of the run (0 where no phase is in force)."""
    months = scenario.months
    values = np.zeros(months)
    for phase in reversed(scenario.policy.phases):  # the first phase that covers a month wins
        end = months if phase.end_month is None else min(phase.end_month, months)
        if phase.start_month < end:
            values[phase.start_month : end] = float(getattr(phase, lever))
    return values


def _main_value(scenario: Scenario, lever: str) -> tuple[float, int]:
    """Return the lever's value in force over most months, and the first month it holds."""
    values = lever_months(scenario, lever)
    uniq, counts = np.unique(values, return_counts=True)
    main = float(uniq[np.argmax(counts)])
    return main, int(np.flatnonzero(values == main)[0])


def lever_defaults(scenario: Scenario) -> LeverDefaults:
    """Slider positions at which the scenario runs exactly as written."""
    phase_replant = [ph.p_replant for ph in scenario.policy.phases if ph.p_replant is not None]
    budget, start = _main_value(scenario, "development_budget_soles_per_year")
    eradication, _ = _main_value(scenario, "eradication_ha_per_month")
    return LeverDefaults(
        p_replant=phase_replant[-1] if phase_replant else scenario.parameters.farmer.p_replant,
        eradication_ha_per_month=eradication,
        development_million_soles_per_year=budget / SOLES_PER_MILLION,
        development_start_month=start if budget > 0 else 0,
        export_demand_growth_per_year=scenario.parameters.market.export_demand_growth_per_year,
        months=scenario.months,
    )


def moved(settings: UISettings, defaults: LeverDefaults) -> dict[str, Any]:
    """Return the sliders that differ from the scenario's values, by setting name."""
    out: dict[str, Any] = {}
    for name in (
        "p_replant",
        "eradication_ha_per_month",
        "development_million_soles_per_year",
        "development_start_month",
        "export_demand_growth_per_year",
    ):
        value = getattr(settings, name)
        if value is not None and not np.isclose(value, getattr(defaults, name)):
            out[name] = value
    if not np.isclose(settings.interdiction_factor, 1.0):
        out["interdiction_factor"] = settings.interdiction_factor
    return out


def moved_lever_months(
    scenario: Scenario, changes: dict[str, Any], defaults: LeverDefaults
) -> dict[str, np.ndarray]:
    """Eradication and development budget in each month once the moved sliders apply.

    A moved lever replaces its value in the months where the scenario holds the slider's starting
    value (its main value); other phases keep theirs. A moved development start month moves the
    start of the main budget: months before it get the budget the scenario had before its
    programme began (none if it began at month 0).
    """
    out: dict[str, np.ndarray] = {}
    erad = lever_months(scenario, "eradication_ha_per_month")
    if "eradication_ha_per_month" in changes:
        main = np.isclose(erad, defaults.eradication_ha_per_month)
        erad = np.where(main, float(changes["eradication_ha_per_month"]), erad)
    out["eradication_ha_per_month"] = erad
    dev = lever_months(scenario, "development_budget_soles_per_year")
    if {"development_million_soles_per_year", "development_start_month"} & changes.keys():
        budget = changes.get(
            "development_million_soles_per_year", defaults.development_million_soles_per_year
        )
        budget = float(budget) * SOLES_PER_MILLION
        first = defaults.development_start_month
        start = int(changes.get("development_start_month", first))
        before = float(dev[first - 1]) if 0 < first <= len(dev) else 0.0
        t = np.arange(len(dev))
        programme = np.isclose(dev, defaults.development_million_soles_per_year * SOLES_PER_MILLION)
        programme |= (t >= start) & (t < first)
        dev = np.where(programme, np.where(t >= start, budget, before), dev)
    out["development_budget_soles_per_year"] = dev
    return out


def rewrite_phases(
    phases: list[PolicyPhase], changes: dict[str, Any], defaults: LeverDefaults, scenario: Scenario
) -> list[dict[str, Any]]:
    """Rewrite the policy timeline with the moved levers applied (raw phases).

    The run is cut at every phase boundary and wherever a moved lever changes value; each piece
    keeps the scenario's levers in force there, then the moved sliders overwrite theirs.
    Neighbouring pieces that end up equal are merged again.
    """
    by_month = moved_lever_months(scenario, changes, defaults)
    cuts = {0}
    for ph in phases:
        cuts.add(ph.start_month)
        if ph.end_month is not None:
            cuts.add(ph.end_month)
    for values in by_month.values():
        cuts.update(int(m) for m in np.flatnonzero(np.diff(values)) + 1)
    cuts_sorted = sorted(cuts)
    pieces: list[dict[str, Any]] = []
    for i, start in enumerate(cuts_sorted):
        end = cuts_sorted[i + 1] if i + 1 < len(cuts_sorted) else None
        phase = _phase_at(phases, start)
        levers = phase.model_dump(mode="json", exclude={"start_month", "end_month"})
        if start < scenario.months:
            for name, values in by_month.items():
                levers[name] = float(values[start])
        if "interdiction_factor" in changes:
            for name in INTERDICTION_LEVERS:
                levers[name] = float(levers[name]) * float(changes["interdiction_factor"])
        if "p_replant" in changes:
            levers["p_replant"] = float(changes["p_replant"])
        if pieces and pieces[-1]["levers"] == levers:
            pieces[-1]["end_month"] = end
            continue
        pieces.append({"start_month": start, "end_month": end, "levers": levers})
    out = []
    for piece in pieces:
        row = {"start_month": piece["start_month"]}
        if piece["end_month"] is not None:
            row["end_month"] = piece["end_month"]
        row.update(piece["levers"])
        out.append(row)
    return out


def _phase_at(phases: list[PolicyPhase], month: int) -> PolicyPhase:
    for ph in phases:
        if ph.start_month <= month and (ph.end_month is None or month < ph.end_month):
            return ph
    return PolicyPhase()


def _ha(v: float) -> str:
    return f"{v:,.0f} ha/month"


def _soles(v: float) -> str:
    return f"S/{v / SOLES_PER_MILLION:,.0f} M/year"


LEVER_NAMES = {
    "eradication_ha_per_month": ("Eradication", _ha),
    "development_budget_soles_per_year": ("Development budget", _soles),
}


def _span(a: int, b: int, months: int) -> str:
    return f"months {a} to {b}" if b < months else f"month {a} on"


def lever_notes(scenario: Scenario, changes: dict[str, Any], defaults: LeverDefaults) -> dict[str, str]:
    """One line per moved slider: which of the scenario's phases it changes and which it keeps.

    Keyed by the slider's setting name (both development sliders share one line).
    """
    notes: dict[str, str] = {}
    phases = scenario.policy.phases
    n = len(phases)
    after = moved_lever_months(scenario, changes, defaults)
    for lever, (label, fmt) in LEVER_NAMES.items():
        before = lever_months(scenario, lever)
        if np.allclose(before, after[lever]):
            continue
        changed, kept = [], []
        for i, ph in enumerate(phases):
            a, b = ph.start_month, min(ph.end_month or scenario.months, scenario.months)
            if a >= b:
                continue
            if np.allclose(before[a:b], after[lever][a:b]):
                kept.append(f"phase {i + 1} ({_span(a, b, scenario.months)}) keeps {fmt(before[a])}")
            else:
                runs = [
                    f"{_span(int(s), int(e), scenario.months)}: {fmt(after[lever][s])}"
                    for s, e in _runs(after[lever], a, b)
                ]
                changed.append((i + 1, runs))
        if n <= 1 or not kept:
            where = "every month" if n <= 1 else f"all {n} phases"
            runs = "; ".join(
                f"{_span(int(s), int(e), scenario.months)}: {fmt(after[lever][s])}"
                for s, e in _runs(after[lever], 0, scenario.months)
            )
            text = f"{label} changes {where} ({runs})."
        else:
            which = ", ".join(str(i) for i, _ in changed)
            runs = "; ".join(r for _, rs in changed for r in rs)
            plural = "s" if len(changed) > 1 else ""
            text = f"{label} changes phase{plural} {which} of {n} ({runs}); {', '.join(kept)}."
        for key in (
            ["eradication_ha_per_month"]
            if lever == "eradication_ha_per_month"
            else ["development_million_soles_per_year", "development_start_month"]
        ):
            if key in changes:
                notes[key] = text
    if "interdiction_factor" in changes:
        where = "the scenario's only phase" if n <= 1 else f"all {n} phases"
        notes["interdiction_factor"] = (
            f"Interdiction x{changes['interdiction_factor']:g} multiplies the raids, airstrip "
            f"destructions, forced landings and courier arrests of {where}."
        )
    if "p_replant" in changes:
        notes["p_replant"] = f"Replanting rate {changes['p_replant']:.2f} holds in every month, every phase."
    if "export_demand_growth_per_year" in changes:
        notes["export_demand_growth_per_year"] = (
            f"Export demand grows {changes['export_demand_growth_per_year']:+.0%} a year in every month "
            "(a year-by-year path in the scenario file still wins for its years)."
        )
    return notes


def _runs(values: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
    """Stretches ``[s, e)`` of equal values within ``[a, b)``."""
    cuts = [a, *(int(m) + a + 1 for m in np.flatnonzero(np.diff(values[a:b]))), b]
    return list(itertools.pairwise(cuts))


def build_scenario(settings: UISettings) -> tuple[Built, LeverDefaults | None]:
    """Apply the settings to their scenario file and validate the result.

    Returns:
        The built scenario (or its one-line error) and the slider defaults of the scenario
        (those of the file alone if the extra settings are wrong; ``None`` when even the file
        cannot be used).

    """
    name = settings.scenario
    path: str | None = None
    try:
        raw, path = _raw(name)
        apply_override(raw, "farmer.n_households", int(settings.n_households), source="households:")
        file_only = validate_scenario(copy.deepcopy(raw), path)
    except ScenarioError as exc:
        return Built(None, short_error(str(exc), path, name)), None
    try:
        for key, value in parse_extra(settings.extra).items():
            check_key(key)
            apply_override(raw, key, value, source="More settings:")
        apply_override(raw, "farmer.n_households", int(settings.n_households), source="households:")
        base = validate_scenario(copy.deepcopy(raw), path)
    except ScenarioError as exc:
        return Built(None, short_error(str(exc), path, name, "More settings")), lever_defaults(file_only)
    if any(ph.observed_history for ph in base.policy.phases):
        # The state's record as explicit yearly phases (the same run), so that the sliders show its
        # amounts and can move them phase by phase; the file's own timeline runs when none moves.
        written = base.policy.materialized(base.start_year, base.parameters.mechanisms.state_retreat)
        base = base.model_copy(update={"policy": written})
    defaults = lever_defaults(base)
    changes = moved(settings, defaults)
    overrides: dict[str, Any] = {}
    try:
        if "p_replant" in changes:
            overrides["farmer.p_replant"] = changes["p_replant"]
        if "export_demand_growth_per_year" in changes:
            overrides["market.export_demand_growth_per_year"] = changes["export_demand_growth_per_year"]
        for key, value in overrides.items():
            apply_override(raw, key, value, source="slider")
        if changes.keys() - {"export_demand_growth_per_year"}:
            raw["policy"] = {"phases": rewrite_phases(base.policy.phases, changes, defaults, base)}
        scenario = validate_scenario(raw, path)
    except ScenarioError as exc:
        return Built(None, short_error(str(exc), path, name, "Sliders")), defaults
    return Built(scenario, None, overrides, lever_notes(base, changes, defaults)), defaults


def describe_timeline(scenario: Scenario) -> list[str]:
    """One line per policy phase, for students: when, and which levers are on."""
    lines = []
    for ph in scenario.policy.phases:
        end = "end" if ph.end_month is None else f"month {ph.end_month}"
        parts = []
        if ph.eradication_ha_per_month:
            ha = ph.eradication_ha_per_month
            parts.append(f"eradicate {ha:,.0f} ha/month ({ph.eradication_targeting})")
        if ph.development_budget_soles_per_year:
            parts.append(f"develop S/{ph.development_budget_soles_per_year / 1e6:,.0f} M/yr")
        raids = ph.lab_raids_per_month + ph.airstrip_destructions_per_month
        if raids or ph.flight_interdictions_per_month or ph.courier_arrests_per_month:
            parts.append(
                f"interdict ({ph.lab_raids_per_month:g} lab raids, "
                f"{ph.airstrip_destructions_per_month:g} strips, "
                f"{ph.flight_interdictions_per_month:g} flights, "
                f"{ph.courier_arrests_per_month:g} couriers /month)"
            )
        if ph.p_replant is not None:
            parts.append(f"replanting {ph.p_replant:.2f}")
        lines.append(f"month {ph.start_month} to {end}: " + ("; ".join(parts) or "no policy"))
    return lines or ["no policy at any time"]


def describe_settings(settings: UISettings, defaults: LeverDefaults | None) -> str:
    """A run's label for the chart of earlier runs: scenario, moved sliders, valley."""
    parts = [settings.scenario]
    changes = moved(settings, defaults) if defaults is not None else {}
    for key, value in changes.items():
        parts.append(SETTING_LABELS[key](value))
    if settings.extra.strip():
        parts.append(settings.extra.strip())
    if settings.n_households != CLASSROOM_HOUSEHOLDS:
        parts.append(f"{settings.n_households:,} households")
    parts.append(f"valley {settings.replicate}")
    return ", ".join(parts)


SETTING_LABELS: dict[str, Callable[[Any], str]] = {
    "p_replant": lambda v: f"replanting {v:.2f}",
    "eradication_ha_per_month": lambda v: f"eradication {v:,.0f} ha/month",
    "development_million_soles_per_year": lambda v: f"development S/{v:,.0f} M/year",
    "development_start_month": lambda v: f"development from month {v}",
    "interdiction_factor": lambda v: f"interdiction x{v:g}",
    "export_demand_growth_per_year": lambda v: f"export demand {v:+.0%}/year",
}
"""Short labels of moved sliders (whole-valley units)."""


# ---------------------------------------------------------------------------------------------
# What the students read: coca now, at years 5 and 10, and the change since the start


@dataclass(frozen=True)
class Readout:
    """Coca in a run: now, at :data:`READOUT_YEARS`, and the run's own start."""

    month: int
    start_ha: float
    now_ha: float
    at_year: dict[int, float | None]
    """Coca at the end of each readout year (month 12 x year), ``None`` until the run gets there."""

    def change(self, ha: float | None) -> float | None:
        """Relative change against the run's start (-0.25: a quarter less coca)."""
        if ha is None or self.start_ha <= 0:
            return None
        return ha / self.start_ha - 1.0


def readout(coca_ha: Sequence[float]) -> Readout:
    """The readout of a run's coca series (row ``k`` is month ``k``, row 0 the start)."""
    values = np.asarray(coca_ha, float)
    at = {
        y: float(values[y * MONTHS_PER_YEAR]) if len(values) > y * MONTHS_PER_YEAR else None
        for y in READOUT_YEARS
    }
    return Readout(len(values) - 1, float(values[0]), float(values[-1]), at)


@dataclass(frozen=True)
class Spread:
    """Coca over the "run 5 valleys" replicates at one month."""

    low: float
    median: float
    high: float


def spread_at(series: Sequence[Sequence[float]], month: int) -> Spread | None:
    """Lowest, median and highest coca at ``month`` over the valleys that reached it."""
    values = [float(s[month]) for s in series if len(s) > month]
    if not values:
        return None
    return Spread(min(values), float(np.median(values)), max(values))


def whole_valley(ha: float, n_households: int) -> float:
    """A classroom-valley quantity as the full valley's (the valley is a scaled-down copy)."""
    return ha * REFERENCE_HOUSEHOLDS / n_households


@dataclass
class ClassroomRun:
    """What the app knows about the model it is showing."""

    settings: UISettings
    scenario: Scenario
    defaults: LeverDefaults
    error: str | None
    coca_scale_ha: float
    """Coca ha per cell drawn at full colour (95th percentile of the opening map, fixed per run)."""
    legal_scale_ha: float
    notes: dict[str, str] = field(default_factory=dict)
    """One line per moved slider: the phases it changes."""
    as_written: bool = False
    """The settings could not be used and the picked file runs as written (else, after an error,
    the default scenario runs)."""


_MODEL_NAMES = ("ClassroomModel", "legal_ha_by_cell", "run_valleys")


def __getattr__(name: str) -> Any:
    """The names of :mod:`vraem.ui.valleys` (the model the app runs), imported on first use.

    Checking a file with this module's loader then does not load the simulation.
    """
    if name in _MODEL_NAMES:
        from vraem.ui import valleys

        return getattr(valleys, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
