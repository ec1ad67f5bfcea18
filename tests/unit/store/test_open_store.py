"""Picking a store by URL, and what the S3 store accepts without talking to a server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import evacuate.snapshot
from evacuate.errors import ConfigError
from evacuate.snapshot.store import LocalStore, open_store
from evacuate.snapshot.store.s3 import S3Store


def test_paths_and_file_urls_are_local(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    store = open_store(f"file://{tmp_path}/with%20space")
    assert isinstance(store, LocalStore) and store.root == tmp_path / "with space"
    home = open_store("~/backups")
    assert isinstance(home, LocalStore) and "~" not in str(home.root)


def test_s3_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
    store = open_store("s3://my-bucket/hosts/web1/", endpoint_url="https://user:pw@s3.example:9000",
                       region="eu-west-1")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("my-bucket", "hosts/web1")
    assert store.describe() == "s3://my-bucket/hosts/web1 at https://s3.example:9000"
    assert "secret" not in repr(store) and "pw" not in store.describe()
    assert not store.on_controller


@pytest.mark.parametrize("url,message", [
    ("ftp://host/x", "unsupported store URL"),
    ("s3://bucket/x?versionId=1", "invalid S3 store URL"),
    ("s3://", "invalid S3 store URL"),
    ("s3://Bad_Bucket/x", "bucket name"),
    ("s3://ok-bucket/a/../b", "prefix"),
    ("file://otherhost/x", "file store URL"),
    ("", "no store"),
])
def test_bad_urls_are_one_line_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        open_store(url)
    assert "\n" not in str(caught.value)


def test_s3_options_do_not_apply_to_local_stores(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="s3:// stores only"):
        open_store(str(tmp_path), endpoint_url="http://localhost:9000")


def test_part_size_minimum() -> None:
    with pytest.raises(ConfigError, match="part size"):
        S3Store("s3://bucket/x", part_size=1024)


def test_only_the_s3_store_imports_boto() -> None:
    package = Path(evacuate.snapshot.__file__).parent
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] in ("boto3", "botocore") for name in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers == {"store/s3.py"}
