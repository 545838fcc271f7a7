"""What people type or write, read safely: one YAML loader and one bound on what errors echo.

Every YAML the tool reads (scenarios, experiments, calibration configs, sensitivity experiments,
the classroom app's scenario files, ``--set`` values) goes through :func:`load_yaml`. PyYAML's
safe loader already refuses Python tags (``!!python/object``); this one also refuses, before
anything walks the data:

- **a key given twice** in one mapping (YAML's last-one-wins would silently drop the first, so a
  pasted line would change the value without a word);
- **aliases that expand too far**: ten lines of nested anchors (``a1: &a1 [*a0, *a0, ...]``)
  expand to billions of values, which validation, copying or an error message would walk;
  the data may expand to at most :data:`MAX_NODES` values, and an alias inside its own anchor
  (a structure that contains itself) is refused.

:func:`read_text_file` refuses what is not a regular file (a FIFO or ``/dev/zero`` would block or
never end) and files larger than :data:`MAX_FILE_BYTES`. :func:`echo` is the bound on what an
error message quotes of a user's value: a short repr with an ellipsis, never the whole value.

The errors raised here are plain ``yaml.YAMLError`` and ``ValueError`` with messages for people;
the callers (:func:`vraem.scenario.read_yaml_mapping`) add the file's name and raise their own
error class.
"""

from __future__ import annotations

import os
import reprlib
import stat
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, model_validator
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_NODES = 200_000
"""Values (mappings, lists and scalars, each alias counted as what it expands to) one YAML
document may hold. The largest shipped file holds about 200; an experiment listing a thousand
design points by hand holds about 10,000. Validating 200,000 takes well under a second."""

MAX_FILE_BYTES = 4_000_000
"""Largest YAML file read (the largest shipped one is about 3 kB)."""

ECHO_CHARS = 80
"""Most characters of a user's value quoted in an error message."""

_echo = reprlib.Repr(maxlevel=3, maxtuple=4, maxlist=4, maxarray=4, maxdict=4, maxset=4,
                     maxfrozenset=4, maxdeque=4, maxstring=ECHO_CHARS, maxlong=40, maxother=ECHO_CHARS)


def echo(value: Any) -> str:
    """A short repr of ``value`` for an error message, ``...`` where it was cut.

    reprlib stops at a few items per level and a few levels, so the cost does not grow with the
    value (a million-item list or a shared, nested structure costs what four items cost).
    """
    return clip(_echo.repr(value))


def clip(text: str) -> str:
    """``text`` cut to :data:`ECHO_CHARS` characters, ``...`` where it was cut."""
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 3] + "..."


class YamlRefused(yaml.YAMLError):
    """Valid YAML the tool does not read: a key given twice, or aliases that expand too far."""


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_keys(node: MappingNode, where: str) -> None:
    """Refuse a scalar key given twice in the mapping ``node`` (merge keys ``<<`` aside)."""
    seen: dict[tuple[str, str], Node] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        first = seen.setdefault((key.tag, key.value), key)
        if first is not key:
            name = f"{where}.{key.value}" if where else key.value
            raise YamlRefused(
                f"{clip(name)} is given twice "
                f"(lines {first.start_mark.line + 1} and {key.start_mark.line + 1}); keep one"
            )


