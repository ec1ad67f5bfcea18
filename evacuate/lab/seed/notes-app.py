#!/usr/bin/env python3
"""notes: the small in-house HTTP service of the doomed server (lab fixture)."""

import configparser
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG = configparser.ConfigParser()
CONFIG.read("/opt/notes/config.ini")
PORT = CONFIG.getint("server", "port", fallback=8080)
DATA = CONFIG.get("server", "data_dir", fallback="/srv/notes")


def notes() -> list:
    return sorted(n for n in os.listdir(DATA) if n.endswith(".txt"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            body, kind = b"ok\n", "text/plain"
        else:
            body, kind = json.dumps({"notes": notes()}).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


if __name__ == "__main__":
    if "--report" in sys.argv:
        print(len(notes()), "notes")
    else:
        ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
