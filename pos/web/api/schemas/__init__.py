"""The typed input layer: every JSON body of the API and the desk is one pydantic model.

A request is validated once, here, and the same models generate the OpenAPI document
(`pos.web.api.openapi`), so what the document promises is what the server enforces.
The models live by area: `catalog`, `clients`, `sales`, `treatments`, `queries`. The shared
field types (`SafeText`, `Cents`, `Quantity`, `Id`, `Day`, `Timestamp`) are in `types`.
"""
from __future__ import annotations

from pos.web.api.schemas.parsing import parse_json, parse_query, validate_body, validate_query
from pos.web.api.schemas.types import (
    Cents,
    Day,
    Id,
    Quantity,
    SafeText,
    StrictModel,
    Timestamp,
)

__all__ = ["Cents", "Day", "Id", "Quantity", "SafeText", "StrictModel", "Timestamp",
           "parse_json", "parse_query", "validate_body", "validate_query"]
