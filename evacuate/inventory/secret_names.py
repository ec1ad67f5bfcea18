"""What makes a name look like a secret's: one definition for the inventory, used for a
container's environment (``facts/containers.py``, and its host snippet ``sh/containers.sh``)
and for the keys of changed conffiles (``conffile_diffs.py``).

An environment variable is masked when its name holds any of :data:`SECRET_WORDS`
(``MYSQL_ROOT_PASSWORD``, ``SECRET_KEY_BASE``, ``GITHUB_TOKEN``): masking a harmless value
costs nothing there. A config key is redacted only when it *ends* with one of
:data:`SECRET_KEY_ENDINGS` (``db_password``, ``AuthPass``, ``client_secret``, ``api_key``),
each made of those words, so that ``PasswordAuthentication no``, ``AuthorizedKeysFile`` or
nginx's ``proxy_pass`` keep their diff."""

from __future__ import annotations

import re

SECRET_WORDS = ("pass", "secret", "token", "key", "credential", "auth", "private")
"""A name holding one of these (any case) is a secret's."""

SECRET_KEY_ENDINGS = (("password",), ("passwd",), ("passphrase",), ("authpass",), ("secret",),
                      ("token",), ("api", "key"), ("private", "key"), ("credentials",),
                      ("credential",), ("auth", "key"))
"""How a config key that names a secret ends (parts may be joined by ``_`` or ``-``)."""

SECRET_NAME = re.compile("|".join(SECRET_WORDS), re.IGNORECASE)

SECRET_KEY_LINE = re.compile(
    r"(?i)(\b[a-z0-9_-]*(?:"
    + "|".join("[_-]?".join(parts) for parts in SECRET_KEY_ENDINGS)
    + r")[\"']?(?:\s*[=:]\s*|\s+))(\S.*)$")
"""A line that sets a secret-looking key (``db_password = x``, ``AuthPass x``, ``token: x``):
group 1 is the key and its separator, group 2 the value."""


def is_secret_name(name: str) -> bool:
    """Whether an environment variable called ``name`` holds a secret."""
    return SECRET_NAME.search(name) is not None
