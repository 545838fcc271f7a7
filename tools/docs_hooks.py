"""MkDocs hooks that generate the site's pages that must not drift from their sources.

Loaded by ``mkdocs.yml`` (``hooks:``). At every build (and every rebuild of ``mkdocs serve``):

- ``docs/odd.md``, the single source of the model description, is split into one page per ODD
  section (``model/``) and one per submodel (``### 7.x``, ``model/submodels/``); a section added
  there appears on the site and in the navigation without any other change. Cross-references in
  the text (``section 7.11``) become links to the page that holds the section.
- ``reference/cli.md`` is generated from the ``vraem`` command itself (its Click commands, as Typer
  builds them): every command with its usage, arguments and options.
- ``reference/parameters.md`` is generated from :func:`vraem.params.parameter_table` and the
  pydantic fields: every parameter with its default, unit, source, plausible range and limits.
- ``gallery.md`` lists the figures ``tools/gallery.py`` (``make gallery``) copied into
  ``docs/gallery/``, as recorded in ``docs/gallery/gallery.json``, each with its command.

Maths (``$...$`` and ``$$...$$``, read by pymdownx.arithmatex) is rendered to MathML at build time,
so the pages need no script or network to show equations; dollar signs of currencies (``US$2.3``)
are escaped so that they are not read as maths.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown.extensions.toc import slugify
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.vraem")

ODD = "odd.md"
MODEL_DIR = "model"
NAV_MODEL_KEY = "ODD+D"
"""The nav entry of mkdocs.yml that the split ODD+D pages replace."""
GALLERY_JSON = "gallery/gallery.json"

_FENCE = re.compile(r"^(```|~~~)")
_SECTION = re.compile(r"^## (?:(\d+)\.\s+)?(.+?)\s*$")
_SUBMODEL = re.compile(r"^### (7\.\d+)\s+(.+?)\s*$")
_HEADING = re.compile(r"^(#{1,6})(\s.*)$")
_LINK = re.compile(r"\]\((?!https?:|mailto:|/)([^)\s]*)\)")
_SECTION_REF = re.compile(r"\b(sections?) (\d+(?:\.\d+)?)\b")
_CODE_REF = re.compile(r"\s*\(`[^)]*\)")
"""A heading's trailing reference to the code, ``(`economy.update_market`)``: not in names or URLs."""
_CURRENCY = re.compile(r"(?<=\bUS)\$|(?<=\bCOP)\$")


# ---------------------------------------------------------------------------------------------
# The ODD+D description, split into pages


@dataclass
class OddPage:
    """One generated page of the ODD+D description."""

    uri: str
    number: str
    title: str
    lines: list[str]
    children: list[OddPage] = field(default_factory=list)

    @property
    def nav_title(self) -> str:
        """The title in the navigation: number and title, without the code reference."""
        short = _CODE_REF.sub("", self.title).replace("`", "")
        return f"{self.number} {short}" if self.number else short


def _outside_fences(lines: list[str]):
    """Yield ``(index, line)`` for lines that are not inside a fenced code block."""
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield i, line


def _slug(number: str, title: str) -> str:
    words = _CODE_REF.sub("", title)
    words = slugify(words, "-")[:60].strip("-")
    return f"{number.replace('.', '-')}-{words}" if number else words


def _trim(lines: list[str]) -> list[str]:
    """Drop blank lines and ``---`` rules at both ends."""
    while lines and lines[0].strip() in ("", "---"):
        lines = lines[1:]
    while lines and lines[-1].strip() in ("", "---"):
        lines = lines[:-1]
    return lines


def split_odd(text: str) -> tuple[OddPage, list[OddPage]]:
    """The index page and the section pages (section 7 with one child page per submodel)."""
    lines = text.splitlines()
    starts = [(i, m) for i, line in _outside_fences(lines) if (m := _SECTION.match(line))]
    first = starts[0][0] if starts else len(lines)
    preamble = [line for line in lines[:first] if not line.startswith("# ")]
    index = OddPage(f"{MODEL_DIR}/index.md", "", "The model: ODD+D description", _trim(preamble))
    sections = []
    for k, (i, m) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        number, title = m.group(1) or "", m.group(2)
        body = lines[i + 1 : end]
        subs = [(j, s) for j, line in _outside_fences(body) if (s := _SUBMODEL.match(line))]
        if subs:
            folder = f"{MODEL_DIR}/{_slug(number, title)}"
            page = OddPage(f"{folder}/index.md", number + ".", title, _trim(body[: subs[0][0]]))
            for n, (j, s) in enumerate(subs):
                stop = subs[n + 1][0] if n + 1 < len(subs) else len(body)
                page.children.append(
                    OddPage(
                        f"{folder}/{_slug(s.group(1), s.group(2))}.md",
                        s.group(1),
                        s.group(2),
                        _trim(body[j + 1 : stop]),
                    )
                )
        else:
            uri = f"{MODEL_DIR}/{_slug(number, title)}.md"
            page = OddPage(uri, number + "." if number else "", title, _trim(body))
        sections.append(page)
    return index, sections


