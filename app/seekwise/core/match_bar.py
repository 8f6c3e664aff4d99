"""Where this library's best passage for a query about nothing in it lies: the bar a match must clear.

A large library holds a close look-alike for anything, a small one for little, so no fixed cosine
tells a match from the nearest stranger (see search.BAR_MARGIN for the figures). Each library measures
its own: the median of its best cosines for NULL_QUERIES, everyday topics that no one library is about
(a few may be: the median does not mind). Kept beside the vector index, per model, and measured again
when the searchable passages have grown or shrunk by a tenth."""

from __future__ import annotations

import json
import math
import statistics
import threading
from collections.abc import Callable
from pathlib import Path

from seekwise.core.paths import save_json_quietly
from seekwise.core.search import BAR_MARGIN, BAR_MARGIN_PER_DECADE


NULL_QUERIES = (
    "how to train a puppy to sit", "the rules of cricket explained", "best time of year to visit Iceland",
    "symptoms of iron deficiency in teenagers", "history of the Ottoman empire", "how volcanoes form",
    "a recipe for lemon drizzle cake", "choosing running shoes for flat feet", "the plot of a famous opera",
    "how to knit a scarf for beginners", "caring for orchids indoors", "what causes the northern lights",
    "learning to play jazz piano chords", "medieval castle defences", "how bees make honey",
    "tips for a first marathon", "planning a wedding on a budget", "the life cycle of a butterfly",
    "how to change a baby's nappy", "famous paintings of the renaissance", "rules of chess castling",
    "fishing for trout in rivers", "how to brew green tea properly", "the migration of whales",
    "skiing technique for beginners", "how to grow roses from cuttings", "the causes of the first world war",
    "poems about the sea", "how to fix a dripping tap", "birdwatching in winter",
    "ancient egyptian burial customs", "how to make sushi at home", "the physics of a rainbow",
    "choosing a family car", "yoga poses for back pain", "the history of the bicycle",
    "writing a wedding speech", "how coral reefs are threatened", "the best board games for children",
    "keeping chickens in the garden",
)
FILE_NAME = "match-bar.json"
REMEASURE_SHARE = 0.1


def bar_from(best_cosines: list[float], passages: int) -> float:
    return bar_over(statistics.median(best_cosines), passages)


def bar_over(median: float, passages: int) -> float:
    return median + BAR_MARGIN + BAR_MARGIN_PER_DECADE * math.log10(max(passages, 1))


class MatchBar:
    """The bar for one library and model; `measure` gives the best cosine of each null query."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self._lock = threading.Lock()
        self._known: tuple[int, float] | None = None   # (searchable passages when measured, their median)

    def get(self, passages: int, measure: Callable[[], list[float]]) -> float | None:
        """The bar for a library of `passages` searchable passages; None when it has none."""
        if passages <= 0:
            return None
        with self._lock:
            known = self._known or self._read()
            if known is None or abs(passages - known[0]) > REMEASURE_SHARE * known[0]:
                best = measure()
                if not best:
                    return None
                known = (passages, statistics.median(best))
                self._write(known)
            self._known = known
            return bar_over(known[1], known[0])

    def _read(self) -> tuple[int, float] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return int(data["passages"]), float(data["median"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, known: tuple[int, float]) -> None:
        """Best effort: a reader without write access measures again next time, nothing is lost.
        Unrounded, so every process computes the same bar."""
        save_json_quietly(self.path, {"passages": known[0], "median": known[1]})
