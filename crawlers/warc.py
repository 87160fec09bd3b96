"""WARC/1.1 files of one crawl run: gzip member per record, size rotation, crash-safe naming.

Files are written as `<name>.warc.gz.open` and renamed to `<name>.warc.gz` on close, so readers
(pipelines/rawio.py globs `*.warc.gz`) never see half a file. Each record is its own gzip
member and is flushed to the OS after writing, so a SIGKILL leaves at most one torn member at the
end; `recover_open_file` cuts it off and renames the file. warcio builds the records (headers,
digests); we gzip them ourselves to choose the compression level (warcio hard-codes level 9).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

OPEN_SUFFIX = ".open"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Scrapy hands us de-chunked bodies: keep the header for the record, under a name that does not
# make WARC readers try to de-chunk again.
HOP_BY_HOP_RENAMES = {"transfer-encoding": "X-Crawler-Transfer-Encoding"}


@dataclass
class ClosedFile:
    name: str
    path: Path
    size: int
    sha256: str
    records: int


@dataclass
class HttpExchange:
    """One request/response as seen on the wire (body = raw, still content-encoded)."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    protocol: str
    response_headers: list[tuple[str, str]]
    body: bytes
    ip_address: str | None = None
    refers_to_date: str | None = None   # for 304 revisits: WARC-Date of the earlier capture
    extra: dict[str, str] = field(default_factory=dict)


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _gzip_member(data: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(data) + compressor.flush()


class WarcRunWriter:
    """Appends records to `<raw_dir>/<prefix>-<run_id>-<seq>.warc.gz.open`, rotating by size."""

    def __init__(self, raw_dir: Path, run_id: str, *, prefix: str = "healthnews", max_bytes: int = 100 << 20,
                 compresslevel: int = 6, warcinfo: dict[str, str] | None = None) -> None:
        self.raw_dir = raw_dir
        self.run_id = run_id
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.compresslevel = compresslevel
        self.warcinfo = dict(warcinfo or {})
        self.closed_files: list[ClosedFile] = []
        self._builder = WARCWriter(io.BytesIO(), gzip=False, warc_version="1.1")
        self._file: io.BufferedWriter | None = None
        self._path: Path | None = None
        self._hash = hashlib.sha256()
        self._size = 0
        self._records = 0
        self._seq = 0

    # -- file lifecycle -----------------------------------------------------------------------------
    def _open_next(self) -> None:
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        name = f"{self.prefix}-{self.run_id}-{self._seq:05d}.warc.gz"
        self._seq += 1
        self._path = self.raw_dir / (name + OPEN_SUFFIX)
        self._file = open(self._path, "xb")  # noqa: SIM115 (lives until close())
        self._hash = hashlib.sha256()
        self._size = 0
        self._records = 0
        info = {"software": "healthnews-etl crawlers (Scrapy + warcio)", "format": "WARC File Format 1.1",
                "isPartOf": self.run_id, **self.warcinfo}
        self._append(self._builder.create_warcinfo_record(name, info))

    def close(self) -> None:
        """Close the current file and rename it to its final name."""
        if self._file is None or self._path is None:
            return
        self._file.flush()
        self._file.close()
        final = self._path.with_name(self._path.name[: -len(OPEN_SUFFIX)])
        self._path.rename(final)
        self.closed_files.append(ClosedFile(final.name, final, self._size, self._hash.hexdigest(), self._records))
        self._file = None
        self._path = None

    # -- records ------------------------------------------------------------------------------------
    def _serialize(self, record) -> bytes:
        buffer = io.BytesIO()
        self._builder.out = buffer
        self._builder.write_record(record)
        return buffer.getvalue()

    def _append(self, record) -> None:
        data = _gzip_member(self._serialize(record), self.compresslevel)
        assert self._file is not None
        self._file.write(data)
        self._file.flush()  # into the OS page cache: survives a SIGKILL of this process
        self._hash.update(data)
        self._size += len(data)
        self._records += 1

    def write_exchange(self, exchange: HttpExchange) -> str:
        """Write the response (or a revisit for 304) plus its request; returns the record id."""
        if self._file is None or self._size >= self.max_bytes:
            self.close()
            self._open_next()
        headers = [(HOP_BY_HOP_RENAMES.get(k.lower(), k), v) for k, v in exchange.response_headers]
        http_headers = StatusAndHeaders(_status_line(exchange.status), headers, protocol=exchange.protocol)
        warc_headers = {"WARC-IP-Address": exchange.ip_address} if exchange.ip_address else {}
        warc_headers.update(exchange.extra)
        if exchange.status == 304:
            record = self._builder.create_warc_record(
                exchange.url, "revisit", http_headers=http_headers, warc_headers_dict=warc_headers)
            record.rec_headers.add_header("WARC-Profile", REVISIT_NOT_MODIFIED)
            record.rec_headers.add_header("WARC-Refers-To-Target-URI", exchange.url)
            if exchange.refers_to_date:
                record.rec_headers.add_header("WARC-Refers-To-Date", exchange.refers_to_date)
        else:
            record = self._builder.create_warc_record(
                exchange.url, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
                http_headers=http_headers, warc_headers_dict=warc_headers)
        path = exchange.url.split("/", 3)[3] if exchange.url.count("/") >= 3 else ""
        request_line = f"{exchange.method} /{path} "
        request = self._builder.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(exchange.request_body), length=len(exchange.request_body),
            http_headers=StatusAndHeaders(request_line.strip(), exchange.request_headers, protocol="HTTP/1.1",
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": record.rec_headers.get_header("WARC-Date")})
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        request.rec_headers.add_header("WARC-Concurrent-To", record_id)
        self._append(record)
        self._append(request)
        return record_id


def now_warc_date() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CapturedResponse:
    """Where a response/revisit record lives, for resume (replay instead of a second fetch)."""

    url: str
    status: int
    path: Path
    offset: int


def recover_open_file(path: Path) -> Path:
    """Cut a crashed `*.warc.gz.open` after its last complete record and rename it `*.warc.gz`."""
    good_end = 0
    with open(path, "rb") as stream:
        try:
            iterator = ArchiveIterator(stream)
            for record in iterator:
                record.content_stream().read()
                good_end = iterator.get_record_offset() + iterator.get_record_length()
        except Exception:  # noqa: BLE001 - a torn tail is exactly what we are cutting off
            pass
    # A valid gzip member ends exactly at good_end: double-check by decompressing the kept prefix.
    with open(path, "rb") as stream:
        kept = stream.read(good_end)
    try:
        gzip.decompress(kept)
    except (OSError, EOFError):
        good_end = 0
    with open(path, "r+b") as stream:
        stream.truncate(good_end)
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    path.rename(final)
    return final


def captured_responses(path: Path) -> list[CapturedResponse]:
    """Every response/revisit record of a closed file (url, HTTP status, offset)."""
    found: list[CapturedResponse] = []
    with open(path, "rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            if record.rec_type in ("response", "revisit") and record.http_headers is not None:
                status = int(record.http_headers.get_statuscode() or 0)
                url = record.rec_headers.get_header("WARC-Target-URI")
                found.append(CapturedResponse(url, status, path, iterator.get_record_offset()))
    return found


def read_captured(captured: CapturedResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and raw (still content-encoded) body of one stored response."""
    with open(captured.path, "rb") as stream:
        stream.seek(captured.offset)
        record = next(iter(ArchiveIterator(stream)))
        body = record.raw_stream.read()
        return int(record.http_headers.get_statuscode()), list(record.http_headers.headers), body
