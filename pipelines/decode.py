"""Bytes -> str for fetched pages, in the order a browser would trust the evidence.

Order: charset of the HTTP Content-Type header, then `<meta charset>` / `<meta http-equiv>` in the
first 4 KB, then a byte-order mark, then strict UTF-8, then GB18030. One exception: bytes that are
valid non-ASCII UTF-8 are decoded as UTF-8 even when labelled otherwise (error
`charset_mismatch:<label>`), because such bytes are practically never meaningful GBK/latin-1 while
mislabelled UTF-8 pages are common. gbk/gb2312 labels are
decoded as GB18030 because it is a strict superset: a page labelled gb2312 that uses one rare
character outside GB2312 still decodes. Whenever the decoder had to guess (no declared charset)
with a non-UTF-8 result, or had to replace undecodable bytes, an error code is returned so the
record says so.

Huge inputs are cut at `MAX_INPUT_BYTES` before decoding (error `truncated_input`): a Q&A page is
a few tens of KB, so anything above 2 MiB is junk or an attack and must not cost seconds.
"""

from __future__ import annotations

import codecs
import re

MAX_INPUT_BYTES = 2 * 1024 * 1024

_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_META_CHARSET_RE = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I
)
_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
            "cp936": "gb18030", "euc-cn": "gb18030", "hz-gb-2312": "gb18030"}
# Header charsets that are usually a server's default rather than the page's: a <meta> charset
# that says otherwise wins over them (see decode_bytes).
_SERVER_DEFAULTS = frozenset(("iso8859-1", "cp1252", "ascii"))
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _canonical(label: str | None) -> str | None:
    """Map a charset label to a Python codec name we decode with, or None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = _ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    """Charset label of an HTTP Content-Type header value, e.g. `text/html; charset=GBK` -> `gbk`."""
    if not content_type:
        return None
    m = _HEADER_CHARSET_RE.search(content_type)
    return m.group(1).lower() if m else None


def _strict_utf8(data: bytes) -> str | None:
    """Decode as UTF-8; tolerate only a multi-byte character cut off at the very end (truncation)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            try:
                return data[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def decode_bytes(data: bytes, content_type: str | None = None) -> tuple[str, str, list[str]]:
    """Return (text, codec used, error codes). Never raises."""
    errors: list[str] = []
    if len(data) > MAX_INPUT_BYTES:
        data = data[:MAX_INPUT_BYTES]
        errors.append("truncated_input")

    declared = _canonical(charset_from_content_type(content_type))
    if declared is None or (declared in _SERVER_DEFAULTS and not data.isascii()):
        m = _META_CHARSET_RE.search(data, 0, 4096)
        meta = _canonical(m.group(1).decode("ascii", "ignore")) if m else None
        if declared is not None and meta is not None and meta != declared:
            # `charset=ISO-8859-1` is what many servers send for every page: a page that declares
            # its own charset in <meta> (gb2312) knows better. Recorded, as it is a mismatch.
            errors.append(f"charset_mismatch:{declared}")
            declared = meta
        elif declared is None:
            declared = meta
    for bom, codec in _BOMS:
        if data.startswith(bom):
            # A BOM is stronger evidence than a (possibly copy-pasted) meta tag, weaker than HTTP.
            if declared is None or charset_from_content_type(content_type) is None:
                declared = codec
            break

    if declared:
        if declared in ("utf-8", "utf-8-sig"):
            text = _strict_utf8(data[3:] if data.startswith(codecs.BOM_UTF8) else data)
            if text is not None:
                return text, "utf-8", errors
        else:
            # Valid non-ASCII UTF-8 is almost never valid-and-meaningful in another charset by
            # accident, while servers mislabelling UTF-8 pages as gbk/latin-1 is common: trust UTF-8.
            if not data.isascii() and declared not in ("utf-16", "utf-32"):
                text = _strict_utf8(data)
                if text is not None:
                    errors.append(f"charset_mismatch:{declared}")
                    return text, "utf-8", errors
            try:
                return data.decode(declared), declared, errors
            except UnicodeDecodeError:
                pass
        errors.append(f"charset_mismatch:{declared}")

    text = _strict_utf8(data)
    if text is not None:
        return text, "utf-8", errors
    try:
        text = data.decode("gb18030")
        errors.append("charset_guessed:gb18030")
        return text, "gb18030", errors
    except UnicodeDecodeError:
        pass
    errors.append("decode_replaced")
    return data.decode("utf-8", errors="replace"), "utf-8", errors