def check_document(root: Node) -> None:
    """Refuse duplicate keys and alias expansion beyond :data:`MAX_NODES`, without expanding.

    A depth-first walk over the composed nodes (each node once, however many aliases point at
    it) that sums what each node expands to.
    """
    size: dict[int, int] = {}
    open_: set[int] = set()
    path: dict[int, str] = {id(root): ""}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > MAX_NODES:
                raise YamlRefused(
                    f"anchors and aliases (line {node.start_mark.line + 1}) expand to more than "
                    f"{MAX_NODES:,} values; write the values out instead"
                )
            continue
        if key in size:
            continue
        if key in open_:
            raise YamlRefused(
                f"an alias inside its own anchor (line {node.start_mark.line + 1}): "
                "a value cannot contain itself"
            )
        open_.add(key)
        if isinstance(node, MappingNode):
            _check_keys(node, path[key])
        stack.append((node, True))
        for i, child in enumerate(children):
            if isinstance(node, MappingNode):
                label = node.value[i // 2][0].value if i % 2 else None
                child_path = f"{path[key]}.{label}".lstrip(".") if isinstance(label, str) else path[key]
            else:
                child_path = f"{path[key]}[{i}]"
            path.setdefault(id(child), child_path)
            if id(child) not in size:
                stack.append((child, False))


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that checks the document (:func:`check_document`) before building it."""

    def construct_document(self, node: Node) -> Any:
        """Check, then build, the document."""
        check_document(node)
        return super().construct_document(node)


def load_yaml(text: str) -> Any:
    """Parse one YAML document with :class:`StrictLoader`.

    Raises:
        YamlRefused: A key given twice, aliases that expand too far, or nested too deeply to parse.
        yaml.YAMLError: Not valid YAML.
    """
    try:
        return yaml.load(text, Loader=StrictLoader)
    except RecursionError:
        raise YamlRefused("nested too deeply (lists or mappings hundreds of levels deep)") from None


def check_regular_file(path: Path, what: str) -> os.stat_result:
    """Refuse a folder, device, pipe or socket where a file is expected (following symlinks).

    Opening a FIFO blocks until something writes to it, and ``/dev/zero`` never ends: both are
    refused before anything opens them.

    Raises:
        ValueError: One line for people, without the path (the caller names it).
        FileNotFoundError, PermissionError (OSError): from the file system.
    """
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"is a folder, expected {what}")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"not a regular file (a device, pipe or socket), expected {what}")
    return info


def read_text_file(path: Path, what: str, max_bytes: int | None = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes`` (None: any size).

    Raises:
        ValueError: One line for people, without the path (the caller names it).
        FileNotFoundError, IsADirectoryError, PermissionError (OSError): from the file system.
    """
    info = check_regular_file(path, what)
    limit = info.st_size if max_bytes is None else max_bytes
    if info.st_size > limit:
        raise ValueError(f"{info.st_size:,} bytes is too large for {what} (at most {limit:,})")
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit and max_bytes is not None:  # grew since stat
        raise ValueError(f"too large for {what} (at most {limit:,} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bom = " (a UTF-16 file)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ValueError(
            f"not UTF-8 text{bom}: byte 0x{exc.object[exc.start]:02x} at position {exc.start}; "
            f"save it as UTF-8 (expected {what})"
        ) from None


def _numeric(annotation: Any) -> bool:
    """Whether a field's type is a number (``int``, ``float``, or either or None), not a bool."""
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and bool not in args and all(_numeric(a) for a in args)
    return False


class FieldProblem(ValueError):
    """A problem with one field found by a model-level validator: names the field and its value."""

    def __init__(self, field: str, value: Any, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


def _bool_for_number(annotation: Any, value: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and any(_bool_for_number(a, value) for a in args if a is not type(None))
    if typing.get_origin(annotation) in (list, tuple) and isinstance(value, list):
        item = (typing.get_args(annotation) or (None,))[0]
        return _numeric(item) and any(isinstance(v, bool) for v in value)
    return isinstance(value, bool) and _numeric(annotation)


class NumbersNotBooleans(BaseModel):
    """Base of the input schemas: ``true``/``false`` is refused where a number is expected.

    pydantic reads ``true`` as 1 for a number field, and YAML reads ``yes``, ``no``, ``on`` and
    ``off`` as booleans: ``months: yes`` would silently run one month. (A model validator, not a
    field validator: pydantic allows none on the ``kind`` that tells the designs apart.)
    """

    @model_validator(mode="before")
    @classmethod
    def _not_a_boolean(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if key in data and _bool_for_number(field.annotation, data[key]):
                    raise FieldProblem(
                        key,
                        data[key],
                        "must be a number, not true or false (YAML reads yes, no, on and off as "
                        "true and false)",
                    )
        return data
