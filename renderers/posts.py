"""Social post texts: each network's length rule, checked when the post is rendered."""

from __future__ import annotations

import unicodedata

import regex

from .spec import NETWORKS, PostSpec, RenderError, RenderResult

# A link ends before trailing punctuation, as the networks' own parsers see it.
URL = regex.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,:;!?)\]]", regex.IGNORECASE)
MENTION = regex.compile(r"@(\w+)@[\w.-]+\w")  # Mastodon counts @user@domain as @user
URL_WEIGHT = 23  # X and Mastodon count every link as 23 characters, whatever its length
LIMITS = {"x": 280, "linkedin": 3000, "mastodon": 500, "bluesky": 300, "facebook": 63206,
          "webhook": 10000}
UNITS = {"x": "weighted characters", "linkedin": "characters", "mastodon": "characters",
         "bluesky": "graphemes", "facebook": "characters", "webhook": "characters"}
# twitter-text v3: these code point ranges weigh 1, everything else (CJK, emoji...) 2.
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\uFE0F|\u20E3")


def _x_weight(grapheme: str) -> int:
    """Weight of one grapheme under X's counting rules."""
    if _EMOJI.search(grapheme):
        return 2
    return sum(1 if any(a <= ord(c) <= b for a, b in _X_LIGHT) else 2 for c in grapheme)


def _split_urls(text: str) -> tuple[int, str]:
    """Number of URLs in text and the text with them removed."""
    return len(URL.findall(text)), URL.sub("", text)


def post_length(network: str, text: str) -> int:
    """Length of text as network counts it."""
    text = unicodedata.normalize("NFC", text)
    if network == "x":
        urls, rest = _split_urls(text)
        return urls * URL_WEIGHT + sum(_x_weight(g) for g in regex.findall(r"\X", rest))
    if network == "mastodon":  # graphemes, like Mastodon's own validator
        urls, rest = _split_urls(text)
        return urls * URL_WEIGHT + len(regex.findall(r"\X", MENTION.sub(r"@\1", rest)))
    if network == "bluesky":
        return len(regex.findall(r"\X", text))
    return len(text)


def render_post(spec: PostSpec) -> RenderResult:
    """Check the network's limit and return the post text as UTF-8 (raises RenderError)."""
    if spec.network not in NETWORKS:
        raise RenderError(f"unknown network {spec.network!r}; expected one of {NETWORKS}")
    length, limit = post_length(spec.network, spec.text), LIMITS[spec.network]
    if length > limit:
        raise RenderError(f"{spec.network} post is {length} {UNITS[spec.network]}; "
                          f"the limit is {limit}")
    extra = {"network": spec.network, "length": length, "limit": limit}
    return RenderResult(spec.text.encode("utf-8"), "text/plain; charset=utf-8", "txt",
                        text=spec.text, extra=extra)
