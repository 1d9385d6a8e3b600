"""docs/deploy.md agrees with the code: every setting with its real default, every operator
command, every metric."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path

from aggregator.cli import build_parser
from aggregator.settings import Settings, parse_config
from aggregator.web.metrics import OpsSnapshot, families

DOC = (Path(__file__).resolve().parents[1] / "docs" / "deploy.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `([a-z_.]+)` \| `([^`]+)` \|", re.M)


def documented() -> dict[str, str]:
    section = DOC.split("## 9. Settings", 1)[1]
    return dict(ROW.findall(section))


def test_every_setting_is_documented_with_its_real_default() -> None:
    docs = documented()
    defaults = Settings()
    # Sections such as `scoring` and `alerts` are dataclasses of their own: `section.key`.
    sections = {f.name for f in fields(Settings) if is_dataclass(getattr(defaults, f.name))}
    names = {f.name for f in fields(Settings) if f.name not in sections}
    for section in sections:
        names |= {f"{section}.{f.name}" for f in fields(getattr(defaults, section))}
    assert set(docs) == names
    # The documented defaults, written into a districts file, give exactly the defaults.
    lines = [f"  {k}: {v}" for k, v in docs.items() if "." not in k]
    for section in sorted(sections):
        lines.append(f"  {section}:")
        lines += [
            f"    {k.split('.', 1)[1]}: {v}" for k, v in docs.items() if k.startswith(section + ".")
        ]
    text = "\n".join(
        [
            'kabupaten: {code: "33.03", name: Purbalingga}',
            "settings:",
            *lines,
            'kecamatan: [{code: "33.03.01", name: Kemangkon, villages: []}]',
        ]
    )
    assert parse_config(text).settings == defaults


def test_every_operator_command_and_metric_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("import-sites", "import-opendk", "discover", "backup", "migrate"):
        assert name in sub.choices  # type: ignore[operator]
        assert f"sipande {name}" in DOC
    snapshot = OpsSnapshot({}, [0] * 10, 0, 0.0, {}, 0, 0.0, datetime.now(UTC), datetime.now(UTC))
    for family in families(snapshot):
        assert f"`{family.name}`" in DOC, family.name
