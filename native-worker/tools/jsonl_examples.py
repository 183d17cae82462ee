"""Parses JSONL training examples in Grove's four dataset formats, with the same rules (and messages) as the control
plane's validator in libs/datasets/src/jsonl/parse-example.ts:
  {"prompt","completion"}  {"instruction","input"?,"output"}  {"messages":[{"role","content"}]}  {"text"}
The format is chosen by which keys are present (messages > prompt/completion > instruction/output > text), extra keys
are ignored, and target fields must be non-empty.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator, Optional, Union

FORMATS = ("prompt_completion", "instruction", "messages", "text")
CHAT_ROLES = ("system", "user", "assistant")
FORMAT_SHAPES = '{"prompt","completion"}, {"instruction","input"?,"output"}, {"messages":[{"role","content"}]}, {"text"}'


@dataclass(frozen=True)
class ParsedLine:
    line: int
    format: str
    fields: dict  # prompt/completion | instruction/input(None if absent or empty)/output | messages | text


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


class _Bad(Exception):
    pass


def _string(fields: dict, key: str, non_empty: bool, parent: Optional[str] = None) -> str:
    name = f"{parent}.{key}" if parent else key
    if key not in fields:
        raise _Bad(f'field "{name}" is missing')
    value = fields[key]
    if not isinstance(value, str):
        raise _Bad(f'field "{name}" must be a string, got {_json_type(value)}')
    if non_empty and value.strip() == "":
        raise _Bad(f'field "{name}" must not be empty')
    return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


def _messages(fields: dict) -> list[dict]:
    raw = fields["messages"]
    if not isinstance(raw, list):
        raise _Bad(f'field "messages" must be an array, got {_json_type(raw)}')
    if not raw:
        raise _Bad('field "messages" must not be empty')
    out = []
    for i, message in enumerate(raw):
        name = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _Bad(f'field "{name}" must be an object, got {_json_type(message)}')
        role = message.get("role")
        if role not in CHAT_ROLES:
            got = "it is missing" if "role" not in message else f"got {json.dumps(role)}"
            raise _Bad(f'field "{name}.role" must be one of "system", "user", "assistant", {got}')
        out.append({"role": role, "content": _string(message, "content", role == "assistant", name)})
    if not any(m["role"] == "assistant" for m in out):
        raise _Bad('field "messages" must contain at least one message with role "assistant"')
    return out


def parse_example(value: object) -> tuple[str, dict]:
    """(format, fields) of one decoded JSON value; raises _Bad naming the problem."""
    if not isinstance(value, dict):
        raise _Bad(f"expected a JSON object, got {_json_type(value)}")
    if "messages" in value:
        return "messages", {"messages": _messages(value)}
    if "prompt" in value or "completion" in value:
        return "prompt_completion", {"prompt": _string(value, "prompt", False),
                                     "completion": _string(value, "completion", True)}
    if "instruction" in value or "output" in value:
        instruction = _string(value, "instruction", True)
        raw_input = value.get("input")
        text_input = None if raw_input is None else _string(value, "input", False)
        return "instruction", {"instruction": instruction, "input": text_input or None,
                               "output": _string(value, "output", True)}
    if "text" in value:
        return "text", {"text": _string(value, "text", True)}
    keys = ", ".join(json.dumps(k) for k in list(value)[:5])
    found = f"keys {keys}" if keys else "no keys"
    raise _Bad(f"unknown format ({found}), expected one of {FORMAT_SHAPES}")


def read_jsonl(path: str, expected_format: str = "auto") -> Iterator[Union[ParsedLine, BadLine]]:
    """Parsed lines and per-line errors in order. Blank lines are skipped; the first valid line fixes the file's
    format unless `expected_format` names one."""
    file_format = None if expected_format == "auto" else expected_format
    format_line = 0
    seen = False
    with open(path, encoding="utf-8", errors="strict") as f:
        for n, text in enumerate(f, 1):
            if text.strip() == "":
                continue
            seen = True
            try:
                fmt, fields = parse_example(json.loads(text))
            except json.JSONDecodeError as e:
                yield BadLine(n, f"invalid JSON: {e.msg} at column {e.colno}")
                continue
            except _Bad as e:
                yield BadLine(n, str(e))
                continue
            if file_format is None:
                file_format, format_line = fmt, n
            elif fmt != file_format:
                origin = f"set by line {format_line}" if format_line else "given by --format"
                yield BadLine(n, f'format "{fmt}" differs from the file\'s format "{file_format}" ({origin})')
                continue
            yield ParsedLine(n, fmt, fields)
    if not seen:
        yield BadLine(0, "empty file: no examples")
