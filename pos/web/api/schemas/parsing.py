"""Parsing a request into its model: one 422 `validation_error` naming every bad field.

`validate_body(Model)` is the decorator of the API's routes (CTFd's `validate_args`
pattern): it sits under `@requires`, so the role is checked before the body is read, and
passes the parsed model to the view as `body`. The desk's JSON endpoints, which answer
their own errors, call `parse_json(Model)` directly.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from pos.domain.errors import ValidationFailed
from pos.domain.limits import MAX_JSON_DEPTH

M = TypeVar("M", bound=BaseModel)


def _refuse(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"Some fields are not right: {field} {problem}.",
                            {"fields": {field: problem}})


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's parser would accept them as floats.
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """How deep objects and arrays nest, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def read_json_object() -> dict[str, Any]:
    """The request's JSON object, or ValidationFailed naming `body`."""
    if not request.is_json:
        raise _refuse("body", "must be JSON (Content-Type: application/json)")
    try:
        data = json.loads(request.get_data(cache=True), parse_constant=_no_constant)
    except RecursionError:
        raise _refuse("body", f"nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # also UnicodeDecodeError: bytes that are not UTF-8
        raise _refuse("body", "not a JSON object") from None
    if not isinstance(data, dict):
        raise _refuse("body", "not a JSON object")
    if _depth(data) > MAX_JSON_DEPTH:
        raise _refuse("body", f"nests deeper than {MAX_JSON_DEPTH} levels")
    return data


def field_name(loc: tuple[int | str, ...]) -> str:
    """("lines", 0, "quantity") -> "lines[0].quantity"; () -> "body"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _problem(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":  # a model's own rule: its message is the problem
        return str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "must be a whole number"
    if kind in {"string_type", "string_unicode"}:
        return "must be a string"
    if kind in {"bool_type", "bool_parsing"}:
        return "must be true or false"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "literal_error":
        choices = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"must be one of {choices}"
    if kind in {"list_type", "tuple_type"}:
        return "must be a list"
    if kind == "too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return "must be an object"
    message = str(error["msg"])
    return message[:1].lower() + message[1:]


def as_validation_failed(error: ValidationError) -> ValidationFailed:
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        fields.setdefault(field_name(tuple(item["loc"])), _problem(item))
    listed = "; ".join(f"{name} {problem}" for name, problem in sorted(fields.items()))
    return ValidationFailed(f"Some fields are not right: {listed}.", {"fields": fields})


def model_from(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise as_validation_failed(error) from None


def parse_json(model: type[M]) -> M:
    return model_from(model, read_json_object())


def parse_query(model: type[M]) -> M:
    """Query strings: each parameter once, as text; the model reads what it knows."""
    return model_from(model, request.args.to_dict())


def _passing(argument: str, parse: Callable[[type[M]], M], model: type[M]
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator handing the view `parse(model)` as the keyword `argument`; the model is
    kept on the view (`body_model`, `query_model`) for whoever documents it."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **{argument: parse(model)}, **kwargs)

        setattr(wrapped, f"{argument}_model", model)
        return wrapped

    return decorator


def validate_body(model: type[M]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@validate_body(Model)` under `@requires`: the view gets `body`, a Model."""
    return _passing("body", parse_json, model)


def validate_query(model: type[M]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@validate_query(Model)`: the view gets `query`, a Model of the query string."""
    return _passing("query", parse_query, model)
