"""Tests of ``evacuate init`` and ``evacuate config check|reference`` through the CLI edge."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evacuate.cli.app import run_cli
from evacuate.config import CONFIG_ENV, load_config, load_schema, render_reference, render_sample
from evacuate.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures" / "config"


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)


# --- the generated sample and reference ----------------------------------------------

def test_sample_loads_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "evacuate.yml"
    path.write_text(render_sample())
    config = load_config(path)
    assert config.hosts["web1"].target == "new1" and "new1" in config.targets
    assert config.store is not None and config.verify.urls == ()


def test_sample_comments_carry_every_description() -> None:
    sample = render_sample()
    schema = load_schema()
    for key, prop in schema["properties"].items():
        assert f"\n{key}:" in sample or f"\n# {key}:" in sample, key
        assert " ".join(prop["description"].split())[:40] in flat(sample.replace("#", ""))


def test_sample_with_everything_uncommented_is_valid_yaml_and_schema() -> None:
    """The commented-out parts are valid too; they only conflict where the sample says
    'either ... or' (key_file/key_env) or S3-only keys meet the local example URL."""
    text = render_sample(all_active=True)
    data = yaml.safe_load(text)
    assert set(data) == set(load_schema()["properties"])
    path = Path("all.yml")
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        "At 'store': set either key_file or key_env, not both",
        "At 'store.endpoint_url': only applies to s3:// stores",
        "At 'store.region': only applies to s3:// stores",
    ]


def test_reference_lists_every_key() -> None:
    reference = render_reference()
    for heading in ("`state_dir`", "`hosts.<name>.ssh`", "`hosts.<name>.databases.mysql`",
                    "`verify.urls[].expect_status`", "`lab.subnet`", "`store.key_env`"):
        assert f"## {heading}" in reference


# --- evacuate init -------------------------------------------------------------------

def test_init_writes_private_sample_and_refuses_to_overwrite(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["init"]) == 0
    path = tmp_path / "evacuate.yml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == render_sample()
    load_config(path)
    capsys.readouterr()

    path.write_text("mine\n")
    assert run_cli(["init"]) == 2
    err = capsys.readouterr().err
    assert "evacuate.yml already exists; use --force" in flat(err) and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert path.read_text() == "mine\n"

    os.chmod(path, 0o644)
    assert run_cli(["init", "--force", str(path)]) == 0
    assert path.read_text() == render_sample()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_init_into_missing_directory_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["init", "no/such/dir/evacuate.yml"]) == 1
    err = capsys.readouterr().err
    assert "cannot write no/such/dir/evacuate.yml" in flat(err)


# --- evacuate config check -----------------------------------------------------------

def test_check_lists_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    bad = FIXTURES / "bad.yml"
    assert run_cli(["config", "check", str(bad)]) == 3
    err = flat(capsys.readouterr().err)
    assert f"{bad}: 21 problems" in err
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    for problem in caught.value.problems:
        assert flat(problem) in err


def test_check_ok_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["config", "check", str(FIXTURES / "valid.yml")]) == 0
    out = flat(capsys.readouterr().out)
    assert "valid.yml: ok" in out
    assert "web1 (root@203.0.113.10) -> new1" in out
    assert "new1 (deploy@[2001:db8::20]:22)" in out
    assert "store local" in out


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["config", "check", "--json", str(FIXTURES / "s3.yml")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is True
    assert result["store"] == {"url": "s3://my-backups/evacuate/prod", "kind": "s3", "encrypted": True}
    assert result["hosts"] == {"web1": {"ssh": "web1.example.org", "target": None}}
    assert "host web1 has no target; run and restore need one" in result["warnings"]

    assert run_cli(["config", "check", "--json", str(FIXTURES / "four_problems.yml")]) == 3
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["ok"] is False and len(result["problems"]) == 4
    assert captured.err == ""


def test_check_finds_config_in_env_and_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["config", "check"]) == 3
    assert "no evacuate.yml here" in flat(capsys.readouterr().err)
    (tmp_path / "evacuate.yml").write_text("hosts: {web1: {ssh: web1}}\n")
    assert run_cli(["config", "check"]) == 0
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.yml"))
    assert run_cli(["config", "check"]) == 3
    assert "missing.yml: no such file; run 'evacuate init'" in flat(capsys.readouterr().err)


@pytest.mark.parametrize("text", ["hosts: [\n", "- a\n", "", "a: !!binary x\n"])
def test_check_one_line_errors(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "evacuate.yml").write_text(text)
    assert run_cli(["config", "check"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: evacuate.yml") and "Traceback" not in err


def test_check_as_a_subprocess(tmp_path: Path) -> None:
    """The installed entry point: exit 3, every problem line, no traceback."""
    evacuate = Path(sys.executable).parent / "evacuate"
    if not evacuate.exists():
        pytest.skip("the evacuate entry point is not installed in this environment")
    bad = tmp_path / "bad.yml"
    bad.write_text((FIXTURES / "bad.yml").read_text())
    env = {**os.environ, "COLUMNS": "400", "EVACUATE_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([str(evacuate), "config", "check", "bad.yml"], capture_output=True,
                          text=True, timeout=60, env=env, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 3, output
    assert "Traceback" not in output
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    problems = caught.value.problems
    assert len(problems) == 21
    for problem in problems:
        assert problem in output
