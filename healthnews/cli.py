"""`healthnews` command line: the stable interface operators and schedulers call.

Each sub-command is a thin adapter: it validates arguments, calls one function in `flows`,
`pipelines` or the sample site, and turns user mistakes into one clear line on stderr and a
non-zero exit code (no tracebacks for those). Heavy imports (Prefect, Scrapy) happen inside
the sub-command that needs them so that `healthnews --help` and `healthnews parse` stay fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from healthnews.errors import UserError

DEFAULT_DATA_DIR = Path("data")

EPILOG = """\
examples:
  healthnews run                                 # sample site -> data/raw -> data/clean
  healthnews run --start-url https://example.org/ --data-dir /srv/healthnews
  healthnews crawl --start-url https://example.org/   # crawl only: raw WARC under data/raw
  healthnews serve-sample --port 8765            # then: scrapy crawl healthnews -a start_url=http://127.0.0.1:8765/
  healthnews parse page.html dump.txt https://example.org/a/1.html
  healthnews etl --raw data/raw --clean data/clean
  healthnews serve --cron "0 3 * * *"            # nightly pipeline runs (Asia/Shanghai)
"""


def _add_crawl_target_options(command: argparse.ArgumentParser, *, dirs: str, output: str) -> None:
    """--start-url / --data-dir / --json, shared by the commands that crawl (`run`, `crawl`)."""
    command.add_argument("--start-url", action="append", dest="start_urls", metavar="URL",
                         help="crawl this site instead of the bundled sample site (repeatable)")
    command.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                         help=f"root of {dirs} (default: ./data)")
    command.add_argument("--json", action="store_true", help=f"print the {output} as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="healthnews",
        description="Crawl health-news Q&A pages, parse them and publish Parquet datasets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="main job: crawl (sample site by default), archive raw pages, publish clean Parquet",
        description="Run the whole pipeline once: start the bundled sample site on 127.0.0.1 unless "
        "--start-url is given, crawl it into DATA_DIR/raw (WARC), then parse, normalize, dedupe and "
        "publish a Parquet snapshot into DATA_DIR/clean and print a summary.",
    )
    _add_crawl_target_options(run, dirs="raw/, clean/ and state/", output="summary")

    crawl = sub.add_parser(
        "crawl",
        help="crawl only: archive raw pages (WARC) under DATA_DIR/raw, no ETL",
        description="Run the healthnews spider once (the bundled sample site on 127.0.0.1 unless "
        "--start-url is given) into DATA_DIR/raw/<run_id>/ and print the crawl report: pages "
        "archived / failed / filtered by reason / not modified, article items, the run's manifest. "
        "Incremental: state in DATA_DIR/state/crawl makes a second crawl send conditional requests. "
        "Publish with `healthnews etl` afterwards.",
    )
    _add_crawl_target_options(crawl, dirs="raw/ and state/", output="report")

    serve_sample = sub.add_parser(
        "serve-sample",
        help="serve the bundled sample site on 127.0.0.1 for manual spider runs",
        description="Serve the deterministic sample site (built from the bundled seed pages) until "
        "interrupted with Ctrl-C.",
    )
    serve_sample.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 = any free port)")
    serve_sample.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")

    parse = sub.add_parser(
        "parse",
        help="parse saved pages (HTML or plain-text dumps) or URLs and print one JSON object per page",
        description="Parse each PATH_OR_URL (an HTML file, a plain-text page dump in the seed format, "
        "or an http(s) URL) and print one JSON object per line. See docs/datasets.md for the fields.",
    )
    parse.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    parse.add_argument("--indent", type=int, default=None, help="pretty-print JSON with this indent")

    etl = sub.add_parser(
        "etl",
        help="raw archive -> published datasets (incremental)",
        description="Parse raw WARC files not processed before, merge them into the ETL state, "
        "dedupe, validate and publish one atomic Parquet snapshot.",
    )
    etl.add_argument("--raw", type=Path, default=DEFAULT_DATA_DIR / "raw", help="raw archive dir (default data/raw)")
    etl.add_argument("--clean", type=Path, default=DEFAULT_DATA_DIR / "clean",
                     help="published datasets dir (default data/clean)")
    etl.add_argument("--json", action="store_true", help="print the summary as JSON")

    serve = sub.add_parser(
        "serve",
        help="serve the `pipeline` flow on a cron schedule (Prefect flow.serve)",
        description="Start a long-running Prefect process that runs the pipeline flow on a cron "
        "schedule. Defaults come from flows/settings; see README 'Scheduling'.",
    )
    serve.add_argument("--cron", default=None, help='cron expression (default "0 3 * * *")')
    serve.add_argument("--timezone", default=None, help="IANA time zone of the cron (default Asia/Shanghai)")
    serve.add_argument("--start-url", action="append", dest="start_urls", metavar="URL",
                       help="site to crawl (repeatable; required for a real site)")
    serve.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    return parser


def _json_default(value: object) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _cmd_run(args: argparse.Namespace) -> int:
    from flows.main_job import format_summary, run_main_job

    summary = run_main_job(start_urls=args.start_urls, data_dir=args.data_dir)
    print(json.dumps(summary, ensure_ascii=False, default=_json_default, indent=2) if args.json
          else format_summary(summary))
    return 0 if summary.get("ok", True) else 1


def _cmd_crawl(args: argparse.Namespace) -> int:
    from flows.main_job import format_summary, run_crawl_job

    summary = run_crawl_job(start_urls=args.start_urls, data_dir=args.data_dir)
    print(json.dumps(summary, ensure_ascii=False, default=_json_default, indent=2) if args.json
          else format_summary(summary))
    return 0


def _cmd_serve_sample(args: argparse.Namespace) -> int:
    from healthnews.sample_site.server import serve_forever

    serve_forever(host=args.host, port=args.port)
    return 0


def _cmd_parse(args: argparse.Namespace) -> int:
    from healthnews.fetch import read_input
    from pipelines.parse import parse_page

    failures = 0
    for item in args.inputs:
        try:
            page = read_input(item)
        except UserError as exc:
            print(f"healthnews parse: error: {exc}", file=sys.stderr)
            failures += 1
            continue
        record = parse_page(page.content, url=page.url, content_type=page.content_type, source=page.source)
        print(json.dumps(record, ensure_ascii=False, default=_json_default, indent=args.indent), flush=True)
    return 1 if failures else 0


def _cmd_etl(args: argparse.Namespace) -> int:
    from flows.main_job import format_summary, run_etl_job

    if not args.raw.is_dir():
        raise UserError(f"raw archive directory not found: {args.raw}")
    summary = run_etl_job(raw_dir=args.raw, clean_dir=args.clean)
    print(json.dumps(summary, ensure_ascii=False, default=_json_default, indent=2) if args.json
          else format_summary(summary))
    return 0 if summary.get("ok", True) else 1


def _cmd_serve(args: argparse.Namespace) -> int:
    from flows.schedule import serve_pipeline

    serve_pipeline(cron=args.cron, timezone=args.timezone, start_urls=args.start_urls, data_dir=args.data_dir)
    return 0


COMMANDS = {
    "run": _cmd_run,
    "crawl": _cmd_crawl,
    "serve-sample": _cmd_serve_sample,
    "parse": _cmd_parse,
    "etl": _cmd_etl,
    "serve": _cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"healthnews {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"healthnews {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `healthnews parse … | head`: the reader went away; stop quietly like other Unix tools
        # (point stdout at /dev/null so the interpreter's final flush does not raise again).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
