"""Each field type's answer: its JSON shape, how raw input is normalised, and what is wrong with it.

Shapes (``None`` or absent means not answered):

- text, textarea, address, email, select, choice: ``str``
- phone: ``str`` of half-width digits and hyphens, e.g. ``"0595-22-2500"``
- postal_code: ``"518-8501"``
- number: ``int``
- name: ``{"family": "伊賀", "given": "太郎", "family_kana": "イガ", "given_kana": "タロウ"}``
  (readings in full-width katakana; hiragana input is converted)
- date: ISO ``"2026-11-26"`` (input may be 西暦 or 和暦, full-width digits allowed)
- multichoice: ``list[str]``
- yesno: ``bool``; consent: ``True``
- file: ``list[int]`` (attachment ids)
- signature: ``{"typed": "伊賀 太郎"}`` and/or ``{"attachment": 12}``
- group: ``list[dict]`` of sub-answers
"""

from __future__ import annotations

from typing import Any

from cityhall.procedures.formspec.schema import Field


class ValueProblem(ValueError):
    """Why an answer is not acceptable: a stable ``code`` and its ``params`` (for messages)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def normalize(field: Field, raw: Any) -> Any:
    """The answer in its JSON shape, or ``None`` if empty; raise :class:`ValueProblem`."""
    raise NotImplementedError


def is_empty(field: Field, value: Any) -> bool:
    raise NotImplementedError


def coerce(field: Field, value: Any) -> Any:
    """A prefill source's value in this field's shape, or ``None`` if it does not fit."""
    raise NotImplementedError
