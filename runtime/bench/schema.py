"""The bench report's JSON Schema (report.schema.json) and a checker for the keywords it uses.

Devices have no jsonschema package, so the report reader checks with this small subset of
draft 2020-12; the tests validate the same file with jsonschema itself.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "null": (type(None),),
}


@cache
def report_schema() -> dict[str, Any]:
    """The report's JSON Schema."""
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def first_error(value: Any, schema: dict[str, Any], where: str = "report") -> str | None:
    """Where and how ``value`` breaks ``schema`` (type, required, properties,
    additionalProperties, items, minItems, minLength, pattern, minimum, maximum, const, enum);
    None if
    it does not."""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return f"{where} should be {' or '.join(kinds)}, not {type(value).__name__}"
    if "const" in schema and value != schema["const"]:
        return f"{where} should be {schema['const']!r}, not {value!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} should be one of {schema['enum']!r}, not {value!r}"
    if _is(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where} is above {schema['maximum']}"
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        return f"{where} is too short"
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        return f"{where} {value!r} does not match {schema['pattern']}"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return f"{where} has too few items"
        items = schema.get("items")
        if items is not None:
            for i, item in enumerate(value):
                found = first_error(item, items, f"{where}[{i}]")
                if found:
                    return found
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                return f"{where} lacks {key!r}"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            sub = properties.get(key)
            if sub is None:
                if extra is False:
                    return f"{where} has an unknown field {key!r}"
                sub = extra if isinstance(extra, dict) else None
            if sub is not None:
                found = first_error(item, sub, f"{where}.{key}")
                if found:
                    return found
    return None
