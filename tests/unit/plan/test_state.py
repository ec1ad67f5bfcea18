"""The host state a rebuild sets besides files: farms, apt sources, carried packages,
attributes, sudoers bytes, parent directories (pure parts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from evacuate.inventory.model import (
    AptPackageFile,
    FileAttribute,
    HostState,
    Keyring,
    LocalPackage,
    OsInfo,
    PackageSources,
    Repository,
    Service,
    SudoersFile,
    UnownedFile,
    UnownedFiles,
)
from evacuate.plan.aptsources import carried_sources, is_own
from evacuate.plan.builder import build_plan
from evacuate.plan.farms import plan_farms
from evacuate.plan.model import PlanWarning
from evacuate.plan.persist import plan_from_json
from evacuate.plan.render import host_vars
from evacuate.rebuild.hoststate import with_parents
from evacuate.snapshot.manifest import DebEntry
from tests.unit.verify.builders import blob, entry, manifest, source_inventory

DEBIAN = Repository("deb", ("http://deb.debian.org/debian",), ("bookworm",), ("main",),
                    file="/etc/apt/sources.list")
SECURITY = Repository("deb", ("http://security.debian.org/debian-security",),
                      ("bookworm-security",), ("main",), file="/etc/apt/sources.list")
NODE = Repository("deb", ("https://deb.nodesource.com/node_20.x",), ("nodistro",), ("main",),
                  file="/etc/apt/sources.list.d/nodesource.sources",
                  signed_by=("/etc/apt/keyrings/nodesource.gpg",))
DOCKER_LINE = Repository("deb", ("https://download.docker.com/linux/debian",), ("bookworm",),
                         ("stable",), file="/etc/apt/sources.list",
                         options={"arch": "amd64"},
                         signed_by=("/usr/share/keyrings/docker.gpg",))
FILES = (AptPackageFile("http://deb.debian.org/debian", "bookworm/main", "Debian", "Debian", True),
         AptPackageFile("http://security.debian.org/debian-security", "bookworm-security/main",
                        "Debian", "Debian-Security"),
         AptPackageFile("https://deb.nodesource.com/node_20.x", "nodistro/main", "Node Source",
                        "Node Source"))
NODE_TEXT = ("# the admin's comment stays\nTypes: deb\nURIs: https://deb.nodesource.com/node_20.x\n"
             "Suites: nodistro\nComponents: main\nSigned-By: /etc/apt/keyrings/nodesource.gpg\n")


def _source(**state: object):  # type: ignore[no-untyped-def]
    inventory = source_inventory()
    return replace(
        inventory, os=replace(inventory.os, codename="bookworm"),
        package_sources=PackageSources(
            (DEBIAN, SECURITY, NODE, DOCKER_LINE),
            (Keyring("/etc/apt/keyrings/nodesource.gpg", "n" * 64, "bm9kZQ=="),
             Keyring("/usr/share/keyrings/docker.gpg", "d" * 64, "ZG9ja2Vy"),
             Keyring("/usr/share/keyrings/debian-archive-keyring.gpg", "x" * 64, "eA=="),
             Keyring("/etc/apt/trusted.gpg", "t" * 64, "dA=="))),
        state=HostState(**{"apt_files": FILES, "apt_known": True, **state}))  # type: ignore[arg-type]


def test_the_distributions_mirror_is_told_by_origin_not_by_name() -> None:
    source = _source()
    assert is_own(DEBIAN, source) and is_own(SECURITY, source)  # same Origin as base-files'
    assert not is_own(NODE, source)
    # no package lists for it (never updated): its suite is the codename, but its component
    # is no component of the distribution
    assert not is_own(DOCKER_LINE, source)
    # a mirror renamed to anything still serves base-files
    renamed = replace(DEBIAN, uris=("http://mirror.hoster.example/debian",))
    files = (replace(FILES[0], uri="http://mirror.hoster.example/debian"),)
    assert is_own(renamed, replace(source, state=HostState(apt_files=files)))
    # ... and without lists, the codename with the distribution's components is its own
    assert is_own(renamed, replace(source, state=HostState()))


def test_third_party_sources_are_carried_with_their_keys() -> None:
    warnings: list[PlanWarning] = []
    sources, keys = carried_sources(_source(), {NODE.file: NODE_TEXT}, warnings)
    assert sources[0].path == "/etc/apt/sources.list.d/nodesource.sources"
    assert sources[0].content == NODE_TEXT  # byte for byte
    assert sources[1].path == "/etc/apt/sources.list.d/evacuate-carried.list"
    assert ("deb [arch=amd64 signed-by=/usr/share/keyrings/docker.gpg] "
            "https://download.docker.com/linux/debian bookworm stable\n") in sources[1].content
    assert "deb.debian.org" not in "".join(s.content for s in sources)
    assert {k.path for k in keys} == {"/etc/apt/keyrings/nodesource.gpg",
                                      "/usr/share/keyrings/docker.gpg",
                                      "/etc/apt/trusted.gpg.d/evacuate-source-trusted.gpg"}
    assert not warnings


def test_a_missing_key_is_named() -> None:
    source = _source()
    source = replace(source, package_sources=replace(source.package_sources, keyrings=()))
    warnings: list[PlanWarning] = []
    carried_sources(source, {}, warnings)
    assert any(w.code == "apt-key" and "nodesource.gpg" in w.message for w in warnings)


def _farm_manifest():  # type: ignore[no-untyped-def]
    return manifest(files=(
        entry("/etc/nginx/sites-enabled", "dir", 0o755),
        entry("/etc/nginx/sites-enabled/www", "symlink", 0o777,
              link_target="../sites-available/www"),
        entry("/etc/php/8.2/fpm/conf.d", "dir", 0o755),
        entry("/etc/php/8.2/fpm/conf.d/20-opcache.ini", "symlink", 0o777,
              link_target="/etc/php/8.2/mods-available/opcache.ini"),
        entry("/etc/systemd/system", "dir", 0o755),
        entry("/etc/systemd/system/multi-user.target.wants", "dir", 0o755),
        entry("/etc/systemd/system/multi-user.target.wants/nginx.service", "symlink", 0o777,
              link_target="/lib/systemd/system/nginx.service"),
        entry("/etc/systemd/system/multi-user.target.wants/ssh.service", "symlink", 0o777,
              link_target="/lib/systemd/system/ssh.service"),
        entry("/etc/systemd/system/apt-daily.timer", "symlink", 0o777, link_target="/dev/null"),
        entry("/etc/systemd/system/sshd.service", "symlink", 0o777,
              link_target="/lib/systemd/system/ssh.service"),
        entry("/etc/systemd/system/notes.service", sha="6"),
    ))


def test_farms_mirror_web_dirs_exactly_and_units_the_source_knows() -> None:
    source = replace(source_inventory(), services=(
        Service("nginx.service", "enabled"), Service("rsync.service", "disabled"),
        Service("ssh.service", "enabled")))
    farms = {f.pattern: f for f in plan_farms(source, _farm_manifest().files)}
    assert set(farms) == {"/etc/nginx/sites-enabled", "/etc/php/8.2/fpm/conf.d",
                          "/etc/systemd/system/*.wants", "/etc/systemd/system/*.requires",
                          "/etc/systemd/system"}  # no apache on the source
    web = farms["/etc/nginx/sites-enabled"]
    assert web.exact and [(k.name, k.target) for k in web.links] == [
        ("www", "../sites-available/www")]
    units = farms["/etc/systemd/system/*.wants"]
    assert not units.exact
    assert [k.name for k in units.links] == ["nginx.service"]  # ssh is the target's own
    assert "rsync.service" in units.managed and "ssh.service" not in units.managed
    # a mask is carried, the target's own alias is not
    aliases = farms["/etc/systemd/system"]
    assert [(k.name, k.target) for k in aliases.links] == [("apt-daily.timer", "/dev/null")]


def test_apaches_enable_markers_are_a_farm_of_the_sources_files() -> None:
    """Debian's apache2 keeps who enabled or disabled what as empty files; the source's
    admin disabled serve-cgi-bin (a2disconf: disabled_by_admin, no enabled_by_maint)."""
    marks = "/var/lib/apache2/conf"
    files = (entry("/var/lib/apache2", "dir", 0o755), entry(marks, "dir", 0o755),
             entry(f"{marks}/enabled_by_maint", "dir", 0o755),
             entry(f"{marks}/enabled_by_maint/charset", sha="e"),
             entry(f"{marks}/disabled_by_admin", "dir", 0o755),
             entry(f"{marks}/disabled_by_admin/serve-cgi-bin", sha="e"),
             entry("/var/lib/apache2/site/enabled_by_admin/shop", sha="e"),
             entry("/var/lib/apache2/deep/a/b", sha="e"))
    farms = {f.pattern: f for f in plan_farms(source_inventory(), manifest(files=files).files)}
    markers = farms["/var/lib/apache2/*/*_by_*"]
    assert markers.markers and markers.exact
    assert [(k.directory, k.name, k.target) for k in markers.links] == [
        (f"{marks}/disabled_by_admin", "serve-cgi-bin", ""),
        (f"{marks}/enabled_by_maint", "charset", ""),
        ("/var/lib/apache2/site/enabled_by_admin", "shop", "")]
    assert "/var/lib/apache2/*/*_by_*" not in {
        f.pattern for f in plan_farms(source_inventory(), _farm_manifest().files)}


def test_parents_of_a_restored_file_are_restored_too() -> None:
    files = (entry("/etc", "dir", 0o755), entry("/etc/letsencrypt", "dir", 0o755),
             entry("/etc/letsencrypt/accounts", "dir", 0o700),
             entry("/etc/letsencrypt/accounts/key.json", mode=0o600),
             entry("/etc/other", "dir", 0o755), entry("/etc/other/x"))
    select = with_parents(files, lambda e: e.path == "/etc/letsencrypt/accounts/key.json")
    assert [e.path for e in files if select(e)] == [
        "/etc", "/etc/letsencrypt", "/etc/letsencrypt/accounts",
        "/etc/letsencrypt/accounts/key.json"]


def _plan(source, snap, texts=None, available=None):  # type: ignore[no-untyped-def]
    target = replace(source_inventory(), host="t", users=(), groups=(), packages=())
    return build_plan(source, snap, target, target_label="t", target_spec="root@t",
                      available=available or {"nginx": "1", "postgresql": "1"},
                      target_free_bytes=None, config_texts=texts or {},
                      now=datetime(2026, 11, 23, tzinfo=UTC))


def test_the_plan_carries_sudoers_bytes_debs_and_attributes() -> None:
    text = "# alice may reload nginx\nalice ALL=(ALL:ALL) NOPASSWD: /usr/bin/systemctl reload nginx\n"
    source = replace(
        _source(local_packages=(LocalPackage("mytool", "1.0", "amd64"),),
                third_party=("nodejs",),
                attributes=(FileAttribute("/etc/notes.ini", "i"),
                            FileAttribute("/etc/resolv.conf", "i"))),
        packages=(*source_inventory().packages, *(replace(source_inventory().packages[0],
                                                          name=n) for n in ("mytool", "nodejs",
                                                                            "gone"))),
        sudoers=(SudoersFile("/etc/sudoers.d/alice-nginx", ("alice ALL=...",)),),
        unowned_files=UnownedFiles(("/etc",), (UnownedFile("/etc/notes.ini"),
                                               UnownedFile("/etc/sudoers.d/alice-nginx"))))
    snap = replace(manifest(source), debs=(DebEntry("mytool", "1.0", "amd64", blob("f")),))
    plan = _plan(source, snap, {"/etc/sudoers.d/alice-nginx": text, NODE.file: NODE_TEXT})
    assert plan.sudoers == (("alice-nginx", text),)  # comments and all
    assert [d.name for d in plan.state.debs] == ["mytool"]
    # offered by a carried repository only: installed from there after it is added
    assert "nodejs" in plan.packages and "mytool" not in plan.packages
    assert plan.packages_missing == ("gone",)  # offered by nothing
    codes = {w.code for w in plan.warnings}
    assert {"package-carried", "file-attributes", "package-missing"} <= codes
    assert plan.state.attributes == (("/etc/notes.ini", "i"),)  # only restored files
    attrs = next(w for w in plan.warnings if w.code == "file-attributes")
    assert "/etc/resolv.conf (+i)" in attrs.message
    again = plan_from_json(__import__("json").loads(__import__("json").dumps(
        __import__("dataclasses").asdict(plan))))
    assert again == plan
    variables = host_vars(plan)
    assert variables["evacuate_apt_sources"][0]["content"] == NODE_TEXT
    assert variables["evacuate_host_state"]["attributes"] == [["/etc/notes.ini", "i"]]


def test_sysctl_files_and_locales_are_planned() -> None:
    from evacuate.inventory.model import SysctlSetting

    source = replace(_source(locales=("de_DE.UTF-8 UTF-8",), locale_settings=("LANG=de_DE.UTF-8",)),
                     sysctl=(SysctlSetting("vm.swappiness", "10", "/etc/sysctl.conf"),
                             SysctlSetting("net.core.somaxconn", "4096",
                                           "/etc/sysctl.d/60-app.conf")),
                     os=OsInfo(id="debian", version_id="12", codename="bookworm"))
    plan = _plan(source, manifest(source))
    assert plan.state.sysctl_files == ("/etc/sysctl.conf", "/etc/sysctl.d/60-app.conf")
    assert host_vars(plan)["evacuate_locales"] == ["de_DE.UTF-8 UTF-8"]
