"""Count the DuckDB-only SQL constructs per file (what porting a model to Spark must put behind a
macros/cross_engine macro). Comments and Jinja blocks are ignored; counts are of pattern matches.

    python -m ngs.spark.inventory models macros     # a Markdown table (docs/scale-out.md)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# construct -> (regular expression, the macro that replaces it)
PATTERNS: dict[str, tuple[str, str]] = {
    "qualify": (r"\bqualify\b", "ngs_dedupe / a row_number() subquery"),
    "list()": (r"\blist\s*\(|\barray_agg\s*\(", "ngs_ordered_list"),
    "list_*()": (r"\blist_[a-z_]+\s*\(", "ngs_list_element / ngs_list_contains (sort: array_sort)"),
    "struct": (r"\bstruct_pack\s*\(|\{\s*'[a-z_]+'\s*:", "ngs_struct"),
    "exclude": (r"\bexclude\s*\(", "ngs_star_except"),
    "read_*()": (r"\bread_(csv|csv_auto|parquet|json)\s*\(", "ngs_read_csv / ngs_read_parquet"),
    "::type": (r"::\s*[a-z]", "ngs_cast"),
    "try_cast": (r"\btry_cast\s*\(", "ngs_try_cast (type names)"),
    "arg_max/min": (r"\barg_(max|min)\s*\(", "ngs_arg_max / ngs_arg_min"),
    "strptime": (r"\b(try_strptime|strptime|strftime|epoch|date_diff|date_part)\s*\(", "ngs_parse_date"),
    "regexp": (r"\bregexp_(matches|full_match)\s*\(", "ngs_regexp_matches"),
    "split": (r"\b(string_split|str_split|unnest|generate_series)\s*\(", "(no macro yet: split is a regex on Spark)"),
    "mode()": (r"\bmode\s*\(", "(same name on Spark 3.4+)"),
    "//": (r"[^/:]//[^/]", "ngs_int_div"),
}


def scan(text: str) -> dict[str, int]:
    text = re.sub(r"--[^\n]*", "", text)
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", "", text, flags=re.S)
    return {name: len(re.findall(pattern, text, flags=re.I)) for name, (pattern, _) in PATTERNS.items()}


def table(roots: list[str]) -> str:
    rows = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.sql")):
            if "cross_engine" in path.parts:
                continue
            counts = scan(path.read_text())
            if any(counts.values()):
                rows.append((str(path), counts))
    names = [n for n in PATTERNS if any(c[n] for _, c in rows)]
    lines = ["| file | " + " | ".join(f"`{n}`" for n in names) + " |", "|---|" + "---:|" * len(names)]
    for path, counts in rows:
        lines.append(f"| {path} | " + " | ".join(str(counts[n]) if counts[n] else "" for n in names) + " |")
    lines.append("| **total** | " + " | ".join(str(sum(c[n] for _, c in rows)) for n in names) + " |")
    lines += ["", "| construct | replaced by |", "|---|---|"]
    lines += [f"| `{n}` | {PATTERNS[n][1]} |" for n in names]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1:] or ["models", "macros"]))