def _all_pages(index: OddPage, sections: list[OddPage]) -> list[OddPage]:
    return [index, *(p for s in sections for p in (s, *s.children))]


def _relative(from_uri: str, to_uri: str) -> str:
    """The relative link from one page to another (both relative to docs/)."""
    path, hash_, anchor = to_uri.partition("#")
    return posixpath.relpath(path, posixpath.dirname(from_uri) or ".") + hash_ + anchor


def _section_targets(index: OddPage, sections: list[OddPage]) -> dict[str, str]:
    """Section number (``"7.11"``, ``"2.3"``, ``"8"``) to ``uri`` or ``uri#anchor``."""
    targets = {}
    for page in _all_pages(index, sections):
        if page.number:
            targets[page.number.rstrip(".")] = page.uri
        for _, line in _outside_fences(page.lines):
            m = re.match(r"^###? (\d+\.\d+)\s+(.+?)\s*$", line)
            if m and m.group(1) not in targets:
                targets[m.group(1)] = f"{page.uri}#{slugify(f'{m.group(1)} {m.group(2)}', '-')}"
    return targets


def _page_markdown(
    page: OddPage, sections: list[OddPage], targets: dict[str, str], anchors: dict[str, str]
) -> str:
    """The Markdown of one generated page: headings lifted one level, links made to work."""
    out = [f"# {page.number} {page.title}".strip() if page.number else f"# {page.title}", ""]
    out.append(
        f"<small>Generated from [the one-page description]({_relative(page.uri, ODD)}), "
        "the single source (`docs/odd.md`).</small>"
    )
    out.append("")
    fenced = False
    for line in page.lines:
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced:
            m = _HEADING.match(line)
            if m and len(m.group(1)) > 2:
                line = m.group(1)[1:] + m.group(2)
            line = _LINK.sub(lambda mm: _fix_link(mm.group(1), page.uri, anchors), line)
            line = _SECTION_REF.sub(lambda mm: _section_link(mm, page.uri, targets), line)
        out.append(line)
    is_index = page.uri == f"{MODEL_DIR}/index.md"
    listing = ("Sections", sections) if is_index else ("Submodels", page.children)
    if listing[1]:
        out += ["", f"## {listing[0]}", ""]
        out += [f"- [{c.nav_title}]({_relative(page.uri, c.uri)})" for c in listing[1]]
    return "\n".join(out) + "\n"


def _fix_link(target: str, page_uri: str, anchors: dict[str, str]) -> str:
    """A link written relative to docs/odd.md, made relative to the generated page."""
    if target.startswith("#"):
        uri = anchors.get(target[1:])
        return f"]({_relative(page_uri, uri)}{target})" if uri else f"]({_relative(page_uri, ODD)}{target})"
    return f"]({_relative(page_uri, target)})"


def _section_link(m: re.Match, page_uri: str, targets: dict[str, str]) -> str:
    word, number = m.group(1), m.group(2)
    target = targets.get(number)
    if target is None or target == page_uri:
        return m.group(0)
    return f"[{word} {number}]({_relative(page_uri, target)})"


def odd_files(text: str) -> tuple[dict[str, str], list[Any]]:
    """The generated pages (uri to Markdown) and their navigation."""
    index, sections = split_odd(text)
    targets = _section_targets(index, sections)
    anchors = {}
    for page in _all_pages(index, sections):
        for _, line in _outside_fences(page.lines):
            if m := _HEADING.match(line):
                anchors.setdefault(slugify(m.group(2).strip(), "-"), page.uri)
    pages = {p.uri: _page_markdown(p, sections, targets, anchors) for p in _all_pages(index, sections)}
    nav: list[Any] = [{"Overview and notation": index.uri}]
    for s in sections:
        if s.children:
            nav.append({s.nav_title: [s.uri, *({c.nav_title: c.uri} for c in s.children)]})
        else:
            nav.append({s.nav_title: s.uri})
    return pages, nav


# ---------------------------------------------------------------------------------------------
# The command line, from the Click commands Typer builds


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(param) -> str:
    value = param.default
    if value is None or value == () or callable(value) or "UNSET" in repr(value) or "Sentinel" in repr(value):
        return ""
    if isinstance(value, bool) and getattr(param, "is_flag", False):
        names = [*param.opts, *param.secondary_opts]
        return f"`{names[0] if value or len(names) == 1 else names[1]}`" if value or len(names) > 1 else "off"
    return f"`{value}`"


