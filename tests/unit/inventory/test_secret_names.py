"""One definition of a secret's name (evacuate/inventory/secret_names.py) serves the
containers' environment (the host snippet and the parser) and the conffile diffs."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from evacuate.inventory.conffile_diffs import redact
from evacuate.inventory.facts.containers import mask_env
from evacuate.inventory.secret_names import SECRET_KEY_ENDINGS, SECRET_WORDS, is_secret_name


def _snippet_words() -> list[str]:
    """The words of the host snippet's sed rule, ``[Pp][Aa][Ss][Ss]`` read as ``pass``."""
    text = (resources.files("evacuate.inventory.facts") / "sh" / "containers.sh").read_text()
    (rule,) = re.findall(r"\*\(((?:\[[A-Za-z]{2}\]|\|)+)\)", text)
    return ["".join(re.findall(r"\[[A-Z]([a-z])\]", word)) for word in rule.split("|")]


def test_the_host_snippet_masks_the_same_words() -> None:
    assert _snippet_words() == list(SECRET_WORDS)


def test_a_config_key_ending_is_made_of_the_words() -> None:
    """Redacting a conffile line is the narrower rule: every ending it knows is a name the
    environment rule masks too."""
    for parts in SECRET_KEY_ENDINGS:
        assert is_secret_name("".join(parts)), parts


@pytest.mark.parametrize("name", ["MYSQL_ROOT_PASSWORD", "DBPASS", "SECRET_KEY_BASE",
                                  "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "REDIS_AUTH"])
def test_secret_environment_names(name: str) -> None:
    assert is_secret_name(name) and mask_env(f"{name}=v") == f"{name}=<masked>"


@pytest.mark.parametrize(("line", "shown"), [
    ("db_password = s3cr3t", "db_password = <redacted>"),
    ("AuthPass hunter2", "AuthPass <redacted>"),
    ("api-key: abc", "api-key: <redacted>"),
    ("PasswordAuthentication no", "PasswordAuthentication no"),
    ("AuthorizedKeysFile .ssh/authorized_keys", "AuthorizedKeysFile .ssh/authorized_keys"),
    ("proxy_pass http://app;", "proxy_pass http://app;"),
])
def test_conffile_keys(line: str, shown: str) -> None:
    assert redact(line) == shown
