"""The per-run Prefect artifact: one table of counts an operator reads in the UI.

Kept apart from the flows so the same rows feed the artifact and `healthnews run`'s summary.
"""

from __future__ import annotations

from prefect.artifacts import create_table_artifact

from flows.settings import ARTIFACT_KEY_PREFIX

DATASET_ORDER = ("articles", "article_history", "related_items", "policies", "hospital_rankings",
                 "hospitals", "duplicates", "quarantine")


def count_rows(crawl: dict | None, etl: dict | None) -> list[dict]:
    """Flatten crawl report + ETL summary into [{"metric", "value"}] rows (strings and numbers only)."""
    rows: list[dict] = []
    if crawl:
        for key in ("scheduled", "archived", "failed", "not_modified", "items"):
            if key in crawl:
                rows.append({"metric": f"crawl/{key}", "value": crawl[key]})
        filtered = crawl.get("filtered") or {}
        if isinstance(filtered, dict):
            rows.append({"metric": "crawl/filtered", "value": sum(filtered.values())})
    if etl:
        for key in ("files_total", "files_new", "pages_read", "parsed", "quarantined", "duplicates_removed"):
            rows.append({"metric": f"etl/{key}", "value": etl.get(key, 0)})
        for name in DATASET_ORDER:
            if name in (etl.get("rows") or {}):
                rows.append({"metric": f"rows/{name}", "value": etl["rows"][name]})
    for stage, seconds in _stage_seconds(crawl, etl).items():
        rows.append({"metric": f"seconds/{stage}", "value": seconds})
    return rows


def _stage_seconds(crawl: dict | None, etl: dict | None) -> dict[str, float]:
    stages: dict[str, float] = {}
    if crawl and "seconds" in crawl:
        stages["crawl"] = crawl["seconds"]
    if etl:
        stages.update(etl.get("stage_seconds") or {})
        if "seconds" in etl:
            stages["etl_total"] = etl["seconds"]
    return {k: round(float(v), 3) for k, v in stages.items()}


def publish_counts(kind: str, crawl: dict | None, etl: dict | None) -> str:
    """Create the table artifact for this run; returns its key (stable per flow kind)."""
    key = f"{ARTIFACT_KEY_PREFIX}-{kind}-counts"
    run_id = (etl or {}).get("run_id") or (crawl or {}).get("run_id") or "?"
    create_table_artifact(table=count_rows(crawl, etl), key=key,
                          description=f"healthnews {kind} run {run_id}: pages, rows per dataset, seconds per stage")
    return key