def _kind(param) -> str:
    """The value a parameter takes: its annotation (Typer) or Click type, and its bounds."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        ann = descriptor.annotation
        name = ann.__name__ if isinstance(ann, type) else str(ann).replace("typing.", "")
        name = re.sub(r"^list\[(.*)\]$", r"\1", name.replace(" | None", ""))
        name = re.sub(r"pathlib\.(_local\.)?", "", name)
        name = {"Path": "path", "str": "text", "int": "integer", "float": "number"}.get(name, name)
    else:
        name = getattr(getattr(param, "type", None), "name", "")
    bounds = [
        f"{sign} {v}" for sign, v in (("≥", getattr(param, "min", None)), ("≤", getattr(param, "max", None)))
    ]
    bounds = [b for b in bounds if not b.endswith("None")]
    return _cell(", ".join([name, *bounds]))


def cli_markdown() -> str:
    """Every ``vraem`` command: what it does, its usage, arguments and options."""
    import typer

    from vraem.cli import app

    # Typer builds Click-style commands (from a Click it may vendor): use them by their attributes.
    group = typer.main.get_command(app)
    ctx = group.context_class(group, info_name="vraem")
    out = [
        "# Commands",
        "",
        "Generated from the `vraem` command itself at every build of this site "
        "(`vraem COMMAND --help` prints the same). Mistakes in any argument give one line naming "
        "it and exit code 2.",
        "",
        "```text",
        group.get_usage(ctx),
        "```",
        "",
        _cell(group.help or ""),
        "",
    ]
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        sub = cmd.context_class(cmd, info_name=name, parent=ctx)
        out += [f"## `vraem {name}`", "", "```text", cmd.get_usage(sub), "```", ""]
        out += [(cmd.help or "").strip(), ""]
        arguments = [p for p in cmd.params if p.param_type_name == "argument"]
        options = [p for p in cmd.params if p.param_type_name == "option" and not p.hidden]
        if arguments:
            out += ["| argument | type | what it is |", "|---|---|---|"]
            for p in arguments:
                many = "..." if p.nargs == -1 else ""
                need = "" if p.required else " (optional)"
                text = _cell(getattr(p, "help", "") or "")
                out.append(f"| `{p.name.upper()}{many}` | {_kind(p)} | {text}{need} |")
            out.append("")
        if options:
            out += ["| option | type | default | what it does |", "|---|---|---|---|"]
            for p in options:
                flags = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
                kind = "flag" if p.is_flag else _kind(p)
                if p.multiple:
                    kind += ", repeatable"
                out.append(f"| {flags} | {kind} | {_default(p)} | {_cell(p.help or '')} |")
            out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Parameters, from vraem.params


def _number(x: Any) -> str:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return _cell(x)
    return f"{x:,.6g}"


def _limits(field_info) -> str:
    bounds = []
    for meta in field_info.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if (v := getattr(meta, attr, None)) is not None:
                bounds.append(f"{sign} {_number(v)}")
    return ", ".join(bounds)


def _described_in(parameter: str, model_pages: dict[str, str]) -> str:
    """Links to the model pages (sections 1-7, not the parameter tables) that name ``parameter``."""
    links = []
    for uri, text in model_pages.items():
        skip = uri.startswith(f"{MODEL_DIR}/8-") or uri == f"{MODEL_DIR}/index.md"
        if f"`{parameter}`" in text and not skip:
            title = text.splitlines()[0].lstrip("# ")
            number = title.split()[0] if title[:1].isdigit() else title
            links.append(f"[§{number.rstrip('.')}](../{uri})")
    return ", ".join(links)


def parameters_markdown(model_pages: dict[str, str] | None = None) -> str:
    """Every parameter, by group: default, unit, source, plausible range, limits, where it acts."""
    model_pages = model_pages or {}
    from vraem.params import ModelParams, parameter_fields, parameter_table

    params = ModelParams()
    fields = parameter_fields(params)
    rows = parameter_table(params)
    out = [
        "# Parameters",
        "",
        "Generated from `model/vraem/params.py` (`vraem.params.parameter_table()` and the pydantic "
        "fields) at every build of this site, so it lists exactly what the code declares; "
        "`vraem params` prints the same table. Scenarios change them under `parameters:` by group, "
        "and every command takes `--set group.name=VALUE` "
        "([Scenarios](../guide/scenarios.md#overriding-parameters)). The *plausible range* is what "
        "sensitivity analyses and the calibration's priors explore; *fixed* parameters are sizes, "
        "labels or input series that are not sampled; *limits* are what a scenario may set at all; "
        "*in the model* links the sections of the model's description that use it. "
        "Policy levers are not parameters: they are the scenario's timeline. What each parameter "
        "does is in [the model's description](../model/index.md).",
        "",
    ]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["parameter"].split(".")[0], []).append(row)
    for group, members in groups.items():
        doc = (type(getattr(params, group)).__doc__ or "").strip().split("\n\n")[0]
        out += [f"## `{group}`", "", " ".join(doc.split()), ""]
        out += [
            "| parameter | default | unit | source | plausible range | limits | in the model |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in members:
            if r["plausible"] is None:
                span = f"fixed: {_cell(r['fixed'])}"
            else:
                span = " to ".join(_number(x) for x in r["plausible"])
                if r["plausible_source"]:
                    span += f" ({_cell(r['plausible_source'])})"
            value = r["value"]
            shown = _number(value) if not isinstance(value, list | tuple | dict) else f"`{_cell(value)}`"
            out.append(
                f"| `{r['parameter']}` | {shown} | {_cell(r['unit'])} | {_cell(r['source'])} | {span} "
                f"| {_limits(fields[r['parameter']][0])} | {_described_in(r['parameter'], model_pages)} |"
            )
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The gallery, from what tools/gallery.py recorded


def gallery_markdown(docs_dir: Path) -> str:
    """The gallery page: every figure ``make gallery`` copied, with the commands that draw it."""
    out = [
        "# Gallery",
        "",
        "The figures of `vraem report` for the shipped experiments, as drawn by the current model. "
        "`make gallery` (`tools/gallery.py`) runs any experiment whose results are missing, draws "
        "the reports and copies their figures here; each figure is also written as SVG beside "
        "the report (`report_figures/`). The commands under each experiment draw the same "
        "figures on your machine.",
        "",
    ]
    path = docs_dir / GALLERY_JSON
    if not path.exists():
        return "\n".join([*out, "No figures yet: run `make gallery`.", ""])
    data = json.loads(path.read_text(encoding="utf-8"))
    for exp in data.get("experiments", []):
        out += [f"## {exp['title']}", "", exp.get("description", ""), ""]
        out += ["```sh", *exp["commands"], "```", ""]
        if exp.get("drawn"):
            out += [f"<small>Drawn {html.escape(exp['drawn'])}.</small>", ""]
        for fig in exp["figures"]:
            out += [f"### {fig['title']}", "", f"![{_cell(fig['title'])}]({fig['image']})", ""]
            out += [fig.get("caption", ""), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The hooks


_generated: dict[str, str] = {}


def on_config(config, **kwargs):
    """Generate the pages and put the split ODD+D description into the navigation."""
    docs = Path(config["docs_dir"])
    pages, odd_nav = odd_files((docs / ODD).read_text(encoding="utf-8"))
    _generated.clear()
    _generated.update(pages)
    _generated["reference/cli.md"] = cli_markdown()
    _generated["reference/parameters.md"] = parameters_markdown(pages)
    _generated["gallery.md"] = gallery_markdown(docs)

    def replace(items):
        for item in items or []:
            if isinstance(item, dict):
                for key, value in item.items():
                    if key == NAV_MODEL_KEY:
                        item[key] = odd_nav
                    elif isinstance(value, list):
                        replace(value)

    replace(config["nav"])
    return config


def on_files(files: Files, config, **kwargs) -> Files:
    """Add the generated pages to the site."""
    for uri, content in _generated.items():
        if files.get_file_from_path(uri) is not None:
            files.remove(files.get_file_from_path(uri))
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    """Keep currency dollar signs out of the maths."""
    return _CURRENCY.sub(r"\\$", markdown)


_MATH = re.compile(
    r'<(span|div) class="arithmatex">\s*\\[(\[](.+?)\\[)\]]\s*</\1>',
    re.DOTALL,
)


def tex_to_mathml(html_text: str, where: str = "") -> str:
    """Replace arithmatex's inline and display TeX by MathML, which browsers draw natively.

    The maths is rendered at build time, so pages need no script and no network to show equations.
    A formula latex2mathml cannot read is left as TeX and logged as a warning (an error in strict
    mode), so that it is fixed rather than shown raw.
    """
    from latex2mathml.converter import convert

    def one(m: re.Match) -> str:
        tex = html.unescape(m.group(2))
        try:
            mathml = convert(tex, display="block" if m.group(1) == "div" else "inline")
        except Exception as exc:  # latex2mathml raises its own errors and plain ones
            log.warning("%s: cannot render the formula %r as MathML (%s)", where, tex, exc)
            return m.group(0)
        return f'<div class="math">{mathml}</div>' if m.group(1) == "div" else mathml

    return _MATH.sub(one, html_text)


def on_page_content(html_text: str, page, config, files, **kwargs) -> str:
    """Render the page's maths as MathML."""
    return tex_to_mathml(html_text, page.file.src_uri)
