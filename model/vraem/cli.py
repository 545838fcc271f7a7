"""The ``vraem`` command line: run, validate, sweep, compare, report, params, ui, scenarios, init.

Errors a user can make (a bad key or value, a missing or corrupt file, a malformed ``--set``, a
bad option value) print one line naming the file or option, the key and what is allowed, and exit
with status 2; never a traceback. One mechanism does it for every command, so a new command gets
it for free:

- A command raises one of the exception classes listed in :data:`USER_ERRORS` (``ScenarioError``,
  ``ResultsError`` ... each carries a one-line message for people); :class:`OneLineErrors`, the
  app's click group, prints ``error: <message>`` and exits 2. Commands need no ``try`` of their
  own for these. A new module with its own error class adds ``"module:ClassName"`` to
  :data:`USER_ERRORS` (classes are looked up only in modules already imported, so the list costs
  no import time).
- Click's usage errors (a bad option value such as ``--replicates 0`` or ``--months abc``, a
  missing argument, an unknown option) become one line too, ``error: --months: 'abc' is not a
  valid integer (see vraem run --help)``, instead of Typer's multi-line panels; exit 2.
- :func:`fail` stops a command with a one-line message of its own.

Anything else is a bug in vraem, and keeps its traceback so that it can be reported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from vraem.policy import MAX_MONTHS
from vraem.scenario import ScenarioError, load_scenario, parse_set_options, resolve_scenario_path

EXIT_USAGE = 2

# Options shared by the commands that run on Dask (sweep, sensitivity, calibrate).
Workers = Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).", min=1)]
Scheduler = Annotated[str | None, typer.Option(help="Use a running Dask cluster instead: tcp://HOST:PORT.")]
Restart = Annotated[bool, typer.Option(help="Discard earlier results in --out and start again (no resume).")]

USER_ERRORS: list[str] = [
    "vraem.scenario:ScenarioError",  # and its subclass vraem.sweep.experiment:ExperimentError
    "vraem.results:ResultsError",
    "vraem.compare:CompareError",
    "vraem.report:ReportError",
    "vraem.sweep.engine:SweepError",
    "vraem.ui.assets:AssetsError",
    "vraem.ui.server:PortInUseError",
    "vraem.ui.server:LessonFolderError",
]
"""``module:Class`` of every exception whose message is one line for people (exit 2, no traceback)."""

err = Console(stderr=True)

# Click's exception classes, wherever this Typer takes them from (Typer >= 0.22 vendors Click as
# ``typer._click``; older ones use ``click``): the module that defines ``typer.BadParameter``.
_click_errors = sys.modules[typer.BadParameter.__module__]
UsageError = _click_errors.UsageError
MissingParameter = _click_errors.MissingParameter
NoArgsIsHelpError = getattr(_click_errors, "NoArgsIsHelpError", ())


def user_error_classes() -> tuple[type[BaseException], ...]:
    """The classes of :data:`USER_ERRORS` whose modules are imported (only those can have raised)."""
    out = []
    for spec in USER_ERRORS:
        module, _, name = spec.partition(":")
        if module in sys.modules:
            out.append(getattr(sys.modules[module], name))
    return tuple(out)


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of blanks folded into single spaces."""
    return " ".join(str(text).split())


def print_error(message: str) -> None:
    """Print ``error: <message>`` as one line on stderr."""
    # escape: a message quotes user input, whose brackets must not be read as rich markup.
    err.print(f"[bold red]error:[/] {escape(one_line(message))}", highlight=False, soft_wrap=True)


def usage_line(exc: Exception) -> str:
    """One line for a click usage error: the option or argument, what is wrong, where to look."""
    ctx = exc.ctx
    where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    if isinstance(exc, typer.BadParameter) and not isinstance(exc, MissingParameter):
        param = exc.param
        if param is not None and getattr(param, "param_type_name", "") == "option":
            hint = "/".join(param.opts)
        elif param is not None:
            hint = (param.human_readable_name or param.name or "").upper()
        else:
            hint = exc.param_hint if isinstance(exc.param_hint, str) else ""
        message = _coercion_message(exc) or one_line(exc.message).rstrip(".")
        return f"{hint}: {message}{where}" if hint else f"{message}{where}"
    return f"{one_line(exc.format_message()).rstrip('.')}{where}"


def _coercion_message(exc: Exception) -> str | None:
    """What is allowed and what was given, from the pydantic error behind a Typer option value."""
    from pydantic import ValidationError

    from vraem.scenario import BOUNDS
    from vraem.user_input import clip, echo

    cause = exc.__cause__
    if not isinstance(cause, ValidationError):
        return None
    first = cause.errors(include_url=False)[0]
    got = first.get("input")
    if first["type"] in BOUNDS:
        symbol, key = BOUNDS[first["type"]]
        return f"must be {symbol} {first['ctx'][key]} (got {clip(str(got))})"
    msg = first["msg"]
    return f"{msg[:1].lower()}{msg[1:]} (got {echo(got)})"


