"""The pure parts of dispatching a job to an execution node: the SSH and worker commands,
what the node is told (its paths are its own, the controller's never), the probe's verdict
and the config's ``execution_node``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evacuate.ansible import node as nodes
from evacuate.ansible.node import ExecutionNode, NodeError
from evacuate.config import ConfigError, load_config
from evacuate.config.parse import parse_execution_node
from evacuate.errors import UsageError
from evacuate.transport.spec import HostSpec


def _node(**options: object) -> ExecutionNode:
    return ExecutionNode(HostSpec("admin", "10.0.0.5", 2222), **options)  # type: ignore[arg-type]


def test_the_ssh_command_checks_host_keys_strictly_with_the_config_s_settings() -> None:
    command = nodes.ssh_command(_node(identity=Path("/keys/id"), known_hosts=Path("/kh"),
                                      ssh_config=Path("/cfg"), connect_timeout=7), "true")
    assert command[0] == "ssh" and command[-3:] == ["--", "10.0.0.5", "true"]
    pairs = {command[i + 1] for i, word in enumerate(command) if word == "-o"}
    assert {"BatchMode=yes", "StrictHostKeyChecking=yes", "UserKnownHostsFile=/kh",
            "ConnectTimeout=7", "IdentitiesOnly=yes"} <= pairs
    for flag, value in (("-i", "/keys/id"), ("-p", "2222"), ("-l", "admin"), ("-F", "/cfg")):
        assert command[command.index(flag) + 1] == value


def test_the_ssh_command_leaves_unset_options_to_ssh() -> None:
    command = nodes.ssh_command(ExecutionNode(HostSpec(None, "node.example.org")), "true")
    assert not {"-i", "-p", "-l", "-F"} & set(command)
    assert not any(word.startswith("UserKnownHostsFile") for word in command)


def test_the_worker_unpacks_into_a_fresh_directory_of_its_own_and_deletes_it() -> None:
    command = nodes.worker_command("prepare-1700000000")
    assert "exec ansible-runner worker" in command
    assert '--private-data-dir "$HOME"/.evacuate-worker/prepare-1700000000 --delete' in command
    # run by a POSIX shell on the node: it parses
    assert subprocess.run(["sh", "-n", "-c", command], check=False).returncode == 0
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            nodes.worker_dir(bad)


def test_the_node_s_ssh_args_name_only_its_own_paths() -> None:
    args = nodes.node_ssh_args("activate-1", with_known_hosts=True)
    assert "UserKnownHostsFile=~/.evacuate-worker/activate-1/known_hosts" in args
    assert "StrictHostKeyChecking=yes" in args
    assert "UserKnownHostsFile" not in nodes.node_ssh_args("x", with_known_hosts=False)


def test_the_probe_s_verdicts_name_the_node() -> None:
    info = "{cpu_count: 2, errors: [], mem_in_bytes: 1, runner_version: 2.4.3, uuid: u}\n"
    assert nodes.probe_result("root@n", 0, info, "") == "2.4.3"
    with pytest.raises(NodeError, match=r"^execution node root@n cannot be reached over SSH: "
                                        r"ssh: connect to host n port 22: No route to host$"):
        nodes.probe_result("root@n", 255, "", "ssh: connect to host n port 22: No route to host\n")
    with pytest.raises(NodeError, match=r"^execution node root@n has no ansible-runner "):
        nodes.probe_result("root@n", 127, "", "sh: 1: ansible-runner: not found\n")
    with pytest.raises(NodeError, match=r"failed \(exit 2\)"):
        nodes.probe_result("root@n", 2, "", "usage: ...\n")
    with pytest.raises(NodeError, match="no runner_version"):
        nodes.probe_result("root@n", 0, "{}", "")


def test_only_the_known_hosts_lines_of_the_job_s_hosts_travel(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    key = "AAAAC3NzaC1lZDI1NTE5AAAAIHQz9Q0l2h6mJt8v2u4n8vQ4sHk1cJ9o0fZ3b7Yw1x2a"
    known.write_text(f"10.0.0.9 ssh-ed25519 {key}\nsecret.example.org ssh-ed25519 {key}\n"
                     f"[10.0.0.9]:2200 ssh-ed25519 {key}\n")
    assert nodes.known_hosts_lines(known, (HostSpec("root", "10.0.0.9"),)) == \
        f"10.0.0.9 ssh-ed25519 {key}\n"
    assert nodes.known_hosts_lines(known, (HostSpec("root", "10.0.0.9", 2200),)) == \
        f"[10.0.0.9]:2200 ssh-ed25519 {key}\n"
    with pytest.raises(Exception, match=r"no host key of root@10\.0\.0\.7"):
        nodes.known_hosts_lines(known, (HostSpec("root", "10.0.0.7"),))


def test_the_staged_job_holds_the_project_without_its_payload(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "inventory").mkdir(parents=True)
    (project / "inventory" / "hosts.yml").write_text("all: {}\n")
    (project / "site.yml").write_text("[]\n")
    (project / "payload").mkdir()
    (project / "payload" / "files.tar").write_text("data")
    (project / "roles" / "payload").mkdir(parents=True)  # only the top payload/ stays home
    staging = tmp_path / "staging"
    staging.mkdir()
    nodes.stage(project, staging, known_hosts="h ssh-ed25519 K\n")
    assert (staging / "project" / "site.yml").is_file()
    assert not (staging / "project" / "payload").exists()
    assert (staging / "project" / "roles" / "payload").is_dir()
    assert (staging / "inventory" / "hosts.yml").read_text() == "all: {}\n"
    assert (staging / "known_hosts").read_text() == "h ssh-ed25519 K\n"


def test_a_vault_password_script_is_refused_a_file_travels(tmp_path: Path) -> None:
    password = tmp_path / "vault-pass"
    password.write_text("s3cret\n")
    password.chmod(0o600)
    assert nodes.vault_answer(password, _node()) == "s3cret"
    password.chmod(0o700)
    with pytest.raises(UsageError, match=r"is a script: it cannot be sent to execution node "
                                         r"admin@10\.0\.0\.5:2222"):
        nodes.vault_answer(password, _node())


def test_an_execution_node_is_parsed_like_an_ssh_spec_but_never_local() -> None:
    assert parse_execution_node("root@10.0.0.5") == HostSpec("root", "10.0.0.5")
    with pytest.raises(UsageError, match="not an execution node"):
        parse_execution_node("local")
    with pytest.raises(UsageError):
        parse_execution_node("root@")


def _config(tmp_path: Path, node: str) -> Path:
    path = tmp_path / "evacuate.yml"
    path.write_text(f"hosts:\n  web1:\n    ssh: root@203.0.113.10\n    execution_node: {node}\n")
    return path


def test_the_config_names_a_host_s_execution_node(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "ansible@10.0.0.5:2200"))
    assert config.hosts["web1"].execution_node == HostSpec("ansible", "10.0.0.5", 2200)
    path = tmp_path / "plain.yml"
    path.write_text("hosts:\n  web1:\n    ssh: root@203.0.113.10\n")
    assert load_config(path).hosts["web1"].execution_node is None


@pytest.mark.parametrize("node", ["local", "'root@'", "'a b'"])
def test_a_bad_execution_node_is_one_line_at_its_key(tmp_path: Path, node: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, node))
    problems = caught.value.problems
    assert len(problems) == 1 and problems[0].startswith("At 'hosts.web1.execution_node': "), \
        problems
    assert "\n" not in problems[0]


@pytest.mark.parametrize(("args", "said"), [
    (["run", "--node", "local"], "'local' is not an execution node"),
    (["run", "--all", "--node", "root@10.0.0.5"], "--node are for one plan"),
])
def test_the_cli_refuses_a_bad_node_in_one_line_before_anything_runs(
        tmp_path: Path, args: list[str], said: str) -> None:
    config = tmp_path / "evacuate.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\n"
                      "hosts:\n  web1:\n    ssh: root@203.0.113.10\n")
    done = subprocess.run([sys.executable, "-m", "evacuate", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], lines


def test_the_job_names_no_controller_path_and_keeps_its_secrets_out_of_env_files(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "controller-secret")
    kwargs = nodes.job_kwargs("prepare-1", tags=("prepare",), extravars={"a": 1},
                              with_known_hosts=True, ssh_key="KEY", vault_password="pw")
    envvars = kwargs["envvars"]
    assert set(envvars) == {"ANSIBLE_NOCOLOR", "ANSIBLE_FORCE_COLOR", "ANSIBLE_REMOTE_TMP",
                            "ANSIBLE_SSH_ARGS"}  # no PATH, ANSIBLE_CONFIG or key file here
    assert "controller-secret" not in str(kwargs)
    assert str(Path.cwd()) not in str(kwargs) and str(Path.home()) not in str(kwargs)
    assert kwargs["suppress_env_files"] is True
    assert kwargs["cmdline"] == "--ask-vault-pass"
    assert kwargs["passwords"] == {nodes.VAULT_PROMPT: "pw"} and kwargs["ssh_key"] == "KEY"
    assert (kwargs["inventory"], kwargs["playbook"], kwargs["tags"]) == (
        "hosts.yml", "site.yml", "prepare")
    bare = nodes.job_kwargs("x", tags=(), extravars=None, with_known_hosts=False,
                            ssh_key=None, vault_password=None)
    assert not {"cmdline", "passwords", "ssh_key"} & set(bare) and bare["tags"] is None
