"""The containers fact: secret-looking values are masked on the host (the snippet's sed)
and again by the parser; images are told local or pullable; Docker's spellings parse too."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from evacuate.inventory.facts.containers import FACT, mask_env, parse
from evacuate.inventory.script import build_script, split_sections

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures/inventory/containers/podman_compose_lab.json"
SECRETS = ("hunter2-db", "tok-5150", "s3cr3t-url", "k3y-9")

CONTAINER = [{
    "Id": "abc123", "Name": "/app_db_1", "Image": "sha256:feed", "Config": {
        "Image": "postgres:15", "Labels": {"com.docker.compose.project": "app",
                                           "com.docker.compose.service": "db",
                                           "com.docker.compose.project.working_dir": "/srv/app",
                                           "com.docker.compose.project.config_files":
                                               "/srv/app/compose.yml,/srv/app/compose.prod.yml"},
        "Env": ["POSTGRES_PASSWORD=hunter2-db", "API_TOKEN=tok-5150",
                "DATABASE_URL=postgres://app:s3cr3t-url@db:5432/app", "aws_secret_access_key=k3y-9",
                "PGDATA=/var/lib/postgresql/data"]},
    "State": {"Status": "running"},
    "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}, "NetworkMode": "app_default",
                   "PortBindings": {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5432"}]}},
    "NetworkSettings": {"Networks": {"app_default": {}}, "Ports": {
        "5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5432"}], "9187/tcp": None}},
    "Mounts": [{"Type": "volume", "Name": "app_pgdata", "Source": "/var/lib/docker/volumes/app_pgdata/_data",
                "Destination": "/var/lib/postgresql/data", "RW": True},
               {"Type": "bind", "Source": "/srv/app/init.sql", "Destination": "/docker-entrypoint-initdb.d/init.sql",
                "RW": False}],
}]


def _fake_engine(tmp_path: Path, name: str) -> Path:
    """A fake engine CLI on PATH that answers the snippet's commands with canned JSON."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    app = tmp_path / "srv-app"
    (tmp_path / "containers.json").write_text(
        json.dumps(CONTAINER, indent=4).replace('"/srv/app"', f'"{app}"') + "\n")
    (tmp_path / "images.json").write_text(json.dumps([{
        "Id": "sha256:feed", "RepoTags": ["postgres:15"],
        "RepoDigests": ["postgres@sha256:0123"], "Size": 400_000_000}]) + "\n")
    (tmp_path / "volumes.json").write_text(json.dumps([{
        "Name": "app_pgdata", "Driver": "local", "Mountpoint": str(tmp_path / "vol"),
        "Labels": {"com.docker.compose.project": "app"}}]) + "\n")
    (tmp_path / "vol").mkdir()
    (tmp_path / "vol" / "PG_VERSION").write_text("15\n")
    app.mkdir()
    (app / ".env").write_text("POSTGRES_PASSWORD=hunter2-db\n")
    script = bin_dir / name
    script.write_text(f"""#!/bin/sh
d={tmp_path}
case "$*" in
  version*) echo 24.0.5 ;;
  "info --format {{{{.DockerRootDir}}}}") echo /srv/docker ;;
  "info --format {{{{.Store.GraphRoot}}}}") echo /srv/containers/storage ;;
  "ps -aq --no-trunc") echo abc123 ;;
  "container inspect --format"*) echo {app} ;;
  "container inspect"*) cat "$d/containers.json" ;;
  "images -q --no-trunc") echo sha256:feed; echo sha256:feed ;;
  "image inspect"*) cat "$d/images.json" ;;
  "volume ls -q") echo app_pgdata ;;
  "volume inspect --format"*) echo "$d/vol" ;;
  "volume inspect"*) cat "$d/volumes.json" ;;
esac
""")
    script.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_the_snippet_masks_secrets_before_they_leave_the_host(tmp_path, engine) -> None:
    bin_dir = _fake_engine(tmp_path, engine)
    script = build_script([FACT]).replace(
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"PATH={bin_dir}:/usr/bin:/bin")
    out = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True,
                         check=True, env={"PATH": os.environ["PATH"]}).stdout
    for secret in SECRETS:
        assert secret not in out
    found = parse(split_sections(out)["containers"].text)
    assert found.engine == engine and found.version == "24.0.5"
    assert found.package == ""  # dpkg owns no fake engine
    # where each engine says its storage is (Docker's data-root, Podman's graphroot)
    assert found.storage_root == {"docker": "/srv/docker",
                                  "podman": "/srv/containers/storage"}[engine]
    assert found.storage_dirs() == (found.storage_root,)
    assert found.volume_dirs() == (f"{tmp_path}/vol",)
    (container,) = found.containers
    assert container.env == ("POSTGRES_PASSWORD=<masked>", "API_TOKEN=<masked>",
                             "DATABASE_URL=postgres://app:<masked>@db:5432/app",
                             "aws_secret_access_key=<masked>", "PGDATA=/var/lib/postgresql/data")
    assert found.compose_projects[0].env_files == (f"{tmp_path}/srv-app/.env",)
    (volume,) = found.named_volumes
    assert volume.size_bytes is not None and volume.size_bytes > 0
    assert [image.local for image in found.images] == [False]  # one image, listed twice