class OneLineErrors(TyperGroup):
    """The app's click group: usage errors and :data:`USER_ERRORS` become one line and exit 2."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line like click's standalone mode, printing errors as one line."""
        if not standalone_mode:  # a caller that handles click's exceptions itself
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # plain `vraem`: the help, not an error
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        except UsageError as exc:
            print_error(usage_line(exc))
            sys.exit(EXIT_USAGE)
        except typer.Abort:
            print_error("aborted")
            sys.exit(1)
        except Exception as exc:
            if not isinstance(exc, user_error_classes()):
                raise
            print_error(str(exc))
            sys.exit(EXIT_USAGE)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="vraem: simulate coca policy in Peru's VRAEM valley.",
)
console = Console()


def fail(message: str) -> None:
    """Print one line to stderr and exit with status 2."""
    print_error(message)
    raise typer.Exit(EXIT_USAGE)


def _load(paths: list[str], sets: list[str] | None, months: int | None):
    overrides = parse_set_options(sets or [])
    if months is not None:
        if not 1 <= months <= MAX_MONTHS:
            raise ScenarioError(f"--months must be >= 1 and <= {MAX_MONTHS} (got {months})")
        overrides["months"] = months
    out = []
    for p in paths:
        path = resolve_scenario_path(p)
        sc = load_scenario(path, overrides)
        out.append((sc, path.read_text(encoding="utf-8"), str(path)))
    return out


