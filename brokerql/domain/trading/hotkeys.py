"""Hotkeys of the VIP fast-trading client (D2): a fixed action set and canonical key chords."""

from __future__ import annotations

from enum import StrEnum

MAX_HOTKEYS = 50
_MODIFIERS = ("CTRL", "ALT", "SHIFT", "META")  # canonical order
_ALIASES = {
    "CONTROL": "CTRL",
    "CMD": "META",
    "COMMAND": "META",
    "WIN": "META",
    "OPTION": "ALT",
    "ESCAPE": "ESC",
    "RETURN": "ENTER",
    "DEL": "DELETE",
    "PGUP": "PAGEUP",
    "PGDN": "PAGEDOWN",
}
_NAMED_KEYS = frozenset(
    {
        "ESC",
        "ENTER",
        "SPACE",
        "TAB",
        "BACKSPACE",
        "DELETE",
        "INSERT",
        "HOME",
        "END",
        "PAGEUP",
        "PAGEDOWN",
        "UP",
        "DOWN",
        "LEFT",
        "RIGHT",
    }
    | {f"F{n}" for n in range(1, 25)}
    | {f"NUM{n}" for n in range(10)}
)
_PUNCTUATION = frozenset("`-=[]\\;',./")


class HotkeyAction(StrEnum):
    """What a hotkey may do: the fixed set the client knows how to perform."""

    BUY = "BUY"
    SELL = "SELL"
    BUY_AT_ASK1 = "BUY_AT_ASK1"
    SELL_AT_BID1 = "SELL_AT_BID1"
    CANCEL_SELECTED = "CANCEL_SELECTED"
    CANCEL_LAST = "CANCEL_LAST"
    CANCEL_SYMBOL = "CANCEL_SYMBOL"
    CANCEL_ALL = "CANCEL_ALL"
    CANCEL_ALL_BUYS = "CANCEL_ALL_BUYS"
    CANCEL_ALL_SELLS = "CANCEL_ALL_SELLS"
    FOCUS_SYMBOL = "FOCUS_SYMBOL"
    FOCUS_PRICE = "FOCUS_PRICE"
    FOCUS_QUANTITY = "FOCUS_QUANTITY"
    SWITCH_ACCOUNT = "SWITCH_ACCOUNT"
    TOGGLE_VIEW_MODE = "TOGGLE_VIEW_MODE"
    REFRESH = "REFRESH"


def normalize_chord(chord: str) -> str | None:
    """Canonical form of a key chord ("shift+ctrl+b" -> "CTRL+SHIFT+B"), None if it is not one.

    A chord is any set of modifiers plus exactly one key; canonical forms make "Ctrl+B" and
    "b+control" the same chord, so duplicates cannot hide behind spelling.
    """
    if not isinstance(chord, str) or not chord.strip() or len(chord) > 40:
        return None
    parts = [p.strip().upper() for p in chord.replace(" ", "").split("+")]
    if chord.strip().endswith("++"):  # "Ctrl++" means the plus key
        parts = [*parts[:-2], "+"]
    parts = [_ALIASES.get(p, p) for p in parts]
    modifiers = [p for p in parts if p in _MODIFIERS]
    keys = [p for p in parts if p not in _MODIFIERS]
    if len(keys) != 1 or len(set(modifiers)) != len(modifiers):
        return None
    key = keys[0]
    valid = key in _NAMED_KEYS or key in _PUNCTUATION or key == "+" or (len(key) == 1 and key.isalnum())
    if not valid or not key.isascii():
        return None
    return "+".join([m for m in _MODIFIERS if m in modifiers] + [key])
