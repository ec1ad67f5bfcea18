"""A database's objects beyond its row counts, on real listings: PostgreSQL 13 and MariaDB
10.5 of the bullseye lab-source, and the bookworm lab-target (15, 10.11) it was rebuilt on
(evacuate/engines/sql/ printed them). A lost owner, grant, view, trigger or a changed row
fails; across releases a definition written otherwise is not verified, never passed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evacuate.engines.base import parse_objects
from evacuate.snapshot.manifest import OBJECTS_UNREAD, BlobRef, DumpEntry
from evacuate.verify.crossing import Crossing
from evacuate.verify.databases import (
    CountResult,
    compare_databases,
    counts_script,
    parse_counts_output,
)
from evacuate.verify.model import Status
from tests.unit.verify.builders import source_inventory

FIXTURES = Path(__file__).parents[2] / "fixtures" / "engines"
CROSSING = Crossing("debian 11", "debian 12", (), frozenset(), frozenset(), frozenset())


def listing(name: str, host: str) -> dict[str, str]:
    return parse_objects((FIXTURES / f"{name}.{host}.objects.txt").read_text())


def dump(engine: str, database: str, objects: dict[str, str],
         tables: dict[str, int]) -> DumpEntry:
    return DumpEntry(engine, database, "sql", BlobRef("0" * 64, 1, 1), tables=tables,
                     objects=objects)


def checks_of(entry: DumpEntry, found: dict[str, str], crossing: Crossing | None = None,
              ) -> dict[str, tuple[Status, str]]:
    result = CountResult(entry.engine, entry.database, dict(entry.tables), objects=found)
    return {c.name: (c.status, c.detail) for c in compare_databases([entry], [result], crossing)}


SHOP_TABLES = {"public.customers": 2000, "public.orders": 5000, "public.products": 500}
BLOG_TABLES = {"blog.comments": 3000, "blog.posts": 200}


def test_the_listings_name_owners_grants_views_triggers_and_content() -> None:
    shop = listing("postgresql-shop", "bullseye-source")
    assert shop["owner"] == "shop"
    assert "reporting=r/shop" in shop["relation public.orders"]
    assert {"view public.order_totals", "sequence public.orders_id_seq",
            "extension plpgsql", "content public.orders"} <= set(shop)
    blog = listing("mariadb-blog", "bullseye-source")
    assert "trigger comments_author" in blog and "content blog.comments" in blog
    assert "SELECT" in blog["grants 'blog'@'localhost'"]


def test_the_rebuilt_target_passes_across_the_release() -> None:
    for name, engine, database, tables in (("postgresql-shop", "postgresql", "shop",
                                            SHOP_TABLES),
                                           ("mariadb-blog", "mariadb", "blog", BLOG_TABLES)):
        entry = dump(engine, database, listing(name, "bullseye-source"), tables)
        checks = checks_of(entry, listing(name, "bookworm-target"), CROSSING)
        assert all(status is Status.PASS for status, _ in checks.values()), checks
        assert all(checks[f"{database}: {t}"][1] == "same content" for t in tables)


def test_a_lost_owner_grant_view_trigger_or_row_fails() -> None:
    source = listing("postgresql-shop", "bullseye-source")
    target = dict(source)
    target["owner"] = "postgres"
    target["relation public.orders"] = "r shop {shop=arwdDxt/shop}"  # reporting's grant lost
    del target["view public.order_totals"]
    target["content public.orders"] = "0" * 32  # a row changed, the count the same
    checks = checks_of(dump("postgresql", "shop", source, SHOP_TABLES), target)
    assert checks["shop: owner"] == (Status.FAIL, "differs: owner (shop → postgres)")
    assert checks["shop: relation"][0] is Status.FAIL
    assert "reporting=r/shop" in checks["shop: relation"][1]
    assert checks["shop: view"] == (Status.FAIL, "missing: view public.order_totals")
    assert checks["shop: public.orders"] == (Status.FAIL, "same row count, content differs")
    assert checks["shop: public.customers"][0] is Status.PASS
    blog = listing("mariadb-blog", "bullseye-source")
    lost = {k: v for k, v in blog.items() if not k.startswith("trigger ")}
    checks = checks_of(dump("mariadb", "blog", blog, BLOG_TABLES), lost)
    assert checks["blog: trigger"] == (Status.FAIL, "missing: trigger comments_author")


def test_across_releases_a_definition_written_otherwise_is_not_verified() -> None:
    source = listing("mariadb-blog", "bullseye-source")
    target = dict(source, **{"trigger comments_author": "f" * 32,
                             "content blog.comments": "1"})
    entry = dump("mariadb", "blog", source, BLOG_TABLES)
    crossed = checks_of(entry, target, CROSSING)
    assert crossed["blog: trigger"][0] is Status.SKIP
    assert crossed["blog: blog.comments"][0] is Status.SKIP
    assert "not verified" in crossed["blog: blog.comments"][1]
    same_release = checks_of(entry, target)
    assert same_release["blog: trigger"][0] is Status.FAIL
    assert same_release["blog: blog.comments"][0] is Status.FAIL
    # an owner or a grant is no matter of the version: lost across releases, it fails
    shop = listing("postgresql-shop", "bullseye-source")
    lost = dict(shop, owner="postgres", **{"content public.orders": "0" * 32})
    crossed = checks_of(dump("postgresql", "shop", shop, SHOP_TABLES), lost, CROSSING)
    assert crossed["shop: owner"][0] is Status.FAIL
    assert crossed["shop: public.orders"][0] is Status.FAIL  # md5 of rows: any version


def test_a_source_that_could_not_list_its_objects_is_not_verified() -> None:
    entry = dump("postgresql", "shop", {OBJECTS_UNREAD: 'column "prokind" does not exist'},
                 SHOP_TABLES)
    checks = checks_of(entry, {})
    assert checks["shop: objects"][0] is Status.SKIP
    assert "prokind" in checks["shop: objects"][1]
    assert checks["shop: public.orders"][0] is Status.PASS  # counted all the same


def test_the_listing_is_read_in_the_same_round_trip_as_the_counts() -> None:
    entry = dump("postgresql", "shop", listing("postgresql-shop", "bullseye-source"),
                 SHOP_TABLES)
    script = counts_script(source_inventory(), [entry])
    assert "@@evacuate-verify-objects postgresql shop" in script
    assert "pg_get_viewdef" in script
    found = parse_counts_output(
        "@@evacuate-verify-db postgresql shop\npublic.orders\t5000\n@@rc 0\n"
        "@@evacuate-verify-objects postgresql shop\nowner\tshop\n"
        "could not change directory to \"/root\": Permission denied\n@@rc 0\n")
    assert found == [CountResult("postgresql", "shop", {"public.orders": 5000},
                                 objects={"owner": "shop"})]
    failing = parse_counts_output(
        "@@evacuate-verify-db postgresql shop\n@@rc 0\n"
        "@@evacuate-verify-objects postgresql shop\nERROR: permission denied\n@@rc 1\n")
    assert failing[0].objects_error == "ERROR: permission denied"
    assert "@@evacuate-verify-objects" not in counts_script(
        source_inventory(), [replace(entry, objects={})])
