"""app/db/tortoise_ext/: one package holds every extension of Tortoise, each with its
upstream-ready change as a patch against the installed Tortoise (1.1.9) that applies,
alone and all together, and gives a Tortoise that still answers as before."""

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tortoise

from app.db.tortoise_ext import POSTGRES_ENGINE, SQLITE_ENGINE
from app.db.tortoise_ext.hydration import CHECKED_AGAINST_TORTOISE
from tests.support import REPO

PACKAGE = REPO / "app" / "db" / "tortoise_ext"
PATCHES = sorted(PACKAGE.glob("*.patch"))
INSTALLED = Path(tortoise.__file__).parent

# Stock Tortoise API only: models, a join, lookups, an update through a queryset, a
# transaction with a savepoint, on SQLite in memory.
SMOKE = """
import asyncio
import tortoise
from tortoise import Tortoise, fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

class Owner(Model):
    name = fields.CharField(max_length=20)

class Thing(Model):
    name = fields.CharField(max_length=20)
    owner = fields.ForeignKeyField("models.Owner", related_name="things")

async def main():
    await Tortoise.init(db_url="sqlite://:memory:", modules={"models": ["__main__"]})
    await Tortoise.generate_schemas()
    ann = await Owner.create(name="ann")
    await Thing.create(name="lamp", owner=ann)
    assert (await Owner.get_or_none(name="ann")).id == ann.id
    assert (await Owner.get_or_none(name="ann")).name == "ann"  # the compiled SQL again
    assert await Owner.get_or_none(name="bob") is None
    thing = await Thing.all().select_related("owner").first()
    assert (thing.name, thing.owner.name) == ("lamp", "ann")
    await Thing.filter(name="lamp").update(name="desk")
    async with in_transaction() as connection:
        async with in_transaction() as savepoint:
            await Thing.filter(name="desk").using_db(savepoint).update(name="bed")
        assert (await Thing.all().using_db(connection).first()).name == "bed"
    owners = await Owner.all().prefetch_related("things")
    assert [t.name for t in owners[0].things] == ["bed"]
    assert hasattr(Owner, "_init_from_row") and hasattr(Thing, "_init_from_row")
    await Tortoise.close_connections()
    print(tortoise.__file__)

asyncio.run(main())
"""


def _copy_installed(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(INSTALLED, root / "tortoise", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _apply(root: Path, patch: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["patch", "-p1", "--forward", "--quiet", *options, "-i", str(patch)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_patches_are_against_the_installed_tortoise():
    assert tortoise.__version__ == CHECKED_AGAINST_TORTOISE
    assert {patch.stem for patch in PATCHES} == {
        "hydration",
        "lookups",
        "pool",
        "routing",
        "transactions",
    }


@pytest.mark.parametrize("patch", PATCHES, ids=lambda patch: patch.stem)
def test_each_patch_applies_alone(tmp_path, patch):
    result = _apply(_copy_installed(tmp_path), patch, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_all_patches_together_give_a_tortoise_that_works(tmp_path):
    root = _copy_installed(tmp_path)
    for patch in PATCHES:
        result = _apply(root, patch)
        assert result.returncode == 0, f"{patch.name}: {result.stdout}{result.stderr}"
    smoke = subprocess.run(
        [sys.executable, "-c", SMOKE],
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.strip() == str(root / "tortoise" / "__init__.py")  # the patched copy


# QuerySet subclasses carry their own state through these two (Tortoise has no public
# hook for it); they change no Tortoise behaviour. Every other override is in the package.
QUERYSET_STATE_HOOKS = {"_clone", "_filter_or_exclude"}


def test_no_tortoise_private_is_overridden_outside_the_package():
    modules = [
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for path in (REPO / "app").rglob("*.py")
        if PACKAGE not in path.parents and path.name != "__main__.py"
    ]
    overrides = []
    for name in modules:
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not isinstance(cls, type) or cls.__module__ != name:
                continue
            tortoise_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("tortoise")]
            for attribute, value in vars(cls).items():
                method = isinstance(value, classmethod | staticmethod | property) or callable(value)
                private = attribute.startswith("_") and not attribute.startswith("__") and method
                if private and any(hasattr(base, attribute) for base in tortoise_bases):
                    overrides.append(f"{name}.{cls.__qualname__}.{attribute}")
    allowed = {o for o in overrides if o.rsplit(".", 1)[1] in QUERYSET_STATE_HOOKS}
    assert set(overrides) == allowed
    assert allowed == {
        "app.models.base.PagedQuerySet._clone",
        "app.models.base.PagedQuerySet._filter_or_exclude",
    }


@pytest.mark.parametrize("engine", [POSTGRES_ENGINE, SQLITE_ENGINE])
def test_the_engines_named_in_the_config_are_the_packages(engine):
    module = importlib.import_module(engine)
    assert module.client_class.__module__ == engine
