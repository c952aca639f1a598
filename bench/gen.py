#!/usr/bin/env python3
"""Writes an integrations file with N integrations, shaped like real ones, to stdout.

Param defaults repeat across integrations (as they do in real files); step templates are
unique to each integration, so nothing is checked once for all of them.
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
print('[secrets]\ncrm_key = { env = "BENCH_CRM_KEY" }\n')
for i in range(n):
    print(f'''[integration.sync-{i:04}]
description = "Synchronise batch {i}"
timeout = "10m"
schedule = "{i % 60} 2 * * *"
params.from = {{ type = "date", default = "{{{{ today | start_of_month }}}}", help = "first day" }}
params.to = {{ type = "date", default = "{{{{ today }}}}" }}
params.format = {{ type = "choice", values = ["csv", "json"], default = "csv" }}

[[integration.sync-{i:04}.steps]]
id = "fetch"
command = {{ argv = ["fetch-records", "--from", "{{{{ params.from }}}}T00:00:{i % 60:02}", "--to", "{{{{ params.to }}}}/{i}"], stdout = "json", env = {{ KEY = "{{{{ secrets.crm_key }}}}-{i}" }} }}

[[integration.sync-{i:04}.steps]]
command.argv = ["echo", "{{{{ steps.fetch.stdout.count }}}} records of batch {i} as {{{{ params.format | upper }}}}"]
''')
