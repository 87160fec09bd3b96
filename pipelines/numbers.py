"""Number parsing for Chinese text: Arabic (`1,200`, `0.5`), multipliers (`1.2万`, `3千`) and
Chinese numerals (`三千`, `十五`, `一百二十`, `两万五千`, `〇`).

Kept separate from figure extraction so that the ETL and tests can reuse one definition.
"""

from __future__ import annotations

__all__ = ["parse_number", "parse_chinese_numeral", "MULTIPLIERS"]

MULTIPLIERS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000, "万亿": 1_000_000_000_000}
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}


def parse_chinese_numeral(s: str) -> int | None:
    """Value of a Chinese numeral string, or None if `s` is not one.

    Handles positional units (`三千二百`), big-unit sections (`两万五千`), a leading `十` (`十五`),
    colloquial tails (`两万五` = 25000, `三千五` = 3500) and digit strings (`二〇二五` = 2025).
    """
    if not s or any(ch not in _DIGITS and ch not in _SMALL_UNITS and ch not in _BIG_UNITS for ch in s):
        return None
    if s[0] in "百千万亿":  # a unit needs a digit before it (十五 is the one exception)
        return None
    if all(ch in _DIGITS for ch in s):  # digit-by-digit form: 二〇二五
        return int("".join(str(_DIGITS[ch]) for ch in s))
    total = section = 0
    digit: int | None = None
    last_unit = 1
    for ch in s:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:  # 万 / 亿 close a section
            unit = _BIG_UNITS[ch]
            section += digit or 0
            if unit == 100_000_000:
                total = (total + section) * unit
            else:
                total += section * unit
            section, digit, last_unit = 0, None, unit
    if digit is not None:
        # 三千五 means 3500: a bare trailing digit counts one unit below the last one.
        section += digit * (last_unit // 10 if last_unit >= 10 and s[-2] in "十百千万亿" else 1)
    return total + section


def parse_number(s: str, multiplier: str | None = None) -> float | None:
    """Parse `s` (Arabic or Chinese numeral, optionally ending in 万/千/亿) times `multiplier`.

    `parse_number("1.2万") == 12000.0`, `parse_number("三千") == 3000.0`,
    `parse_number("1,200") == 1200.0`; returns None for anything that is not a number.
    """
    if not s:
        return None
    s = s.strip()
    factor = 1
    if multiplier:
        factor = MULTIPLIERS.get(multiplier)
        if factor is None:
            return None
    value: float | None
    try:
        value = float(s.replace(",", ""))
    except ValueError:
        value = None
        if s[-1] in _BIG_UNITS or s[-1] in "千百":
            head = s[:-1]
            try:
                value = float(head.replace(",", "")) * MULTIPLIERS[s[-1]]
            except ValueError:
                value = None
        if value is None and "点" in s:  # 零点五, 一点二: a Chinese decimal
            whole, _, frac = s.partition("点")
            head = parse_chinese_numeral(whole)
            digits = [parse_chinese_numeral(ch) for ch in frac]
            if head is not None and frac and all(d is not None and d < 10 for d in digits):
                value = float(f"{head}.{''.join(map(str, digits))}")
        if value is None:
            cn = parse_chinese_numeral(s)
            value = float(cn) if cn is not None else None
    return None if value is None else value * factor
