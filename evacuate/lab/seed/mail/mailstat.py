#!/usr/bin/python3
"""mailstat: a tiny status service on its own system account (reads a config file that
only its group may read; without it, it exits and systemd restarts it)."""
import configparser
import http.server
import os
import sys

CONFIG = "/etc/mailstat/mailstat.conf"


def queue_size() -> int:
    total = 0
    for name in ("incoming", "active", "deferred", "hold"):
        for _root, _dirs, files in os.walk(os.path.join("/var/spool/postfix", name)):
            total += len(files)
    return total


def main() -> None:
    parser = configparser.ConfigParser()
    with open(CONFIG, encoding="utf-8") as handle:  # fails loudly without its group
        parser.read_file(handle)
    port = parser.getint("server", "port")
    site = parser.get("server", "site")
    if "--report" in sys.argv:
        print(f"{site}: ok")
        return

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = f"mailstat {site}: ok\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
