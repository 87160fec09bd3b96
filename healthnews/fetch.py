"""Read one `healthnews parse` input: a local file or an http(s) URL.

Kept out of `pipelines/` because it does I/O; the parser itself only sees bytes.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from healthnews.errors import UserError

MAX_INPUT_BYTES = 50 * 1024 * 1024
FETCH_TIMEOUT_S = 20.0
USER_AGENT = "healthnews-etl/0.1 (+parse command)"


@dataclass(frozen=True)
class InputPage:
    content: bytes
    url: str | None
    content_type: str | None
    source: str


def read_input(item: str) -> InputPage:
    """Return the raw bytes of a path or URL, raising UserError with a one-line reason."""
    if item.startswith(("http://", "https://")):
        return _fetch_url(item)
    path = Path(item)
    if not path.exists():
        raise UserError(f"{item}: no such file")
    if path.is_dir():
        raise UserError(f"{item}: is a directory, expected a file")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise UserError(f"{item}: file is {size} bytes, over the {MAX_INPUT_BYTES}-byte limit")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{item}: cannot read: {exc.strerror or exc}") from exc
    return InputPage(content=content, url=None, content_type=None, source=str(path))


def _fetch_url(url: str) -> InputPage:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310 (http/https only)
            content = response.read(MAX_INPUT_BYTES + 1)
            content_type = response.headers.get("Content-Type")
            final_url = response.geturl()
    except urllib.error.HTTPError as exc:
        raise UserError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise UserError(f"{url}: unreachable ({exc.reason})") from exc
    except (TimeoutError, OSError) as exc:
        raise UserError(f"{url}: unreachable ({exc})") from exc
    if len(content) > MAX_INPUT_BYTES:
        raise UserError(f"{url}: response over the {MAX_INPUT_BYTES}-byte limit")
    return InputPage(content=content, url=final_url, content_type=content_type, source=url)
