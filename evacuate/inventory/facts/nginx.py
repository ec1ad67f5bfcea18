"""Fact family ``nginx``: virtual hosts (``server`` blocks) from ``nginx -T``, which
prints every configuration file after a ``# configuration file <path>:`` line.
When ``nginx -T`` fails (broken config), the files are printed the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evacuate.inventory.facts.base import Fact, dedupe, snippet
from evacuate.inventory.model import VHost

_FILE_RE = re.compile(r"^# configuration file (.+):$")
_PROXY_DIRECTIVES = ("proxy_pass", "fastcgi_pass", "uwsgi_pass", "grpc_pass", "scgi_pass")


@dataclass
class Block:
    """A parsed nginx directive: ``name args;`` or ``name args { children }``."""

    name: str
    args: list[str]
    children: list[Block] | None = None


def tokenize(text: str) -> list[str]:
    """Split nginx config text into words, quoted strings, ``{``, ``}`` and ``;``."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            tokens.append(c)
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            tokens.append(text[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ";{}'\"":
                # "${var}" is part of a word, not a block
                if text[j] == "$" and j + 1 < n and text[j + 1] == "{":
                    close = text.find("}", j)
                    j = close + 1 if close > 0 else n
                    continue
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def parse_blocks(tokens: list[str]) -> list[Block]:
    """Build the directive tree; unbalanced input is closed off, never an error."""
    root: list[Block] = []
    stack: list[list[Block]] = [root]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            if words:
                stack[-1].append(Block(words[0], words[1:]))
            words = []
        elif token == "{":
            children: list[Block] = []
            stack[-1].append(Block(words[0] if words else "", words[1:], children))
            stack.append(children)
            words = []
        elif token == "}":
            if len(stack) > 1:
                stack.pop()
            words = []
        else:
            words.append(token)
    return root


def _walk(blocks: list[Block]) -> list[Block]:
    found = []
    for block in blocks:
        found.append(block)
        if block.children:
            found.extend(_walk(block.children))
    return found


def _vhost(path: str, server: Block) -> VHost:
    children = server.children or []
    direct = {b.name: b.args for b in children if b.children is None}
    names: list[str] = []
    listen: list[str] = []
    for b in children:
        if b.name == "server_name":
            names += b.args
        elif b.name == "listen":
            listen.append(" ".join(b.args))
    docroot = direct.get("root", [""])[0] if direct.get("root") else ""
    if not docroot:
        for b in _walk(children):
            if b.name == "root" and b.args:
                docroot = b.args[0]
                break
    proxies = [b.args[0] for b in _walk(children) if b.name in _PROXY_DIRECTIVES and b.args]
    return VHost(
        server="nginx", file=path, server_names=dedupe(n for n in names if n != '""'),
        listen=tuple(listen) or ("80",), docroot=docroot, proxy_targets=dedupe(proxies),
        tls_cert=(direct.get("ssl_certificate") or [""])[0],
        tls_key_path=(direct.get("ssl_certificate_key") or [""])[0],
    )


def _servers(blocks: list[Block], parent: str = "") -> list[Block]:
    servers = []
    for block in blocks:
        if block.children is None:
            continue
        if block.name == "server" and parent not in ("stream", "mail", "upstream"):
            servers.append(block)
        elif block.name not in ("server", "location"):
            servers.extend(_servers(block.children, block.name))
    return servers


def split_files(text: str) -> list[tuple[str, str]]:
    """Split ``nginx -T`` output into (path, content) pairs."""
    files: list[tuple[str, str]] = []
    path = ""
    lines: list[str] = []
    for line in text.splitlines():
        match = _FILE_RE.match(line)
        if match:
            if path:
                files.append((path, "\n".join(lines)))
            path, lines = match.group(1), []
        else:
            lines.append(line)
    if path:
        files.append((path, "\n".join(lines)))
    return files


def parse(text: str) -> tuple[VHost, ...]:
    """Parse the ``nginx`` section into its HTTP virtual hosts, in file order."""
    vhosts = []
    for path, content in split_files(text):
        for server in _servers(parse_blocks(tokenize(content))):
            vhosts.append(_vhost(path, server))
    return tuple(vhosts)


FACT = Fact(name="nginx", script=snippet("nginx"), parse=parse, default=tuple, timeout=30)
