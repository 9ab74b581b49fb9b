"""The Sudachi synonym dictionary (Sudachi 同義語辞書), for query expansion.

Format (``data/synonyms-format.md``): one headword per CSV line, groups separated by blank
lines; field 0 is the group number, field 2 the expansion control flag (展開制御フラグ):
``0`` (or empty) the word expands and is expanded to, ``1`` it never triggers an expansion
but other words of its group expand to it, ``2`` never used (kept as deletion history).
Field 8 is the headword.

Only what expansion needs is kept: headword → groups it triggers, group → target words.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

# Katakana → hiragana, as the analyzer folds words (ゴミ and ごみ are one word).
_KATA_TO_HIRA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


class Synonyms:
    """Synonym groups: ``expand(word)`` gives the other words of the groups it triggers."""

    def __init__(self, groups: dict[str, tuple[str, ...]], triggers: dict[str, tuple[str, ...]]):
        self._groups = groups
        self._triggers = triggers

    @classmethod
    def load(cls, path: str | Path) -> Synonyms:
        """Read the dictionary file at ``path`` (UTF-8 CSV of the Sudachi format)."""
        text = Path(path).read_text(encoding="utf-8")
        return cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        groups: dict[str, list[str]] = {}
        triggers: dict[str, list[str]] = {}
        normalize = unicodedata.normalize
        for line in text.splitlines():
            if not line or line[0] == "#":
                continue
            fields = line.split(",")
            if len(fields) < 9:
                continue
            group, flag, word = fields[0], fields[2], fields[8]
            if flag == "2" or not word:
                continue
            word = normalize("NFKC", word).lower().translate(_KATA_TO_HIRA)
            targets = groups.setdefault(group, [])
            if word not in targets:
                targets.append(word)
            if flag in {"", "0"}:
                trig = triggers.setdefault(word, [])
                if group not in trig:
                    trig.append(group)
        return cls(
            {g: tuple(words) for g, words in groups.items()},
            {w: tuple(gs) for w, gs in triggers.items()},
        )

    def __len__(self) -> int:
        return len(self._triggers)

    def expand(self, word: str) -> list[str]:
        """Words of the groups that ``word`` triggers, without ``word`` itself, in file order."""
        word = unicodedata.normalize("NFKC", word).lower().translate(_KATA_TO_HIRA)
        seen: list[str] = []
        for group in self._triggers.get(word, ()):
            for target in self._groups[group]:
                if target != word and target not in seen:
                    seen.append(target)
        return seen
