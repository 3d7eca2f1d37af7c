"""YAML reading and JSON-schema validation with one kind of friendly message.

Every YAML file the run reads (``config.yaml``, codebooks, targets) goes
through :func:`read_yaml`, which refuses a key given twice in one mapping.
Every document (or block of one) checked against a packaged schema goes
through :func:`validate_document`, and every schema error becomes a
:class:`~prevalence.errors.ConfigError` in one formatter, :func:`schema_error`:
the dotted key, what is wrong, and the fix (the closest allowed key for a
misspelled one, the choices, the allowed range).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from prevalence.errors import ConfigError

__all__ = ["load_schema", "read_yaml", "schema_error", "validate_document"]

#: What to write for each id pattern of the packaged schemas.
_PATTERN_FIXES = {
    "^[A-Za-z][A-Za-z0-9_]*$": "use an id: letters, digits and '_', starting with a letter",
    "^[A-Za-z0-9][A-Za-z0-9_-]*$": "use letters, digits, '_' or '-', starting with a letter or digit",
    "^[0-9.]+:[0-9.]+:[0-9.]+$": "write start:stop:step, for example 0.01:0.99:0.01",
}

_FIXES = {
    "required": "add the missing key",
    "minItems": "list more items",
    "maxItems": "list fewer items",
    "uniqueItems": "list each item once",
    "type": "check the value's type against the example in config.yaml",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The packaged JSON schema ``name`` (``config`` or ``codebook``)."""
    text = resources.files("prevalence").joinpath(f"schemas/{name}.schema.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _block(name: str, block: str | None) -> dict[str, Any]:
    """The schema ``name``, or the schema of its top-level property ``block``."""
    root = load_schema(name)
    if block is None:
        return root
    return {**root["properties"][block], "$defs": root.get("$defs", {})}


def validate_document(
    document: Any, schema_name: str, *, source: str | Path, block: str | None = None
) -> None:
    """Check ``document`` against a packaged schema; raise one clear ConfigError.

    Parameters
    ----------
    document
        The loaded YAML (a whole file, or the block ``block`` of ``config.yaml``).
    schema_name
        ``config`` or ``codebook``.
    source
        The file, for messages.
    block
        A top-level key of the schema (``publication``, ``comparisons``): the
        document is that block alone, and keys are named from it.
    """
    schema = _block(schema_name, block)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(
        validator.iter_errors(document),
        key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]),
    )
    if errors:
        raise schema_error(errors[0], schema, source=str(source), prefix=block)


def _key_path(parts: Sequence[Any], prefix: str | None = None) -> str:
    out = prefix or ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _resolve(node: Any, root: Mapping[str, Any]) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node if isinstance(node, Mapping) else {}


def _allowed_keys(schema: Mapping[str, Any], path: Sequence[Any]) -> list[str]:
    """Property names the schema allows at ``path`` (best effort, for suggestions)."""
    node: Any = schema
    for part in path:
        node = _resolve(node, schema)
        if isinstance(part, int):
            node = node.get("items", {})
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        else:
            node = node.get("additionalProperties", {})
    node = _resolve(node, schema)
    keys = list(node.get("properties", {}))
    for sub in node.get("allOf", []):
        keys += list(_resolve(sub, schema).get("properties", {}))
    return keys


def _range_text(spec: Mapping[str, Any]) -> str:
    parts = []
    if "minimum" in spec:
        parts.append(f">= {spec['minimum']}")
    if "exclusiveMinimum" in spec:
        parts.append(f"> {spec['exclusiveMinimum']}")
    if "maximum" in spec:
        parts.append(f"<= {spec['maximum']}")
    if "exclusiveMaximum" in spec:
        parts.append(f"< {spec['exclusiveMaximum']}")
    return " and ".join(parts)


def _unknown_key(error, schema, path, key: str, source: str) -> ConfigError | None:
    allowed = _allowed_keys(schema, path)
    extra = [k for k in (error.instance or {}) if k not in allowed]
    if not extra:
        return None
    bad = extra[0]
    close = difflib.get_close_matches(str(bad), allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if isinstance(bad, bool):
        hint = "YAML reads a bare yes/no/on/off key as true/false: write yes_codes / no_codes. "
    return ConfigError(
        f"unknown key {bad!r} under {key}",
        file=source,
        fix=f"{hint}allowed keys here: {', '.join(allowed)}",
    )


def _one_of_keys(error, key: str, source: str) -> ConfigError | None:
    """A ``oneOf`` of ``required`` branches: the entry gives both keys, or neither."""
    branches = error.validator_value
    if not all(isinstance(b, Mapping) and set(b) == {"required"} for b in branches):
        return None
    names = [name for b in branches for name in b["required"]]
    given = [n for n in names if isinstance(error.instance, Mapping) and n in error.instance]
    either = " or ".join(names)
    if given:
        return ConfigError(
            f"{key}: give either {either}, not both",
            file=source,
            fix="use one entry per kind of comparison",
        )
    return ConfigError(
        f"{key}: has neither {' nor '.join(names)}", file=source, fix=f"add {either}"
    )


def schema_error(error: Any, schema: Mapping[str, Any], *, source: str, prefix: str | None = None):
    """The friendly ConfigError for one ``jsonschema`` validation error.

    ``prefix`` is the name of the block that ``schema`` checks (its keys are
    named ``prefix.key``).
    """
    key = _key_path(list(error.absolute_path), prefix)
    if error.validator == "oneOf":
        keys_error = _one_of_keys(error, key, source)
        if keys_error is not None:
            return keys_error
    if error.context:  # oneOf / anyOf: report the most specific branch
        error = max(error.context, key=lambda e: len(e.absolute_path))
    path = list(error.absolute_path)
    key = _key_path(path, prefix)
    spec = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        unknown = _unknown_key(error, schema, path, key, source)
        if unknown is not None:
            return unknown
    problem, fix = f"{key}: {error.message}", _FIXES.get(error.validator)
    if error.validator == "enum":
        problem = f"{key}: {error.instance!r} is not one of the choices"
        fix = f"use one of: {', '.join(map(str, error.validator_value))}"
    elif error.validator == "type" and spec.get("type") in ("integer", "number"):
        kind = "a whole number" if spec.get("type") == "integer" else "a number"
        problem = f"{key}: must be {kind}"
        fix = f"write {kind} {_range_text(spec)}".rstrip()
    elif error.validator in ("exclusiveMinimum", "exclusiveMaximum", "minimum", "maximum"):
        problem = f"{key}: {error.instance!r} is outside the allowed range"
        fix = f"use a value {_range_text(spec)}"
    elif error.validator == "pattern":
        fix = _PATTERN_FIXES.get(error.validator_value, f"match {error.validator_value}")
    elif error.validator in ("minItems", "maxItems") and spec.get("maxItems") == 2 == spec.get(
        "minItems"
    ):
        fix = "a pair names exactly two values: [a, b]"
    elif error.validator == "not" and path and path[-1] == "design":
        fix = "move the design block to config.yaml (global `design:` or the wave's `design:`)"
    return ConfigError(problem, file=source, fix=fix)


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""


def _strict_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _strict_mapping)


def read_yaml(path: str | Path, *, what: str) -> Any:
    """Read a YAML file, turning a missing file or a syntax error into a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{what} not found",
            file=str(path),
            fix=f"check the path, or create the {what}",
        )
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=str(path),
            row=where,
            fix="correct the YAML syntax (indentation, colons, quotes)",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=str(path), fix="save the file as UTF-8") from None
