#!/usr/bin/env python3
"""Writes every query of egov-dashboard.json as a recording rule, so that `promtool check rules`
parses each of them (a dashboard has no checker of its own). Usage: dashboard_rules.py OUT.yaml"""
import json
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
dashboard = json.loads((here / "egov-dashboard.json").read_text())
lines = ["groups:", "  - name: egov-dashboard-queries", "    rules:"]
count = 0
for panel in dashboard["panels"]:
    for target in panel.get("targets", []):
        count += 1
        lines.append(f"      - record: egov_dashboard:panel_{panel['id']}_{target['refId']}")
        lines.append(f"        expr: {json.dumps(target['expr'])}")
if count == 0:
    sys.exit("the dashboard has no queries")
Path(sys.argv[1]).write_text("\n".join(lines) + "\n")
print(f"{count} dashboard queries")
