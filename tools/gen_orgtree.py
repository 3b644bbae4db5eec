"""Generate the org-tree data files in data/orgtree/ (run once; the output is committed).

The provinces and districts come from the ``vietnam-provinces`` package: 0.6.x for the
63-province structure of 2021, 2026.x (Python ≥ 3.12, read here straight from its wheel) for
the 34-province structure of 1/7/2025 and its old→new province table. The union bodies on top of
them (central-sector unions, provincial sector unions, industrial-zone unions) are this
project's own data, listed below.

    pip download --no-deps -d /tmp/vp "vietnam-provinces==2026.9.0" --python-version 3.12 --only-binary=:all:
    pip install "vietnam-provinces==0.6.*"
    python tools/gen_orgtree.py --wheel-2025 /tmp/vp/vietnam_provinces-2026.9.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "orgtree"
NATIONAL_ID = 999
REFORM_DATE = "2025-07-01"

# Công đoàn ngành Trung ương và tương đương (2021), with stable ids 201… and codes.
CENTRAL_SECTORS = [
    ("cd-vien-chuc", "Công đoàn Viên chức Việt Nam"),
    ("cd-giao-duc", "Công đoàn Giáo dục Việt Nam"),
    ("cd-y-te", "Công đoàn Y tế Việt Nam"),
    ("cd-cong-thuong", "Công đoàn Công Thương Việt Nam"),
    ("cd-xay-dung", "Công đoàn Xây dựng Việt Nam"),
    ("cd-nong-nghiep", "Công đoàn Nông nghiệp và Phát triển nông thôn Việt Nam"),
    ("cd-giao-thong", "Công đoàn Giao thông vận tải Việt Nam"),
    ("cd-ngan-hang", "Công đoàn Ngân hàng Việt Nam"),
    ("cd-thong-tin", "Công đoàn Thông tin và Truyền thông Việt Nam"),
    ("cd-quoc-phong", "Công đoàn Quốc phòng"),
    ("cd-cong-an", "Công đoàn Công an nhân dân"),
    ("cd-dien-luc", "Công đoàn Điện lực Việt Nam"),
    ("cd-dau-khi", "Công đoàn Dầu khí Việt Nam"),
    ("cd-than-khoang-san", "Công đoàn Than - Khoáng sản Việt Nam"),
    ("cd-det-may", "Công đoàn Dệt May Việt Nam"),
    ("cd-cao-su", "Công đoàn Cao su Việt Nam"),
    ("cd-duong-sat", "Công đoàn Đường sắt Việt Nam"),
    ("cd-hang-khong", "Công đoàn Hàng không Việt Nam"),
    ("cd-hang-hai", "Công đoàn Tổng công ty Hàng hải Việt Nam"),
    ("cd-co-quan-tld", "Công đoàn Cơ quan Tổng Liên đoàn Lao động Việt Nam"),
]

# Công đoàn ngành of a province (code, name prefix). Every province has these in 2021.
PROVINCIAL_SECTORS = [
    ("N-GD", "Công đoàn Giáo dục"),
    ("N-YT", "Công đoàn ngành Y tế"),
    ("N-CT", "Công đoàn ngành Công Thương"),
    ("N-XD", "Công đoàn ngành Xây dựng"),
    ("N-NN", "Công đoàn ngành Nông nghiệp và PTNT"),
    ("N-GT", "Công đoàn ngành Giao thông vận tải"),
    ("N-VC", "Công đoàn Viên chức"),
]

# Provinces (GSO codes, 2021) with a Công đoàn các Khu công nghiệp (and economic zones).
INDUSTRIAL_ZONE_PROVINCES = {
    1,
    22,
    24,
    25,
    26,
    27,
    30,
    31,
    33,
    34,
    35,
    36,
    37,
    38,
    40,
    42,
    19,
    48,
    49,
    51,
    52,
    56,
    70,
    72,
    74,
    75,
    77,
    79,
    80,
    82,
    86,
    92,
}


def _slug(codename: str) -> str:
    for prefix in ("tinh_", "thanh_pho_"):
        if codename.startswith(prefix):
            codename = codename[len(prefix) :]
    return codename.replace("_", "-")


def _place(name: str) -> str:
    """'Tỉnh Thanh Hóa' → 'tỉnh Thanh Hóa'; 'Thành phố Hà Nội' keeps its capital, as written
    in the unions' own names ('Liên đoàn Lao động Thành phố Hà Nội')."""
    return "tỉnh " + name[5:] if name.startswith("Tỉnh ") else name