@app.command()
def run(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario YAML files (or shipped names).")],
    replicates: Annotated[
        int | None, typer.Option(help="Replicates per scenario (default: the file's).", min=1)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Base seed (default: the file's).", min=0)] = None,
    months: Annotated[int | None, typer.Option(help="Months to simulate (default: the file's).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a value: dotted.key=VALUE (e.g. farmer.p_replant=0.3). Repeatable."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/run"),
    plot: Annotated[bool, typer.Option(help="Also write coca_ha.png.")] = True,
) -> None:
    """Run one or more scenarios and write results.parquet, maps.npz, manifest.json."""
    try:
        loaded = _load(scenarios, set_, months)
    except ScenarioError as exc:
        fail(str(exc))
    from vraem.runner import run_scenarios, summarise  # after the files are checked: a refusal stays small

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--out {out}: cannot create the folder ({exc.strerror})")

    def progress(done: int, total: int, label: str) -> None:
        console.print(f"  run {done}/{total}: {label}", highlight=False)

    try:
        table = run_scenarios(loaded, out, replicates=replicates, seed=seed, progress=progress)
    except ScenarioError as exc:  # posterior draws that do not fit --replicates
        fail(str(exc))
    summary = summarise(table)
    t = Table(title="coca ha: start and end (mean, 5-95% across replicates)")
    for col in ("scenario", "replicates", "months", "start", "end mean", "end 5%", "end 95%"):
        t.add_column(col, justify="right" if col != "scenario" else "left")
    for r in summary.itertuples():
        t.add_row(
            r.scenario,
            str(r.replicates),
            str(r.months),
            f"{r.coca_ha_start:,.0f}",
            f"{r.coca_ha_end_mean:,.0f}",
            f"{r.coca_ha_end_p5:,.0f}",
            f"{r.coca_ha_end_p95:,.0f}",
        )
    console.print(t)
    if plot:
        from vraem.report.figures import fig_headline
        from vraem.report.view import ReportView
        from vraem.results import load_results

        # The report's headline figure, drawn from the saved results (not the in-memory table).
        figure = fig_headline(ReportView(load_results(out)), out, formats=("png",))
        png = figure.files[0].replace(out / "coca_ha.png")
        console.print(f"plot: {png}")
    console.print(f"results: {out / 'results.parquet'}  manifest: {out / 'manifest.json'}")


@app.command()
def validate(
    files: Annotated[
        list[str], typer.Argument(help="Scenario or experiment YAML files (or shipped scenario names).")
    ],
) -> None:
    """Check scenario and experiment files without running them (experiments: every point)."""
    bad = 0
    for f in files:
        try:
            console.print(_check_file(f), highlight=False, soft_wrap=True)
        except ScenarioError as exc:
            print_error(str(exc))
            bad += 1
    if bad:
        raise typer.Exit(EXIT_USAGE)


def _check_file(name_or_path: str) -> str:
    """Validate one scenario or experiment file (an experiment lists ``scenarios``); a summary line."""
    from vraem.scenario import read_yaml_mapping

    path = resolve_scenario_path(name_or_path)
    raw = read_yaml_mapping(path)
    if "scenarios" in raw and "kind" in raw:
        from vraem.sensitivity.design import load_sensitivity

        design = load_sensitivity(path)
        runs = design.experiment.n_runs
        return (
            f"ok: {path} (sensitivity experiment {design.spec.name}, {design.spec.kind}: "
            f"{design.problem['num_vars']} parameter(s), {len(design.sample)} point(s), {runs} runs)"
        )
    if "scenarios" in raw and "parameters" not in raw and "policy" not in raw:
        from vraem.sweep import load_experiment

        loaded = load_experiment(path)
        return (
            f"ok: {path} (experiment {loaded.spec.name}: {len(loaded.scenarios)} scenario(s) x "
            f"{len(loaded.points)} point(s) x {loaded.spec.replicates} replicate(s) = {loaded.n_runs} runs)"
        )
    sc = load_scenario(path)
    if sc.name != path.stem:
        err.print(
            f"warning: {path}: name {sc.name!r} differs from the file name {path.stem!r} (the app lists "
            f"the file as {path.stem!r}, results and reports call it {sc.name!r}); use the same for both",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    return f"ok: {path} ({sc.name}: {sc.months} months, {len(sc.policy.phases)} policy phases)"


def _one_cluster(workers: int | None, scheduler: str | None) -> None:
    """Refuse --workers with --scheduler (a scheduler brings its own workers)."""
    if workers and scheduler:
        fail("--workers and --scheduler exclude each other (a scheduler has its own workers)")


@app.command()
def scenarios() -> None:
    """List the shipped scenarios and experiments, by the names the other commands take."""
    from vraem.scenario import load_scenario
    from vraem.shipped import shipped_folder, shipped_names

    for kind in ("scenarios", "experiments"):
        t = Table(title=f"shipped {kind} ({shipped_folder(kind)})")
        t.add_column("name")
        t.add_column("description", overflow="fold")
        for name in shipped_names(kind):
            path = shipped_folder(kind) / f"{name}.yaml"
            if kind == "scenarios":
                try:
                    text = load_scenario(path).description
                except ScenarioError as exc:
                    text = f"(does not load: {exc})"
            else:
                text = _first_comment_or_description(path)
            t.add_row(name, " ".join(text.split()))
        console.print(t)


def _first_comment_or_description(path: Path) -> str:
    """An experiment's ``description``, or its first comment line, for listings."""
    from vraem.scenario import read_yaml_mapping

    try:
        data = read_yaml_mapping(path)
    except ScenarioError:
        return "(unreadable)"
    if isinstance(data, dict) and isinstance(data.get("description"), str):
        return data["description"]
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ")
    return ""


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to create (or fill) with editable copies.")],
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist there.")] = False,
) -> None:
    """Copy the shipped scenarios and experiments into FOLDER, to edit and run as files."""
    from vraem.shipped import copy_shipped

    if folder.exists() and not folder.is_dir():
        fail(f"{folder}: exists and is not a folder")
    try:
        written = copy_shipped(folder, overwrite=force)
    except OSError as exc:
        fail(f"{folder}: cannot write there ({exc.strerror})")
    kept = sum(1 for kind in ("scenarios", "experiments") for _ in (folder / kind).glob("*.yaml")) - len(
        written
    )
    console.print(f"wrote {len(written)} file(s) under {folder}", highlight=False)
    if kept:
        console.print(f"kept {kept} existing file(s) (use --force to overwrite)", highlight=False)
    console.print(f"next: vraem run {folder / 'scenarios' / 'status_quo.yaml'} --months 24", highlight=False)


@app.command()
def params() -> None:
    """List every parameter with its default, unit, source and plausible range."""
    from vraem.params import parameter_table

    def span(row: dict) -> str:
        if row["plausible"] is None:
            return "fixed"
        return " to ".join(f"{x:,.6g}" for x in row["plausible"])

    t = Table(title="vraem parameters")
    for col in ("parameter", "default", "unit", "source", "plausible range", "range source"):
        t.add_column(col, overflow="fold")
    for row in parameter_table():
        why = row["plausible_source"] if row["plausible"] is not None else f"fixed: {row['fixed']}"
        t.add_row(row["parameter"], str(row["value"]), row["unit"], row["source"], span(row), why)
    # Piped (not a terminal): as wide as COLUMNS says at the call, else 160 columns.
    width = os.environ.get("COLUMNS", "")
    (console if console.is_terminal else Console(width=int(width) if width.isdigit() else 160)).print(t)


@app.command()
def sweep(
    experiment: Annotated[str, typer.Argument(help="Experiment YAML file (or a shipped name).")],
    out: Annotated[
        Path | None, typer.Option(help="Sweep folder (default: results/<experiment name>).")
    ] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a value in every scenario: dotted.key=VALUE."),
    ] = None,
    max_in_flight: Annotated[
        int | None, typer.Option(help="Tasks submitted at a time (default: 2 x threads).", min=1)
    ] = None,
    restart: Restart = False,
) -> None:
    """Run an experiment (scenarios x parameter points x replicates) on Dask; rerun to resume."""
    import os
    import signal

    from vraem.sweep.experiment import ExperimentError, load_experiment, shadowed_parameters

    _one_cluster(workers, scheduler)
    try:
        loaded = load_experiment(experiment, parse_set_options(set_ or []))
    except ScenarioError as exc:
        fail(str(exc))
    # Dask and the simulation only once the files are checked: a refusal stays small.
    from vraem.sweep.engine import SweepError, run_sweep
    from vraem.sweep.progress import terminal_progress

    for warning in shadowed_parameters(loaded):
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    out = out or Path("results") / loaded.spec.name
    where = scheduler or f"a local cluster of {workers or os.cpu_count()} worker process(es)"
    sizes = f"{len(loaded.scenarios)} scenario(s) x {len(loaded.points)} point(s)"
    console.print(
        f"sweep {loaded.spec.name}: {sizes} x {loaded.spec.replicates} replicate(s) "
        f"= {loaded.n_runs} runs on {where} -> {out}",
        highlight=False,
    )

    def note(text: str) -> None:
        err.print(text, highlight=False, soft_wrap=True)

    # SLURM and PBS send SIGTERM before killing a job: stop as on Ctrl-C, keeping finished runs.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        s = run_sweep(
            loaded,
            out,
            workers=workers,
            scheduler=scheduler,
            max_in_flight=max_in_flight,
            restart=restart,
            progress=terminal_progress(console),
            note=note,
        )
    except (ExperimentError, SweepError) as exc:
        fail(str(exc))
    for run_id, error in s.failures[:5]:
        err.print(f"[red]failed:[/] {escape(f'{run_id}: {error}')}", highlight=False, soft_wrap=True)
    console.print(
        f"{s.done}/{s.total} runs done ({s.ran} this time, {s.skipped} before), {s.failed} failed, "
        f"{s.seconds:,.1f} s; peak memory of this process {s.peak_rss_mb:,.0f} MB",
        highlight=False,
    )
    if s.failed:
        console.print(
            f"errors are in {out / 'runs.jsonl'}; run the same command again to retry them",
            highlight=False,
        )
    if s.interrupted:
        console.print("interrupted: run the same command again to resume", highlight=False)
        raise typer.Exit(130)
    if s.failed:
        raise typer.Exit(1)
    console.print(f"results: {out}", highlight=False)


# ---------------------------------------------------------------------------------------------
# vraem calibrate (issue 10)


@app.command("validate-history")
def validate_history(
    patterns: Annotated[
        Path | None,
        typer.Argument(help="Pattern YAML (default: vraem/data/patterns.yaml).", metavar="PATTERNS"),
    ] = None,
    variants: Annotated[
        str | None, typer.Option(help="Comma-separated variant names (default: all in the variant file).")
    ] = None,
    variants_file: Annotated[
        Path | None, typer.Option(help="Variant YAML (default: the shipped vraem/data/variants.yaml).")
    ] = None,
    draws: Annotated[
        int, typer.Option(min=1, max=1_000, help="Posterior draws per variant (draw k runs with seed k).")
    ] = 5,
    households: Annotated[
        int, typer.Option(min=100, max=200_000, help="Households of the simulated valley (results scaled).")
    ] = 2_000,
    posterior: Annotated[
        str,
        typer.Option(
            help="Posterior of parameter draws for every variant ('none': the defaults, varying only "
            "the seed). The default uses a variant's own vraem/data/posteriors/<variant>.parquet when "
            "it has one."
        ),
    ] = "posterior.parquet",
    out: Annotated[Path, typer.Option(help="Output folder (patterns.csv, corroboration.html).")] = Path(
        "results/history"
    ),
    ship: Annotated[
        bool,
        typer.Option(
            help="Also write the variants' stacking weights, with their scores and these settings, to "
            "vraem/data/variant_weights.csv (what make run weighs the variants by)."
        ),
    ] = False,
    origin: Annotated[
        int | None,
        typer.Option(
            help="A rolling origin: score each variant's status quo, drawn from its posterior fitted up "
            "to this year (<variant>-to<ORIGIN>.parquet), on the surveys up to the next origin; writes "
            "scores_to<ORIGIN>.csv beside the 2019 origin's output. Default: the 2019 origin."
        ),
    ] = None,
    posteriors_dir: Annotated[
        Path | None,
        typer.Option(
            "--posteriors",
            help="Folder of per-variant posteriors (<variant>.parquet, <variant>-to<ORIGIN>.parquet, or "
            "vraem calibrate's <variant>-to<ORIGIN>/ folders). Default: the shipped vraem/data/posteriors.",
        ),
    ] = None,
) -> None:
    """Run every documented pattern of the valley's history under each model variant; pass or fail."""
    from vraem.observed import CALIBRATION_YEARS, VALIDATION_YEARS, load_observed

    if posteriors_dir is not None and not posteriors_dir.is_dir():
        fail(f"--posteriors {posteriors_dir}: no such folder (expected a folder of per-variant posteriors)")
    if origin is not None:
        allowed = [
            int(y) for y in load_observed()["year"] if CALIBRATION_YEARS[0] < y <= CALIBRATION_YEARS[1]
        ]
        if origin not in allowed:
            fail(
                f"--origin {origin}: must be a survey year after {CALIBRATION_YEARS[0]} up to the last "
                f"calibration year {CALIBRATION_YEARS[1]} (allowed: {', '.join(map(str, allowed))})"
            )
        if origin == CALIBRATION_YEARS[1]:
            origin = None  # the 2019 origin is the default run
    if origin is not None and ship:
        fail("--ship: only without --origin (the shipped stacking weights come from the 2019 origin)")
    if origin is not None and posterior != "posterior.parquet":
        fail(
            f"--posterior {posterior}: not with --origin (each variant draws from its own posterior "
            "fitted up to the origin, <variant>-to<ORIGIN>.parquet; see --posteriors)"
        )

    from vraem.patterns import (
        corroboration_html,
        evaluate,
        load_patterns,
        load_variants,
        posterior_label,
        read_history,
        read_origins,
        ship_weights,
        variant_posterior,
        write_history_record,
    )
    from vraem.patterns import number as fmt
    from vraem.posterior import PosteriorError, draw_parameters, read_posterior, resolve_posterior_path
    from vraem.runner import provenance
    from vraem.scoring import leave_future_out

    loaded = load_patterns(patterns)
    every = load_variants(variants_file)
    if variants:
        names = [v.strip() for v in variants.split(",") if v.strip()]
        unknown = [v for v in names if v not in every]
        if unknown:
            fail(f"--variants: unknown variant {unknown[0][:40]!r} (allowed: {', '.join(every)})")
        every = {v: every[v] for v in names}
    if origin is not None:
        _score_origin(origin, every, draws, households, posteriors_dir, out)
        return
    sets: dict[str, list[dict[str, float]]] = {}
    posteriors: dict[str, dict] = {}
    if posterior == "none":
        sets = {v: [{} for _ in range(draws)] for v in every}
        posteriors = {v: {"file": "", "own": False, "label": posterior_label(None, False)} for v in every}
        note = f"{draws} seeds at the default parameters"
    else:
        shared = resolve_posterior_path(posterior, Path.cwd())
        for v in every:
            # Only the default lets a variant use its own posterior; a given --posterior is for all.
            path, own = (
                variant_posterior(v, shared, posteriors_dir)
                if posterior == "posterior.parquet"
                else (shared, False)
            )
            try:
                sets[v] = draw_parameters(read_posterior(path), draws, seed=2013)
            except PosteriorError as exc:
                fail(f"--posterior {path}: {exc}")
            posteriors[v] = {"file": str(path), "own": own, "label": posterior_label(path, own)}
        files = sorted({d["label"] for d in posteriors.values()})
        note = f"{draws} draws of each variant's posterior (draw k with seed k; {'; '.join(files)})"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--out {out}: cannot create the folder ({exc.strerror})")
    scores, runs = evaluate(loaded, every, sets, households, lambda t: err.print(t, highlight=False))
    scores.to_csv(out / "patterns.csv", index=False)
    status_quo = {v: r["status_quo"] for v, r in runs.items() if "status_quo" in r}
    forecast, weights, _stacked = leave_future_out(status_quo) if status_quo else (None, {}, {})
    if forecast is not None:
        weighted = forecast.assign(stacking_weight=forecast["forecast"].map(weights))
        weighted.to_csv(out / "scores.csv", index=False)
    labels = {v: d["label"] for v, d in posteriors.items()}
    note = f"{note}, {households:,} households"
    (out / "corroboration.html").write_text(
        corroboration_html(scores, loaded, every, note, forecast, weights, labels, read_origins(out)),
        encoding="utf-8",
    )
    made = provenance()
    write_history_record(
        out,
        {
            "note": note,
            "draws": draws,
            "households": households,
            "patterns_file": str(patterns) if patterns else "vraem/data/patterns.yaml",
            "variants": {v: var.model_dump() for v, var in every.items()},
            "posteriors": posteriors,
            "weights": weights,
            "validation_years": f"{VALIDATION_YEARS[0]}-{VALIDATION_YEARS[1]}",
            **{k: made[k] for k in ("created", "git_commit", "vraem_version", "command")},
        },
    )
    table = Table(title=f"Documented patterns: model median [90% interval] per variant ({note})")
    table.add_column("pattern")
    table.add_column("observed", justify="right")
    table.add_column("accept", justify="right")
    for v in every:
        table.add_column(v, justify="right")
    by = {(r.pattern, r.variant): r for r in scores.itertuples()}
    for p in loaded:
        cells = []
        for v in every:
            r = by[(p.name, v)]
            mark = "[green]pass[/]" if r.passes else "[red]fail[/]"
            cells.append(f"{fmt(r.median)} [{fmt(r.q05)}, {fmt(r.q95)}] {mark}")
        table.add_row(p.name, fmt(p.observed), f"{fmt(p.accept[0])} to {fmt(p.accept[1])}", *cells)
    passed = scores.groupby("variant")["passes"].sum()
    table.add_row("passed", "", "", *[f"{int(passed[v])} / {len(loaded)}" for v in every])
    Console(width=max(160, 40 + 30 * len(every))).print(table)
    if forecast is not None and not forecast.empty:
        _print_scores(
            "Leave-future-out scores of the 2020-2024 surveys (status quo; lower CRPS: better)",
            forecast,
            weights,
        )
    _print_pooled(out)
    console.print(f"sources: {out / 'patterns.csv'}  page: {out / 'corroboration.html'}", highlight=False)
    if ship:
        history = read_history(out)
        assert history is not None  # just written
        console.print(f"stacking weights shipped: {ship_weights(history)}", highlight=False)


def _print_scores(title: str, forecast, weights: dict[str, float]) -> None:
    from vraem.patterns import FORECAST_COLUMNS
    from vraem.patterns import number as fmt

    lfo = Table(title=title)
    lfo.add_column("forecast")
    lfo.add_column("stacking weight", justify="right")
    for label in FORECAST_COLUMNS.values():
        lfo.add_column(label, justify="right")
    for r in forecast.itertuples():
        weight = weights.get(r.forecast)
        cells = [fmt(getattr(r, c)) for c in FORECAST_COLUMNS]
        lfo.add_row(r.forecast, "" if weight is None else f"{weight:.2f}", *cells)
    Console(width=160).print(lfo)


def _print_pooled(out: Path) -> None:
    """The skill pooled over the rolling origins scored in ``out`` (and the 2019 one), if any."""
    import pandas as pd

    from vraem.observed import CALIBRATION_YEARS
    from vraem.patterns import number as fmt
    from vraem.patterns import pooled_skill, read_origins

    tables = {o.origin: o.forecast for o in read_origins(out) if not o.forecast.empty}
    if not tables:
        return
    if (out / "scores.csv").is_file():
        tables[CALIBRATION_YEARS[1]] = pd.read_csv(out / "scores.csv")
    pooled = pooled_skill(tables)
    if pooled.empty or len(tables) < 2:  # one origin: nothing to pool
        return
    table = Table(title="CRPS skill pooled over the origins (vs persistence / vs trend; origins scored)")
    table.add_column("forecast")
    for o in sorted(tables):
        table.add_column(f"from {o}", justify="right")
    for c in ("mean vs persistence", "mean vs trend", "origins"):
        table.add_column(c, justify="right")
    for r in pooled.to_dict("records"):
        cells = [
            f"{fmt(r.get(f'skill_vs_persistence_{o}'))} / {fmt(r.get(f'skill_vs_trend_{o}'))}"
            for o in sorted(tables)
        ]
        table.add_row(
            r["forecast"],
            *cells,
            fmt(r["mean_skill_vs_persistence"]),
            fmt(r["mean_skill_vs_trend"]),
            str(int(r["origins"])),
        )
    Console(width=160).print(table)


def _score_origin(
    origin: int, variants: dict, draws: int, households: int, folder: Path | None, out: Path
) -> None:
    """validate-history --origin: each calibrated variant's status quo scored from a rolling origin."""
    from vraem.observed import month_of_year
    from vraem.patterns import (
        NOT_CALIBRATED_FOR_ORIGIN,
        corroboration_page,
        origin_posterior,
        origins_body,
        read_history,
        read_origins,
        run_scenarios,
        write_origin,
    )
    from vraem.posterior import PosteriorError, draw_parameters, read_posterior
    from vraem.runner import provenance
    from vraem.scoring import leave_future_out, scored_years

    years = scored_years(origin)
    sets: dict[str, list[dict[str, float]]] = {}
    labels: dict[str, dict] = {}
    missing = []
    for v in variants:
        path = origin_posterior(v, origin, folder)
        if path is None:
            missing.append(v)
            continue
        try:
            sets[v] = draw_parameters(read_posterior(path), draws, seed=2013)
        except PosteriorError as exc:
            fail(f"{path}: {exc}")
        shown = path.name if path.name != "posterior.parquet" else f"{path.parent.name}/{path.name}"
        labels[v] = {"file": str(path), "own": True, "label": shown}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--out {out}: cannot create the folder ({exc.strerror})")
    scenario = load_scenario("status_quo")
    months = month_of_year(years[-1], scenario.start_year) + 1
    runs = {}
    for v, own in sets.items():
        err.print(
            f"variant {v} from {origin}: mechanisms {variants[v].mechanisms or 'none'}", highlight=False
        )
        runs[v] = run_scenarios(
            {"status_quo": months},
            variants[v].mechanisms,
            own,
            households,
            lambda t: err.print(t, highlight=False),
        )["status_quo"]
    forecast, weights, _stacked = leave_future_out(runs, origin=origin, years=years)
    weighted = forecast.assign(stacking_weight=forecast["forecast"].map(weights))
    made = provenance()
    note = (
        f"{draws} draws of each variant's posterior fitted up to {origin} (draw k with seed k), "
        f"{households:,} households"
    )
    written = write_origin(
        out,
        origin,
        weighted,
        {
            "origin": origin,
            "years": years,
            "note": note,
            "draws": draws,
            "households": households,
            "posteriors": labels,
            "not_calibrated": missing,
            "weights": weights,
            "variants": {v: var.model_dump() for v, var in variants.items()},
            **{k: made[k] for k in ("created", "git_commit", "vraem_version", "command")},
        },
    )
    history = read_history(out)
    if history is not None:
        body = history.body()
    else:  # no 2019 origin's patterns here: the origins' sections alone (with its scores if any)
        import pandas as pd

        main = pd.read_csv(out / "scores.csv") if (out / "scores.csv").is_file() else None
        body = origins_body(read_origins(out), main)
    (out / "corroboration.html").write_text(corroboration_page(body), encoding="utf-8")
    scored = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    _print_scores(
        f"Scores of the {scored} surveys from the {origin} origin (status quo; lower CRPS: better)",
        forecast,
        weights,
    )
    if missing:
        console.print(
            f"{NOT_CALIBRATED_FOR_ORIGIN} {origin} (no {_origin_file_hint(origin)}; left out of the scores "
            f"and the stacking): {', '.join(missing)}",
            highlight=False,
        )
    _print_pooled(out)
    console.print(f"scores: {written}  page: {out / 'corroboration.html'}", highlight=False)


def _origin_file_hint(origin: int) -> str:
    """How the posterior of a variant fitted up to ``origin`` is named, for a message."""
    from vraem.patterns import origin_name

    return f"{origin_name('<variant>', origin)}.parquet"


@app.command()
def calibrate(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="Calibration YAML (default: the shipped vraem/data/calibration.yaml).", metavar="CONFIG"
        ),
    ] = None,
    variant: Annotated[
        str | None,
        typer.Option(help="Model variant of vraem/data/variants.yaml (replaces the config's), or 'all'."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder (with 'all': one subfolder per variant).")] = Path(
        "results/calibration"
    ),
    workers: Workers = None,
    scheduler: Scheduler = None,
    ship: Annotated[
        bool,
        typer.Option(help="Also copy each posterior and manifest to vraem/data/posteriors/<variant>.*"),
    ] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue the run in --out's abc.db with the config's generations more.")
    ] = False,
    finish: Annotated[
        bool,
        typer.Option(
            help="Sample nothing more: write the posterior and diagnostics of the run stored in --out's "
            "abc.db (its last full generation), e.g. after an interruption."
        ),
    ] = False,
    origin: Annotated[
        int | None,
        typer.Option(
            help="A rolling origin: fit only up to this survey year (the config cut there), into "
            "OUT/<variant>-to<ORIGIN>/, shipped as vraem/data/posteriors/<variant>-to<ORIGIN>.*"
        ),
    ] = None,
) -> None:
    """Fit the status quo by ABC-SMC (pyabc) to the patterns of 2013-2019, per model variant."""
    import json

    from vraem.calibration import CalibrationError, load_config, run_calibration
    from vraem.calibration import ship as ship_posterior
    from vraem.patterns import origin_name
    from vraem.sweep import SweepError

    _one_cluster(workers, scheduler)
    every = variant == "all"
    cuts: dict[str, dict[str, list[str]]] = {}
    try:
        if every:
            from vraem.patterns import load_variants

            configs = [(name, load_config(config, name)) for name in load_variants()]
        else:
            cfg = load_config(config, variant)
            configs = [(cfg.label(), cfg)]
        if origin is not None:  # every variant cut alike; refused before anything runs
            cut_configs = []
            for name, cfg in configs:
                cut_cfg, cuts[origin_name(name, origin)] = cfg.at_origin(origin)
                cut_configs.append((origin_name(name, origin), cut_cfg))
            configs = cut_configs
    except CalibrationError as exc:
        fail(str(exc))
    for name, cfg in configs:
        folder = out / name if every or origin is not None else out
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"--out {folder}: cannot create the folder ({exc.strerror})")
        if origin is not None:
            cut = cuts[name]
            console.print(
                f"origin {origin}: fitted up to {origin} (fit_end_year); dropped: "
                f"{', '.join(cut['dropped']) or 'nothing'}; "
                f"cut at {origin}-12: {', '.join(cut['clipped']) or 'nothing'}",
                highlight=False,
            )
            (folder / "origin.json").write_text(
                json.dumps({"origin": origin, **cut}, indent=1), encoding="utf-8"
            )
        console.print(
            f"calibrate {cfg.scenario} ({name}): {len(cfg.parameters)} parameters, population "
            f"{cfg.population_size}, up to {cfg.generations} generations, {cfg.max_total_simulations} "
            f"simulations or {cfg.max_minutes:g} min -> {folder}",
            highlight=False,
        )
        try:
            manifest = run_calibration(
                cfg,
                folder,
                workers=workers,
                scheduler=scheduler,
                config_path=str(config) if config else None,
                resume=resume,
                finish=finish,
                note=lambda t: console.print(t, highlight=False),
            )
        except (SweepError, CalibrationError) as exc:
            fail(str(exc))
        for row in manifest["posterior_summary"]:
            console.print(
                f"  {row['parameter']}: mean {row['mean']:.4g}, "
                f"90% interval {row['q05']:.4g} to {row['q95']:.4g}",
                highlight=False,
            )
        if ship:
            from vraem.calibration import package_data_dir

            shipped = ship_posterior(folder, package_data_dir(), variant=name)
            console.print(f"shipped: {shipped}", highlight=False)
        console.print(
            f"posterior: {folder / 'posterior.parquet'} (ESS {manifest['effective_sample_size']:.0f}, "
            f"{'converged' if manifest['converged'] else 'NOT converged'}; {manifest['seconds']:.0f} s)",
            highlight=False,
        )


