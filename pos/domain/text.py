"""The one rule for free text typed by people, shared by the API's models and the page forms.

`text_problem` says what is wrong with a text (or None); the API answers it in
`details.fields`, a form shows it beside the field.
"""
from __future__ import annotations

import re

# The start of an HTML tag, comment or declaration: "<b", "</", "<!", "<?". A plain "<" or
# "->" in free text is fine; markup where it is refused is an error, not something to escape.
MARKUP = re.compile(r"<[A-Za-z/!?]")
# C0 controls, DEL and C1 controls. NUL in particular cannot be stored by PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_FREE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
_LAYOUT = re.compile(r"[\n\r\t]")
# The same, for text that may run over several lines (tab, line feed, carriage return kept).
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def text_problem(value: str, *, max_length: int, markup: bool = False,
                 multiline: bool = False) -> str | None:
    """What is wrong with `value` (already stripped) as stored text, or None if nothing.

    Refused: more than `max_length` characters, control characters (NUL among them; line
    breaks and tabs are allowed in `multiline` text such as an address), lone surrogates
    (which JSON can carry and no database can store), and, unless `markup` is allowed,
    the start of an HTML tag.
    """
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if _CONTROL.search(_LAYOUT.sub("", value) if multiline else value):
        return "must not contain control characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid text (UTF-8)"
    if not markup and MARKUP.search(value):
        return "must not contain HTML tags"
    return None
