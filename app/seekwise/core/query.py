"""What a user types, split into what each retriever needs: words, "exact phrases", -excluded words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)
# `-word` leaves out files holding the word; `--onto`, `-s`, `-rf` and `-1` are what people search for
# (options and numbers), so an exclusion is one dash, then a letter, then at least two more characters.
_EXCLUSION = re.compile(r"-[^\W\d_]\S{2,}", re.UNICODE)

# Words so common that asking FTS5 for them costs time and adds nothing BM25 would rank on.
STOPWORDS = frozenset("""
a an and are as at be but by can could did do does for from had has have how i if in into is it
its me my no not of on or our so than that the their them then there these they this to was we
were what when where which who why will with would you your
""".split())


@dataclass(frozen=True)
class ParsedQuery:
    text: str                                  # what the dense retriever embeds
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    compounds: list[str] = field(default_factory=list)   # os.replace, git-stash: parts that stand together

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases)

    @property
    def has_constraints(self) -> bool:
        return bool(self.phrases or self.excluded)

    def highlight_words(self) -> list[str]:
        return [w for w in self.words if w.lower() not in STOPWORDS]

    def ranking_terms(self) -> list[str]:
        """The words BM25 ranks by, as FTS5 strings: stopwords dropped unless nothing else is left. A
        compound (`os.replace`, `pg_ctl.conf`, `git-stash`) ranks as one term whose parts stand side by
        side: as loose words, "os replace atomic" put a Prolog manual's "os ... atom" passages first."""
        joined = {part for compound in self.compounds for part in _WORD.findall(compound)}
        loose = [w for w in self.words if w not in joined]
        terms = [w for w in loose if w.lower() not in STOPWORDS] or ([] if self.compounds else loose)
        return [_quote(t) for t in terms] + [_quote(c) for c in self.compounds]

    def ranking_match(self, terms: list[str] | None = None) -> str | None:
        """FTS5 expression that ranks by any of the words (or of `terms`, a subset of ranking_terms),
        phrases required, exclusions removed."""
        ranked = self.ranking_terms() if terms is None else terms
        parts = []
        if ranked:
            parts.append("(" + " OR ".join(ranked) + ")")
        parts.extend(_quote(p) for p in self.phrases)
        if not parts:
            return None
        expr = " AND ".join(parts)
        for word in self.excluded:
            expr = f"({expr}) NOT {_quote(word)}"
        return expr

    def required_match(self) -> str | None:
        """FTS5 expression every hit must satisfy, whichever retriever found it: all the phrases."""
        return " AND ".join(_quote(p) for p in self.phrases) or None

    def excluded_match(self) -> str | None:
        """FTS5 expression no hit may satisfy: any excluded word."""
        return " OR ".join(_quote(w) for w in self.excluded) or None


def _quote(term: str) -> str:
    """An FTS5 string: every character literal, so user input can never be FTS5 syntax."""
    return '"' + term.replace('"', '""') + '"'


def parse_query(raw: str) -> ParsedQuery:
    words: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    semantic: list[str] = []
    compounds: list[str] = []
    for m in _TOKEN.finditer(raw):
        negative, phrase, bare = m.group(1), m.group(2), m.group(3)
        if phrase is not None:
            phrase = " ".join(_WORD.findall(phrase))
            if not phrase:
                continue
            if negative:
                excluded.append(phrase)
            else:
                phrases.append(phrase)
                semantic.append(phrase)
            continue
        if _EXCLUSION.fullmatch(bare):
            excluded.extend(_WORD.findall(bare[1:]))
            continue
        found = _WORD.findall(bare)
        words.extend(found)
        if len(found) > 1 and " ".join(found) not in compounds:
            compounds.append(" ".join(found))
        if found:
            semantic.append(bare)
    return ParsedQuery(" ".join(semantic), words, phrases, excluded, compounds)