@app.command()
def sensitivity(
    experiment: Annotated[
        str, typer.Argument(help="Sensitivity experiment YAML (kind: morris or sobol), or a shipped name.")
    ],
    out: Annotated[Path | None, typer.Option(help="Folder (default: results/<experiment name>).")] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    restart: Restart = False,
) -> None:
    """Global sensitivity analysis (SALib Morris or Sobol') on the sweep engine; rerun to resume."""
    import os
    import signal

    from vraem.sensitivity import AnalysisError, load_sensitivity, run_sensitivity
    from vraem.sweep import ExperimentError, SweepError
    from vraem.sweep.progress import terminal_progress

    _one_cluster(workers, scheduler)
    try:
        design = load_sensitivity(experiment)
    except ScenarioError as exc:
        fail(str(exc))
    spec, loaded = design.spec, design.experiment
    out = out or Path("results") / spec.name
    where = scheduler or f"a local cluster of {workers or os.cpu_count()} worker process(es)"
    console.print(
        f"sensitivity {spec.name}: {spec.kind} over {design.problem['num_vars']} parameter(s), "
        f"{len(loaded.points)} point(s) x {len(loaded.scenarios)} scenario(s) x {spec.replicates} "
        f"replicate(s) = {loaded.n_runs} runs on {where} -> {out}",
        highlight=False,
    )

    def note(text: str) -> None:
        err.print(text, highlight=False, soft_wrap=True)

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        s, analysis = run_sensitivity(
            design,
            out,
            workers=workers,
            scheduler=scheduler,
            restart=restart,
            progress=terminal_progress(console),
            note=note,
        )
    except (ExperimentError, SweepError, AnalysisError) as exc:
        fail(str(exc))
    for run_id, error in s.failures[:5]:
        err.print(f"[red]failed:[/] {run_id}: {error}", highlight=False, soft_wrap=True)
    console.print(
        f"{s.done}/{s.total} runs done ({s.ran} this time, {s.skipped} before), {s.failed} failed, "
        f"{s.seconds:,.1f} s",
        highlight=False,
    )
    if s.interrupted:
        console.print("interrupted: run the same command again to resume", highlight=False)
        raise typer.Exit(130)
    if analysis is None:
        console.print("runs are missing: run the same command again to finish them", highlight=False)
        raise typer.Exit(1)
    from vraem.sensitivity.report import print_ranking

    wide = console if console.is_terminal else Console(width=160)
    print_ranking(analysis, wide)
    console.print(f"indices: {out / 'indices.csv'}  figures: {out / 'figures'}", highlight=False)
    console.print(f"next: vraem report {out}", highlight=False)


