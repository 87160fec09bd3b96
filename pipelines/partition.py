"""Hash partitioning of Arrow tables into bucket files on disk: the bounded-memory merge.

Why: merging N pages needs every observation of one key (article_id, related_id, policy_id,
ranking_id) together, but never all keys at once. Rows are routed to K bucket files by a hash of
their key, so all observations of a key land in one bucket, in input order (the "first input wins"
merge rules keep working unchanged), and each bucket is merged alone. K grows with the row count,
so a bucket's size, and with it the merge's peak memory, does not.

Bucket files are Arrow IPC streams (uncompressed, written batch by batch, read back whole; the
stream format because batches carry their own dictionaries): they live only for one merge under
the run's work directory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.validate import conform

BUCKET_ROWS = 10_000  # rows per bucket (per table): bounds the memory of one bucket's merge
READ_BATCH_ROWS = 8_192
_HASH_BYTES = 8


def _libc_trim() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # pragma: no cover - not glibc (macOS, musl): nothing to trim
        return None


_LIBC = _libc_trim()


def release_memory() -> None:
    """Give freed memory back to the OS between buckets and stages.

    Arrow's pool releases its unused buffers; glibc keeps freed heap pages (numpy temporaries,
    Python objects) mapped unless asked, which made RSS drift upward bucket after bucket even
    though the live data stayed constant. `malloc_trim(0)` returns them (glibc only).
    """
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def num_buckets(rows: int, bucket_rows: int = BUCKET_ROWS) -> int:
    return max(1, math.ceil(rows / bucket_rows))


def parquet_rows(path: Path) -> int:
    """Row count from the Parquet footer (no data read)."""
    return pq.ParquetFile(path).metadata.num_rows if Path(path).exists() else 0


def bucket_of(column: pa.Array | pa.ChunkedArray, k: int) -> np.ndarray:
    """Bucket (0..k-1) of every row from the first 8 bytes of its string key, vectorised.

    Keys are hex digests (stable_id), so their first bytes are uniform; the bytes still go
    through splitmix64 so any other key format spreads too. Null keys go to bucket 0.
    """
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(arr)
    if k == 1 or n == 0:
        return np.zeros(n, dtype=np.int64)
    arr = arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.zeros(1, np.uint8)
    if data.size == 0:
        data = np.zeros(1, np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(_HASH_BYTES):
            pos = starts + j
            byte = np.where(pos < ends, data[np.minimum(pos, data.size - 1)], 0).astype(np.uint64)
            h = h * np.uint64(257) + byte
        h = h + np.uint64(0x9E3779B97F4A7C15)
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        h = h ^ (h >> np.uint64(31))
    return (h % np.uint64(k)).astype(np.int64)


class Partitioner:
    """Append tables to K bucket files of one schema, routed by a key column, order kept."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema, k: int, key: str) -> None:
        self.dir = Path(out_dir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.schema, self.k, self.key = schema, k, key
        self._writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
        self._sinks: dict[int, pa.NativeFile] = {}

    def path(self, bucket: int) -> Path:
        return self.dir / f"{bucket:05d}.arrow"

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if table.num_rows == 0:
            return
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        if table.num_rows > READ_BATCH_ROWS:  # route big inputs in slices: bounded copies
            for start in range(0, table.num_rows, READ_BATCH_ROWS):
                self.write(table.slice(start, READ_BATCH_ROWS))
            return
        table = conform(table, self.schema)
        buckets = bucket_of(table[self.key], self.k)
        order = np.argsort(buckets, kind="stable")
        counts = np.bincount(buckets, minlength=self.k)
        routed = table.take(pa.array(order)) if self.k > 1 else table
        start = 0
        for bucket, count in enumerate(counts):
            if count:
                self._writer(bucket).write_table(routed.slice(start, int(count)))
            start += int(count)

    def _writer(self, bucket: int) -> pa.ipc.RecordBatchStreamWriter:
        if bucket not in self._writers:
            self._sinks[bucket] = pa.OSFile(str(self.path(bucket)), "wb")
            self._writers[bucket] = pa.ipc.new_stream(self._sinks[bucket], self.schema)
        return self._writers[bucket]

    def close(self) -> None:
        for bucket, writer in self._writers.items():
            writer.close()
            self._sinks[bucket].close()
        self._writers.clear()
        self._sinks.clear()

    def read(self, bucket: int) -> pa.Table:
        return read_arrow(self.path(bucket), self.schema)


def read_arrow(path: Path, schema: pa.Schema | None) -> pa.Table:
    """A whole bucket file (empty table of `schema` when the bucket got no rows)."""
    if not Path(path).exists():
        if schema is None:
            raise FileNotFoundError(path)
        return schema.empty_table()
    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_stream(source).read_all()


def iter_arrow(paths: list[Path]) -> Iterator[pa.Table]:
    """Stream the tables of several bucket files, one file at a time (publish / state writes)."""
    for path in paths:
        if Path(path).exists():
            with pa.OSFile(str(path), "rb") as source:
                for batch in pa.ipc.open_stream(source):
                    yield pa.Table.from_batches([batch])


def column_reader(paths: dict[str, list[Path]],
                  extra: dict[str, pa.Table]) -> Callable[[str, list[str]], Iterator[pa.Table]]:
    """`read(name, columns)` over bucket files (e.g. the published buckets, for the integrity check
    `pipelines.validate.check_references`): memory-mapped, so only the columns read are touched
    and nothing is copied; `extra` = tables already in memory (the hospitals table)."""
    def read(name: str, columns: list[str]) -> Iterator[pa.Table]:
        if name in extra:
            yield extra[name].select(columns)
            return
        for path in paths.get(name, []):
            with pa.memory_map(str(path)) as source:
                for batch in pa.ipc.open_stream(source):
                    yield pa.Table.from_batches([batch]).select(columns)
    return read


def parquet_batches(path: Path | None, columns: list[str] | None = None,
                    batch_rows: int = READ_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Batches of a Parquet file (nothing when the path is None or missing): big state tables
    are routed to buckets without ever being read whole."""
    if path is None or not Path(path).exists():
        return
    yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns)
