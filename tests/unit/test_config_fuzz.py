"""Property tests: whatever the input, the config loader returns a Config or raises
ConfigError (one line per problem, each "At ..."), never anything else."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evacuate.config import Config, ConfigError, config_from_data, load_config, load_schema

SCHEMA = load_schema()
# Key names the schema knows, so that random documents reach deep into it.
KNOWN_KEYS = sorted({
    "state_dir", "ssh", "hosts", "targets", "store", "snapshot", "verify", "lab", "web1", "new1",
    "known_hosts", "identity_file", "config_file", "connect_timeout", "trust_unknown_hosts",
    "become", "include", "exclude", "databases", "postgresql", "mysql", "target", "url",
    "endpoint_url", "region", "key_file", "key_env", "max_age", "keep_last", "keep_daily",
    "urls", "sql", "commands", "accept", "host_header", "expect_status", "expect_text",
    "database", "engine", "query", "expect", "host", "command", "expect_output", "check",
    "reason", "subnet",
})
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True), st.text(max_size=30),
    st.sampled_from(["auto", "root@203.0.113.10", "[::1]:22", "s3://bucket/p", "1d", "0m",
                     "https://x/", "/srv", "new1", "web1", "-x", "a@b:99999", "s3://", "gs://b"]),
)
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10), st.integers(), st.booleans(),
                 st.none())
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=40,
)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATH = Path("evacuate.yml")


def check_outcome(data: Any) -> None:
    try:
        result = config_from_data(data, PATH)
    except ConfigError as bad:
        assert "\n" not in bad.message
        assert all(isinstance(line, str) and line.startswith("At ") for line in bad.problems)
    else:
        assert isinstance(result, Config)


@FUZZ
@given(DOCUMENTS)
def test_random_structures(data: Any) -> None:
    check_outcome(data)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(SCHEMA["properties"])), DOCUMENTS, max_size=8))
def test_random_sections(data: dict[str, Any]) -> None:
    check_outcome(data)


VALID = (Path(__file__).parent / "fixtures" / "config" / "valid.yml").read_text()


def _sample_data() -> dict[str, Any]:
    return yaml.safe_load(VALID)


@FUZZ
@given(st.data())
def test_mutated_sample(draw: st.DataObject) -> None:
    """Replace one value somewhere in a full, valid document."""
    data = _sample_data()
    node: Any = data
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw.draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, dict | list) or not child or draw.draw(st.booleans()):
            node[key] = draw.draw(DOCUMENTS)
            break
        node = child
    check_outcome(data)


@FUZZ
@given(st.text(max_size=300) | st.builds(yaml.safe_dump, DOCUMENTS))
def test_random_text_files(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "evacuate.yml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            result = load_config(path)
        except ConfigError as bad:
            assert "\n" not in bad.message
        else:
            assert isinstance(result, Config)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "evacuate.yml"
        path.write_bytes(raw)
        with contextlib.suppress(ConfigError):
            load_config(path)
