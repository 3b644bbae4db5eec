"""Reading and checking the org-tree data files (data/orgtree/<tree>/).

Pure: no database. The review service loads the result into its tables; intake and tools can
read the same files. A tree directory holds ``tree.json`` (code, name, valid_from, supersedes),
``tenants.csv`` (id, code, name, kind, succeeds) and ``units.csv`` (tenant, code, parent, kind,
name, succeeds), parents before children. ``succeeds`` lists what the row replaces in the tree
it supersedes: tenant codes, or ``tenant:unit`` pairs, separated by ``;``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

TENANT_KINDS = {"national", "province", "central_sector"}
UNIT_KINDS = {
    "national",
    "province",
    "central_sector",
    "district",
    "provincial_sector",
    "industrial_zone",
    "grassroots_direct",
    "grassroots",
}
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "orgtree"


class OrgTreeError(ValueError):
    pass


@dataclass(frozen=True)
class TenantRow:
    id: int
    code: str
    name: str
    kind: str
    succeeds: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitRow:
    tenant: str
    code: str
    parent: str | None
    kind: str
    name: str
    succeeds: tuple[tuple[str, str], ...] = ()
    email: str | None = None


@dataclass(frozen=True)
class TreeData:
    code: str
    name: str
    valid_from: dt.date
    supersedes: str | None
    source: str
    tenants: tuple[TenantRow, ...]
    units: tuple[UnitRow, ...] = field(repr=False)

    def units_of(self, tenant_code: str) -> list[UnitRow]:
        return [u for u in self.units if u.tenant == tenant_code]


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(x for x in (value or "").split(";") if x)


def read_tree(path: Path | str) -> TreeData:
    """Read and check one tree directory; raise :class:`OrgTreeError` naming the bad row."""
    d = Path(path)
    if not d.is_dir() and (DATA_DIR / str(path)).is_dir():
        d = DATA_DIR / str(path)
    meta = json.loads((d / "tree.json").read_text(encoding="utf-8"))
    tenants: list[TenantRow] = []
    with (d / "tenants.csv").open(encoding="utf-8", newline="") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            if r["kind"] not in TENANT_KINDS:
                raise OrgTreeError(f"tenants.csv dòng {i}: loại '{r['kind']}' không hợp lệ")
            tenants.append(TenantRow(int(r["id"]), r["code"], r["name"], r["kind"], _split(r.get("succeeds"))))
    codes = [t.code for t in tenants]
    if len(set(codes)) != len(codes) or len({t.id for t in tenants}) != len(tenants):
        raise OrgTreeError("tenants.csv: mã hoặc id bị trùng")
    known = set(codes)
    units: list[UnitRow] = []
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(_read_units(d / "units.csv"), start=2):
        key = (r["tenant"], r["code"])
        if r["tenant"] not in known:
            raise OrgTreeError(f"units.csv dòng {i}: đơn vị thuộc tenant '{r['tenant']}' không có trong tenants.csv")
        if r["kind"] not in UNIT_KINDS:
            raise OrgTreeError(f"units.csv dòng {i}: loại '{r['kind']}' không hợp lệ")
        if key in seen:
            raise OrgTreeError(f"units.csv dòng {i}: mã '{r['code']}' bị trùng trong '{r['tenant']}'")
        parent = r.get("parent") or None
        if parent is not None and (r["tenant"], parent) not in seen:
            raise OrgTreeError(f"units.csv dòng {i}: đơn vị cấp trên '{parent}' chưa được khai báo trước")
        succeeds = tuple(tuple(x.split(":", 1)) for x in _split(r.get("succeeds")))
        if any(len(s) != 2 for s in succeeds):
            raise OrgTreeError(f"units.csv dòng {i}: 'succeeds' phải có dạng tenant:mã")
        seen.add(key)
        units.append(UnitRow(r["tenant"], r["code"], parent, r["kind"], r["name"], succeeds, r.get("email") or None))  # type: ignore[arg-type]  # pairs checked above
    roots = {u.tenant for u in units if u.parent is None}
    if roots != known:
        raise OrgTreeError(f"mỗi tenant cần đúng một đơn vị gốc; thiếu: {sorted(known - roots)}")
    return TreeData(
        code=meta["code"],
        name=meta["name"],
        valid_from=dt.date.fromisoformat(meta["valid_from"]),
        supersedes=meta.get("supersedes"),
        source=meta.get("source", ""),
        tenants=tuple(tenants),
        units=tuple(units),
    )


def _read_units(p: Path) -> list[dict[str, str]]:
    with p.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
