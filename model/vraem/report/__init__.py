"""Outcome reports: figures and one self-contained HTML file from a saved results folder.

``vraem report DIR`` calls :func:`build_report` on :func:`vraem.results.load_results` ``(DIR)``; the
model is never run again. Figures are written as PNG and SVG beside the report, and embedded in the
HTML as data URIs, so the HTML file alone opens offline.

Example::

    from vraem.results import load_results
    from vraem.report import build_report

    build_report(load_results("results/default"), "results/default/report.html")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vraem.patterns import History
from vraem.report.figures import FORMATS, Figure, make_figures
from vraem.report.html import render
from vraem.report.view import ReportView
from vraem.results import Results

__all__ = ["Figure", "Report", "ReportError", "ReportView", "build_report", "figures_dir_for"]

REQUIRED_COLUMNS = ("scenario", "replicate", "month")


class ReportError(ValueError):
    """Results that cannot be reported on, with a one-line message for people."""


@dataclass
class Report:
    """What :func:`build_report` wrote."""

    html: Path
    figures_dir: Path
    figures: list[Figure]

    @property
    def failed(self) -> list[Figure]:
        """Figures that raised while drawing (shown as errors in the report)."""
        return [f for f in self.figures if f.failed]


def figures_dir_for(out_html: Path) -> Path:
    """Where the PNG and SVG files of a report go: ``<stem>_figures/`` beside the HTML."""
    return out_html.with_name(f"{out_html.stem}_figures")


def build_report(
    results: Results, out_html: str | Path, formats: tuple[str, ...] = FORMATS, history: History | None = None
) -> Report:
    """Write the figures and the self-contained HTML report for ``results``.

    Args:
        results: A loaded results folder (``vraem run`` or ``vraem sweep``).
        out_html: The HTML file to write; figures go to ``<stem>_figures/`` beside it.
        formats: Figure file formats (PNG is always written; SVG by default, PDF on request).
        history: A validate-history folder read back (:func:`vraem.patterns.read_history`): its
            model output corroboration tables become a section of the report.

    Returns:
        The paths written and the figures (with notes for any skipped or failed).

    Raises:
        ReportError: The table lacks the columns that identify runs, or is empty.

    """
    out_html = Path(out_html)
    missing = [c for c in REQUIRED_COLUMNS if c not in results.table.columns]
    if missing:
        raise ReportError(f"{results.path}: the results table has no {', '.join(missing)} column")
    if results.table.empty:
        raise ReportError(f"{results.path}: the results table is empty")
    out_html.parent.mkdir(parents=True, exist_ok=True)
    view = ReportView(results)
    fig_dir = figures_dir_for(out_html)
    figures = make_figures(view, fig_dir, formats)
    out_html.write_text(render(view, figures, fig_dir, history), encoding="utf-8")
    return Report(out_html, fig_dir, figures)
