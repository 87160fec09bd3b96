"""Serve a `SampleSite` over real HTTP on loopback (tests, benches, `healthnews serve-sample`).

A stdlib `ThreadingHTTPServer` in a daemon thread is enough: the crawler under test must meet a
real socket, real headers and keep-alive, but we need no extra dependency to provide them. The
server records every request (method, path) so crawl tests can assert exactly which URLs were hit.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from healthnews.sample_site.site import SampleSite


class _Handler(BaseHTTPRequestHandler):
    server_version = "HealthnewsSample/1.0"
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections must not pin threads forever

    def _serve(self, include_body: bool) -> None:
        owner: SampleSiteServer = self.server.owner  # type: ignore[attr-defined]
        owner._record(self.command, self.path)
        status, headers, body = owner.site.respond(self.path, dict(self.headers.items()))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status == 304:
            pass
        elif "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if include_body and status != 304:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve(include_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(include_body=False)

    def _method_not_allowed(self) -> None:
        owner: SampleSiteServer = self.server.owner  # type: ignore[attr-defined]
        owner._record(self.command, self.path)
        length = self.headers.get("Content-Length", "0")
        if length.isdigit():
            self.rfile.read(int(length))  # keep the keep-alive stream in sync
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = _method_not_allowed  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests and benches must not drown in access logs (see `requests` instead)."""


class SampleSiteServer:
    """Context manager running `site` on http://host:port/ in a daemon thread."""

    def __init__(self, site: SampleSite | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.site = site if site is not None else SampleSite()
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []

    # -- request log ---------------------------------------------------------------
    def _record(self, method: str, path: str) -> None:
        with self._log_lock:
            self._requests.append((method, path))

    @property
    def requests(self) -> list[tuple[str, str]]:
        """A copy of every (method, path-with-query) received so far, in arrival order."""
        with self._log_lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._log_lock:
            return len(self._requests)

    def reset_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    # -- lifecycle -------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> SampleSiteServer:
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((self.host, self.port), _Handler)
        httpd.daemon_threads = True
        httpd.owner = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sample-site-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SampleSiteServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_forever(host: str, port: int) -> None:
    """`healthnews serve-sample`: print the URL, serve until Ctrl-C, then shut down cleanly."""
    server = SampleSiteServer(SampleSite(), host=host, port=port)
    try:
        server.start()
    except OSError as exc:
        from healthnews.errors import UserError

        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    print(f"Serving the sample site at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            threading.Event().wait(3600)
    except KeyboardInterrupt:
        print("Stopping the sample site.", flush=True)
    finally:
        server.stop()
