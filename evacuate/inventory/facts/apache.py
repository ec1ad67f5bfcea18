"""Fact family ``apache``: Apache httpd virtual hosts (``<VirtualHost>`` blocks) from the
configuration files that Debian (``/etc/apache2``) and Red Hat (``/etc/httpd``) layouts
load: each file is printed after a ``# configuration file <path>:`` line, as for nginx.

Only enabled sites are read (``sites-enabled``, ``conf.d``): a file in ``sites-available``
that is not linked is configuration, not a served site. A vhost's ``listen`` entries use the
nginx notation the rest of evacuate reads (``443 ssl``), taken from the block's addresses
and ``SSLEngine on``.
"""

from __future__ import annotations

import re
import shlex

from evacuate.inventory.facts.base import Fact, dedupe, snippet
from evacuate.inventory.facts.nginx import split_files
from evacuate.inventory.model import VHost

_OPEN = re.compile(r"^<\s*VirtualHost\s+([^>]*)>", re.IGNORECASE)
_CLOSE = re.compile(r"^</\s*VirtualHost\s*>", re.IGNORECASE)
_PROXY = ("proxypass", "proxypassmatch")


def _lines(text: str) -> list[str]:
    """Logical lines: continuations (a trailing backslash) joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line and not line.startswith("#"):
            joined.append(line)
    if pending.strip():
        joined.append(pending.strip())
    return joined


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError:  # an unbalanced quote: take the words as they stand
        return line.split()


def _vhost(path: str, addresses: str, body: list[str]) -> VHost:
    names: list[str] = []
    docroot = cert = key = ""
    tls = False
    proxies: list[str] = []
    for line in body:
        words = _words(line)
        if not words:
            continue
        directive, args = words[0].lower(), words[1:]
        if directive == "servername" and args:
            names.insert(0, args[0].split("://")[-1].rsplit(":", 1)[0])
        elif directive == "serveralias":
            names += args
        elif directive == "documentroot" and args:
            docroot = args[0].rstrip("/") or "/"
        elif directive == "sslengine" and args:
            tls = args[0].lower() == "on"
        elif directive == "sslcertificatefile" and args:
            cert = args[0]
        elif directive == "sslcertificatekeyfile" and args:
            key = args[0]
        elif directive in _PROXY and len(args) >= 2 and args[1] != "!":
            proxies.append(args[1])
    listen = []
    for address in addresses.split():
        if ":" not in address or address.endswith("]"):  # no port: the server's Listen
            address = "443" if tls else "80"
        listen.append(f"{address} ssl" if tls else address)
    return VHost(server="apache", file=path, server_names=dedupe(names),
                 listen=tuple(listen) or ("80",), docroot=docroot,
                 proxy_targets=dedupe(proxies), tls_cert=cert, tls_key_path=key)


def parse(text: str) -> tuple[VHost, ...]:
    """Parse the ``apache`` section into its virtual hosts, in file order."""
    vhosts: list[VHost] = []
    for path, content in split_files(text):
        addresses: str | None = None
        body: list[str] = []
        for line in _lines(content):
            opened = _OPEN.match(line)
            if opened and addresses is None:
                addresses, body = opened.group(1).strip(), []
            elif _CLOSE.match(line) and addresses is not None:
                vhosts.append(_vhost(path, addresses, body))
                addresses = None
            elif addresses is not None:
                body.append(line)
        if addresses is not None:  # unclosed at the end of the file: keep what it said
            vhosts.append(_vhost(path, addresses, body))
    return tuple(vhosts)


FACT = Fact(name="apache", script=snippet("apache"), parse=parse, default=tuple, timeout=30)