@app.command()
def compare(
    folder: Annotated[Path, typer.Argument(help="A results folder of vraem sweep or vraem run.")],
    baseline: Annotated[
        str | None,
        typer.Option(help="Scenario to compare with (default: status_quo, or the first)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the CSV files (default: FOLDER/compare).")
    ] = None,
) -> None:
    """Summarise a results folder: coca ha per month, paired differences, a summary table."""
    from vraem.compare import CompareError, compare_folder, print_comparison

    try:
        comparison = compare_folder(folder, baseline=baseline, out=out)
    except CompareError as exc:
        fail(str(exc))
    wide = console if console.is_terminal else Console(width=160)
    print_comparison(comparison, wide)
    _compare_robustness(folder, out, wide)


def _compare_robustness(folder: Path, out: Path | None, wide: Console) -> None:
    """Issue 10: which uncertainty the ranges include, ranking robustness, flip discovery."""
    from vraem.results import ResultsError
    from vraem.robustness import print_robustness

    try:
        print_robustness(folder, wide, out)
    except (ResultsError, OSError) as exc:
        fail(str(exc))


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).", min=0, max=65535)] = 8765,
    scenarios: Annotated[
        list[Path] | None,
        typer.Option(
            "--scenarios",
            help="A lesson's folder of scenario files to list beside the shipped ones (repeatable; "
            "./scenarios is listed too when present).",
            metavar="DIR",
        ),
    ] = None,
) -> None:
    """Start the classroom browser app on 127.0.0.1 and print its address."""
    from vraem.ui.server import LessonFolderError, PortInUseError, lesson_folders, serve

    try:
        lessons = lesson_folders(scenarios)
        status = serve(
            port, announce=lambda line: console.print(line, highlight=False, soft_wrap=True), lessons=lessons
        )
    except (PortInUseError, LessonFolderError) as exc:
        fail(str(exc))
    raise typer.Exit(status)