def test_the_parser_masks_what_reaches_it_unmasked() -> None:
    text = ("@@-- engine docker@@\n24.0.5\n@@-- containers@@\n" + json.dumps(CONTAINER)
            + "\n@@-- images@@\n@@-- volumes@@\n")
    found = parse(text)
    dumped = json.dumps([c.env for c in found.containers])
    for secret in SECRETS:
        assert secret not in dumped
    (container,) = found.containers
    assert container.name == "app_db_1" and container.image == "postgres:15"
    assert container.image_id == "feed" and container.restart_policy == "unless-stopped"
    assert [(p.container_port, p.host_ip, p.host_port) for p in container.published_ports] == [
        ("5432/tcp", "127.0.0.1", "5432")]
    assert [(m.kind, m.source, m.read_only) for m in container.mounts] == [
        ("volume", "app_pgdata", False), ("bind", "/srv/app/init.sql", True)]
    assert container.networks == ("app_default",)
    assert container.compose_config_files == ("/srv/app/compose.yml", "/srv/app/compose.prod.yml")


@pytest.mark.parametrize(("entry", "masked"), [
    ("MYSQL_ROOT_PASSWORD=x", "MYSQL_ROOT_PASSWORD=<masked>"),
    ("GITHUB_TOKEN=ghp_x", "GITHUB_TOKEN=<masked>"),
    ("SECRET_KEY_BASE=x", "SECRET_KEY_BASE=<masked>"),
    ("REDIS_URL=redis://:pw@redis:6379/0", "REDIS_URL=redis://:<masked>@redis:6379/0"),
    ("PATH=/usr/bin", "PATH=/usr/bin"),
    ("LANG", "LANG"),
])
def test_mask_env(entry: str, masked: str) -> None:
    assert mask_env(entry) == masked


def _images_of(tags: list[str], digests: list[str]) -> bool:
    text = ("@@-- engine podman@@\n4.3.1\n@@-- images@@\n"
            + json.dumps([{"Id": "1", "RepoTags": tags, "RepoDigests": digests, "Size": 1}]))
    return parse(text).images[0].local


def test_local_images_are_the_ones_no_registry_gives_back() -> None:
    assert _images_of(["localhost/shop/web:1"], ["localhost/shop/web@sha256:80"])  # built
    assert _images_of(["myapp:latest"], [])  # docker build: no digest
    assert _images_of([], [])  # dangling
    assert not _images_of(["docker.io/library/redis:7"], ["docker.io/library/redis@sha256:aa"])


def test_the_lab_capture_names_the_compose_project_and_its_env_file() -> None:
    found = parse(json.loads(FIXTURE.read_text())["output"])
    (project,) = found.compose_projects
    assert (project.name, project.working_dir, project.services) == ("shop", "/srv/shop", ("web", "worker"))
    assert project.config_files == ("/srv/shop/compose.yaml",) and project.env_files == ("/srv/shop/.env",)
    assert all(image.local for image in found.images)
    assert "APP_TOKEN=<masked>" in found.containers[1].env


@pytest.mark.parametrize(("answer", "package"), [
    ("docker.io: /usr/bin/docker\n", "docker.io"),
    ("podman:amd64: /usr/bin/podman\n", "podman"),
    ("diversion by podman-docker from: /usr/bin/docker\n"
     "diversion by podman-docker to: /usr/bin/docker.distrib\n"
     "podman-docker: /usr/bin/docker\n", "podman-docker"),
    ("", ""),  # owned by no package: installed by hand
])
def test_the_engines_package_is_what_dpkg_says(answer: str, package: str) -> None:
    text = f"@@-- engine docker@@\n24.0.5\n@@-- engine_package@@\n{answer}@@-- containers@@\n"
    assert parse(text).package == package
    assert parse("@@-- engine docker@@\n24.0.5\n").package is None  # not asked: an older capture


@pytest.mark.parametrize(("answer", "root"), [
    ("/srv/docker\n", "/srv/docker"), ("/var/lib/docker/\n", "/var/lib/docker"),
    ("", ""), ("Error: cannot connect to the daemon\n", ""), ("/a\n/b\n", "")])
def test_the_storage_root_is_one_absolute_path_or_unknown(answer: str, root: str) -> None:
    found = parse(f"@@-- engine docker@@\n24.0.5\n@@-- storage_root@@\n{answer}")
    assert found.storage_root == root
    assert found.storage_dirs() == ((root,) if root else ())
