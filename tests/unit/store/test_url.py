"""StoreURL: the one parser of store URLs (evacuate.yml, --store, the store factory and the
S3 store all use it): good URLs, bad ones as one-line errors, and the CLI's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from evacuate.errors import ConfigError
from evacuate.snapshot.store.url import StoreURL


@pytest.mark.parametrize("text,parsed,shown", [
    ("/var/backups/evacuate", StoreURL(path=Path("/var/backups/evacuate")),
     "/var/backups/evacuate"),
    ("relative/dir", StoreURL(path=Path("relative/dir")), "relative/dir"),
    ("file:///srv/snap%20shots", StoreURL(path=Path("/srv/snap shots")), "/srv/snap shots"),
    ("file://localhost/srv/s", StoreURL(path=Path("/srv/s")), "/srv/s"),
    ("s3://bucket", StoreURL(bucket="bucket"), "s3://bucket"),
    ("s3://bucket/", StoreURL(bucket="bucket"), "s3://bucket"),
    ("s3://my.bucket-1/a/b/", StoreURL(bucket="my.bucket-1", prefix="a/b"), "s3://my.bucket-1/a/b"),
    ("S3://abc/x", StoreURL(bucket="abc", prefix="x"), "s3://abc/x"),
])
def test_good_urls(text: str, parsed: StoreURL, shown: str) -> None:
    assert StoreURL.parse(text) == parsed
    assert str(parsed) == shown and StoreURL.parse(shown) == parsed  # its text parses back
    assert parsed.is_s3 == text.lower().startswith("s3://")


def test_home_and_relative_directories(tmp_path: Path) -> None:
    home = StoreURL.parse("~/backups")
    assert home.path == Path.home() / "backups"
    assert StoreURL.parse("snaps").relative_to_base(tmp_path) == StoreURL(path=tmp_path / "snaps")
    assert StoreURL.parse("/abs").relative_to_base(tmp_path) == StoreURL(path=Path("/abs"))
    s3 = StoreURL.parse("s3://bucket/p")
    assert s3.relative_to_base(tmp_path) is s3


@pytest.mark.parametrize("text,message", [
    ("", "no store given"),
    ("   ", "no store given"),
    ("ftp://host/x", "unsupported store URL 'ftp://host/x' (scheme 'ftp')"),
    ("http://x/y", "unsupported store URL"),
    ("s3://", "invalid S3 store URL"),
    ("s3:///prefix", "invalid S3 store URL"),
    ("s3://bucket/x?versionId=1", "invalid S3 store URL"),
    ("s3://bucket/x#frag", "invalid S3 store URL"),
    ("s3://Upper/x", "invalid S3 bucket name 'Upper'"),
    ("s3://A_B", "invalid S3 bucket name"),
    ("s3://ab", "invalid S3 bucket name"),
    ("s3://a..b", "invalid S3 bucket name"),
    ("s3://-bucket", "invalid S3 bucket name"),
    ("s3://user:pw@bucket/x", "invalid S3 bucket name"),
    ("s3://bucket:9000/x", "invalid S3 bucket name"),
    ("s3://" + "b" * 64, "invalid S3 bucket name"),
    ("s3://ok-bucket/a/../b", "invalid S3 prefix"),
    ("s3://ok-bucket/a//b", "invalid S3 prefix"),
    ("file://otherhost/x", "invalid file store URL"),
    ("file://", "invalid file store URL"),
    ("file:///x?y", "invalid file store URL"),
    ("file:///a%00b", "invalid file store URL"),
    ("s3://bad\nbucket/x", "holds control characters"),
    ("file:///a\tb", "holds control characters"),
])
def test_bad_urls_are_one_line_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        StoreURL.parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_store_on_the_command_line_is_one_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from evacuate.cli.app import run_cli

    code = run_cli(["snapshots", "--store", "s3://Bad_Bucket/x", "--state-dir",
                    str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert code != 0
    assert err.strip().splitlines() == [
        "error: invalid S3 bucket name 'Bad_Bucket' in 's3://Bad_Bucket/x': 3-63 characters "
        "a-z, 0-9, '.' and '-'"], err
    assert "Traceback" not in err