def _district_union(name: str) -> str:
    kind, _, rest = name.partition(" ")
    if kind == "Thành":  # "Thành phố X" → "thành phố X"
        return "Liên đoàn Lao động thành phố " + name[len("Thành phố ") :]
    if kind == "Thị":
        return "Liên đoàn Lao động thị xã " + name[len("Thị xã ") :]
    return f"Liên đoàn Lao động {kind.lower()} {rest}"


def _write(
    tree: str, meta: dict[str, object], tenants: list[dict[str, object]], units: list[dict[str, object]]
) -> None:
    d = OUT / tree
    d.mkdir(parents=True, exist_ok=True)
    (d / "tree.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for name, rows in (("tenants.csv", tenants), ("units.csv", units)):
        with (d / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)


def _tenant_base() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    tenants: list[dict[str, object]] = [
        {
            "id": NATIONAL_ID,
            "code": "tld",
            "name": "Tổng Liên đoàn Lao động Việt Nam",
            "kind": "national",
            "succeeds": "",
        },
    ]
    units: list[dict[str, object]] = [
        {
            "tenant": "tld",
            "code": "tld",
            "parent": "",
            "kind": "national",
            "name": "Tổng Liên đoàn Lao động Việt Nam",
            "succeeds": "",
        },
    ]
    for i, (code, name) in enumerate(CENTRAL_SECTORS, start=201):
        tenants.append({"id": i, "code": code, "name": name, "kind": "central_sector", "succeeds": ""})
        units.append(
            {
                "tenant": code,
                "code": code,
                "parent": "",
                "kind": "central_sector",
                "name": name,
                "succeeds": "",
            }
        )
    return tenants, units


def gen_2021(nested: list[dict[str, object]]) -> dict[int, str]:
    tenants, units = _tenant_base()
    codes: dict[int, str] = {}
    for p in nested:
        pid = int(p["code"])  # type: ignore[arg-type]
        code = _slug(str(p["codename"]))
        codes[pid] = code
        place = _place(str(p["name"]))
        tname = f"Liên đoàn Lao động {place}"
        tenants.append({"id": pid, "code": code, "name": tname, "kind": "province", "succeeds": ""})
        units.append({"tenant": code, "code": code, "parent": "", "kind": "province", "name": tname, "succeeds": ""})
        for d in p["districts"]:  # type: ignore[attr-defined]
            units.append(
                {
                    "tenant": code,
                    "code": f"H{int(d['code']):03d}",
                    "parent": code,
                    "kind": "district",
                    "name": _district_union(d["name"]),
                    "succeeds": "",
                }
            )
        for scode, sname in PROVINCIAL_SECTORS:
            units.append(
                {
                    "tenant": code,
                    "code": scode,
                    "parent": code,
                    "kind": "provincial_sector",
                    "name": f"{sname} {place}",
                    "succeeds": "",
                }
            )
        if pid in INDUSTRIAL_ZONE_PROVINCES:
            units.append(
                {
                    "tenant": code,
                    "code": "KCN",
                    "parent": code,
                    "kind": "industrial_zone",
                    "name": f"Công đoàn các Khu công nghiệp {place}",
                    "succeeds": "",
                }
            )
    meta = {
        "code": "2021",
        "name": "Hệ thống tổ chức Công đoàn năm 2021 (63 tỉnh, thành phố; 20 công đoàn ngành Trung ương)",
        "valid_from": "2008-08-01",
        "supersedes": None,
        "source": "vietnam-provinces 0.6.x (63 tỉnh, 696 đơn vị hành chính cấp huyện) + danh mục công đoàn ngành",
    }
    _write("2021", meta, tenants, units)
    return codes


def gen_2025(nested: list[dict[str, object]], old_to_new: dict[int, int], old_codes: dict[int, str]) -> None:
    tenants, units = _tenant_base()
    for t in tenants:
        t["succeeds"] = t["code"]
    for u in units:
        u["succeeds"] = f"{u['tenant']}:{u['code']}"
    new_to_old: dict[int, list[int]] = {}
    for old, new in old_to_new.items():
        new_to_old.setdefault(new, []).append(old)
    for p in nested:
        pid = int(p["code"])  # type: ignore[arg-type]
        olds = sorted(new_to_old[pid])
        # A province that kept its code continues as the same tenant; its merged neighbours end.
        code = old_codes.get(pid) or _slug(str(p["codename"]))
        place = _place(str(p["name"]))
        tname = f"Liên đoàn Lao động {place}"
        tenants.append(
            {
                "id": pid,
                "code": code,
                "name": tname,
                "kind": "province",
                "succeeds": ";".join(old_codes[o] for o in olds),
            }
        )
        units.append(
            {
                "tenant": code,
                "code": code,
                "parent": "",
                "kind": "province",
                "name": tname,
                "succeeds": ";".join(f"{old_codes[o]}:{old_codes[o]}" for o in olds),
            }
        )
        for scode, sname in PROVINCIAL_SECTORS:
            units.append(
                {
                    "tenant": code,
                    "code": scode,
                    "parent": code,
                    "kind": "provincial_sector",
                    "name": f"{sname} {place}",
                    "succeeds": ";".join(f"{old_codes[o]}:{scode}" for o in olds),
                }
            )
        kcn_olds = [o for o in olds if o in INDUSTRIAL_ZONE_PROVINCES]
        if kcn_olds:
            units.append(
                {
                    "tenant": code,
                    "code": "KCN",
                    "parent": code,
                    "kind": "industrial_zone",
                    "name": f"Công đoàn các Khu công nghiệp {place}",
                    "succeeds": ";".join(f"{old_codes[o]}:KCN" for o in kcn_olds),
                }
            )
    meta = {
        "code": "2025",
        "name": "Hệ thống tổ chức Công đoàn từ 01/7/2025 (34 tỉnh, thành phố; kết thúc cấp huyện)",
        "valid_from": REFORM_DATE,
        "supersedes": "2021",
        "source": "vietnam-provinces 2026.x (34 tỉnh, bảng chuyển đổi tỉnh cũ → tỉnh mới)",
    }
    _write("2025", meta, tenants, units)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel-2025", required=True, type=Path)
    args = ap.parse_args()
    import vietnam_provinces as vp  # 0.6.x, installed

    nested_2021 = json.loads(Path(vp.NESTED_DIVISIONS_JSON_PATH).read_text(encoding="utf-8"))
    assert len(nested_2021) == 63, "vietnam-provinces 0.6.x expected"
    codes = gen_2021(nested_2021)
    with zipfile.ZipFile(args.wheel_2025) as z:
        nested_2025 = json.loads(z.read("vietnam_provinces/data/nested-divisions.json"))
        conv = z.read("vietnam_provinces/_province_conversion_2025.py").decode()
    body = conv.split("OLD_TO_NEW", 1)[1].split("\n}\n", 1)[0]
    old_to_new: dict[int, int] = {}
    for m in re.finditer(r"(\d+): OldToNewEntry\(OldProvinceRef\(\d+\), \(([^\n]*)\)\),", body):
        old = int(m.group(1))
        news = [int(x) for x in re.findall(r"NewProvinceRef\((\d+)\)", m.group(2))]
        # Ward-level data lists a few wards of Tiền Giang under Tây Ninh; the province as a whole
        # (and its union) went where its own code went.
        old_to_new[old] = old if old in news else news[0]
    assert len(old_to_new) == 63 and len(nested_2025) == 34, (len(old_to_new), len(nested_2025))
    gen_2025(nested_2025, old_to_new, codes)


if __name__ == "__main__":
    main()
