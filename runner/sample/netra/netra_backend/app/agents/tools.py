"""Tools agents call. Deterministic and in-process, so the chat flow is testable offline."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["TOOLS", "Tool"]

_WORD = re.compile(r"[a-z0-9']+")
_STOP = frozenset("a an and are can do for how i in is it my of on or the to we what with".split())

# Blended price of one million tokens, in dollars, per model tier (illustrative figures).
_PRICE_PER_MTOK = {"small": 0.6, "medium": 3.0, "large": 15.0}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _keywords(text: str) -> dict[str, Any]:
    counts = Counter(w for w in _words(text) if w not in _STOP)
    return {"keywords": [w for w, _ in counts.most_common(5)]}


def _token_estimate(text: str) -> dict[str, Any]:
    tokens = max(1, round(len(_words(text)) * 1.3))
    return {"tokens": tokens}


def _cost_estimate(text: str) -> dict[str, Any]:
    tokens = _token_estimate(text)["tokens"] * 1000  # the request, as a daily volume
    return {
        tier: round(tokens / 1_000_000 * price, 4) for tier, price in _PRICE_PER_MTOK.items()
    }


def _sentiment(text: str) -> dict[str, Any]:
    words = set(_words(text))
    good = len(words & {"great", "good", "fast", "thanks", "love", "cheap"})
    bad = len(words & {"slow", "bad", "expensive", "broken", "error", "latency"})
    return {"score": good - bad, "label": "positive" if good >= bad else "negative"}


@dataclass(frozen=True)
class Tool:
    """A named pure function of the user's message; ``run`` yields once like real I/O."""

    name: str
    description: str

    async def run(self, text: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        return _IMPLEMENTATIONS[self.name](text)


_IMPLEMENTATIONS = {
    "keyword_extractor": _keywords,
    "token_estimator": _token_estimate,
    "cost_estimator": _cost_estimate,
    "sentiment_probe": _sentiment,
}

TOOLS = {
    "keyword_extractor": Tool("keyword_extractor", "Pulls the main topics out of a message"),
    "token_estimator": Tool("token_estimator", "Estimates how many tokens a message costs"),
    "cost_estimator": Tool("cost_estimator", "Prices a daily volume of such messages"),
    "sentiment_probe": Tool("sentiment_probe", "Tells happy users from frustrated ones"),
}
