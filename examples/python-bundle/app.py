"""python-bundle: a server whose folder carries its own venv with native code.

GET / escapes a string with MarkupSafe's C extension and says which file
that extension was loaded from; GET /healthz answers ok.
"""

import http.server
import os
import signal
import sys

import markupsafe
from markupsafe import _speedups  # the C extension: fails to load on the wrong C library


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/":
            body = "escaped {} with {}\n".format(
                markupsafe.escape("<b>bundle</b>"), os.path.basename(_speedups.__file__)
            )
            code = 200
        elif self.path == "/healthz":
            body, code = "ok\n", 200
        else:
            body, code = "not found\n", 404
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    # As PID 1 in a container, a signal without a handler is ignored: stop on SIGTERM.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("PORT", "8000"))
    http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