@app.command()
def report(
    folder: Annotated[
        Path,
        typer.Argument(help="A results folder of vraem run, sweep or sensitivity.", metavar="DIR"),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="HTML file to write (default: DIR/report.html); figures go beside it."),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            help="A vraem validate-history folder: its model output corroboration page becomes a "
            "section of the report (default: DIR itself, when it holds that output)."
        ),
    ] = None,
) -> None:
    """Write figures (PNG, SVG) and one self-contained HTML report from saved results."""
    from vraem.results import ResultsError, load_results

    if history is not None and not (history / "patterns.csv").is_file():
        fail(f"--history {history}: no patterns.csv (expected the --out folder of vraem validate-history)")
    if not folder.exists():
        fail(f"{folder}: no such folder")
    if not folder.is_dir():
        fail(f"{folder}: not a folder (expected a results folder of vraem run or vraem sweep)")
    html = out if out is not None else folder / "report.html"
    if html.suffix.lower() not in {".html", ".htm"}:
        fail(f"--out {html}: expected a file name ending in .html")
    from vraem.report.sensitivity import is_sensitivity_folder

    if is_sensitivity_folder(folder):  # a vraem sensitivity folder: rank the parameters
        from vraem.report.sensitivity import build_sensitivity_report
        from vraem.sensitivity import AnalysisError

        try:
            written_html = build_sensitivity_report(folder, html)
        except AnalysisError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"--out {html}: cannot write the report ({exc.strerror or exc})")
        console.print(f"figures: {folder / 'figures'}", highlight=False, soft_wrap=True)
        console.print(f"report: {written_html}", highlight=False, soft_wrap=True)
        return
    try:
        results = load_results(folder)
    except ResultsError as exc:
        fail(str(exc))
    except (OSError, ValueError) as exc:
        fail(f"{folder}: cannot read the results ({type(exc).__name__}: {exc})")
    from vraem.patterns import read_history
    from vraem.report import ReportError, build_report

    corroboration = read_history(history if history is not None else folder)
    if history is not None and corroboration is None:
        fail(f"--history {history}: no history.json (re-run vraem validate-history with this version)")
    try:
        written = build_report(results, html, history=corroboration)
    except ReportError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--out {html}: cannot write the report ({exc.strerror or exc})")
    for f in written.figures:
        if f.failed:
            err.print(f"warning: figure {f.key}: {f.note}", highlight=False, soft_wrap=True)
    console.print(f"figures: {written.figures_dir}", highlight=False, soft_wrap=True)
    console.print(f"report: {written.html}", highlight=False, soft_wrap=True)


def main() -> None:  # pragma: no cover - console entry for `python -m vraem.cli`
    """Entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
