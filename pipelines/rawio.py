"""Read the raw WARC archive written by the crawler (warcio), one record at a time.

Streaming on purpose: a shard is never loaded whole; each response payload is handed to the
parser and dropped. Only `response` records carry pages; `revisit` (304) and `warcinfo` records
are counted, not parsed.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArchiveLoadFailed


@dataclass(frozen=True)
class RawRecord:
    """One WARC record reduced to what the ETL needs."""

    record_type: str          # response | revisit | request | metadata | warcinfo …
    record_id: str            # WARC-Record-ID
    url: str | None           # WARC-Target-URI
    date: datetime            # WARC-Date (UTC) = observation time
    status: int | None        # HTTP status for response/revisit records
    content_type: str | None  # HTTP Content-Type
    payload: bytes            # HTTP body (empty for non-response records)
    offset: int               # byte offset of the record in the file

    def ref(self, source: str) -> str:
        return f"{source}#{self.offset} {self.record_id}"


RAW_SUFFIXES = (".warc.gz", ".warc")


def list_raw_files(raw_dir: Path) -> list[Path]:
    """Every closed `*.warc.gz` (our crawler) or uncompressed `*.warc` (other archivers, e.g.
    `wget --warc-file --no-warc-compression`; before, these were skipped without a word) under
    raw_dir, sorted by path.

    Files still being written by the crawler carry another suffix (`.open`, `.tmp`) and are not
    matched; zero-byte files are skipped.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.exists():
        return []
    return sorted(p for p in raw_dir.rglob("*.warc*") if p.name.endswith(RAW_SUFFIXES)
                  and p.is_file() and p.stat().st_size > 0)


def file_digest(path: Path) -> str:
    """sha256 of the file content: the identity of a raw shard (names can be reused)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _parse_date(value: str | None) -> datetime:
    if not value:
        return datetime(1970, 1, 1, tzinfo=UTC)
    value = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class CorruptWarc(Exception):
    """The WARC file is truncated or not a WARC; records before the damage were yielded."""


def iter_records(path: Path) -> Iterator[RawRecord]:
    """Yield every record of a WARC file; payloads are read only for response records.

    Raises CorruptWarc (after yielding every readable record) on a truncated / damaged file.
    """
    try:
        yield from _iter_records(path)
        if str(path).endswith(".gz"):
            _check_gzip_complete(Path(path))
    except (ArchiveLoadFailed, EOFError, OSError, zlib.error, ValueError) as exc:
        raise CorruptWarc(f"{Path(path).name}: {type(exc).__name__}: {exc}") from exc


def _check_gzip_complete(path: Path) -> None:
    """warcio stops quietly at a truncated gzip member; verify every member ends properly.

    One streaming zlib pass (C speed, ~1% of the shard time) so a half-written or cut file is
    reported instead of silently losing its last records.
    """
    with open(path, "rb") as fh:
        decomp = zlib.decompressobj(31)
        pending = False  # bytes of an unfinished member were fed
        while chunk := fh.read(1 << 20):
            while chunk:
                decomp.decompress(chunk)
                pending = True
                if not decomp.eof:
                    break
                chunk = decomp.unused_data
                decomp = zlib.decompressobj(31)
                pending = False
        if pending:
            raise EOFError("last gzip member is truncated")


def _iter_records(path: Path) -> Iterator[RawRecord]:
    with open(path, "rb") as fh:
        iterator = ArchiveIterator(fh)
        for rec in iterator:
            headers = rec.rec_headers
            rtype = rec.rec_type
            status = None
            ctype = None
            if rec.http_headers is not None and rtype in ("response", "revisit"):
                try:
                    status = int(rec.http_headers.get_statuscode())
                except (TypeError, ValueError):
                    status = None
                ctype = rec.http_headers.get_header("Content-Type")
            payload = rec.content_stream().read() if rtype == "response" else b""
            yield RawRecord(
                record_type=rtype,
                record_id=headers.get_header("WARC-Record-ID") or "",
                url=headers.get_header("WARC-Target-URI"),
                date=_parse_date(headers.get_header("WARC-Date")),
                status=status,
                content_type=ctype,
                payload=payload,
                offset=iterator.get_record_offset(),
            )


def write_warc(path: Path, responses, *, warcinfo: dict | None = None) -> int:
    """Write `(url, status, headers, body, date)` tuples as WARC/1.1 `response` records (gzip per
    record, like the crawler). Used by the tests and the benchmark to build real archives; the
    file appears under its final name only when complete (write to .open, then rename).
    """
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = Path(path)
    tmp = path.with_name(path.name + ".open")
    count = 0
    with open(tmp, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, warcinfo or {"software": "healthnews-etl"}))
        for url, status, headers, body, when in responses:
            http = StatusAndHeaders(f"{status} OK" if status < 400 else f"{status} Error",
                                    list(headers.items()), protocol="HTTP/1.1")
            warc_headers = {"WARC-Date": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")} if when else None
            record = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http,
                                               warc_headers_dict=warc_headers)
            writer.write_record(record)
            count += 1
    tmp.replace(path)
    return count
