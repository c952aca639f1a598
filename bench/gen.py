#!/usr/bin/env python3
"""Writes an integrations file with N integrations, shaped like real ones, to stdout."""
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
command = {{ argv = ["fetch-records", "--from", "{{{{ params.from }}}}", "--to", "{{{{ params.to }}}}"], stdout = "json", env = {{ KEY = "{{{{ secrets.crm_key }}}}" }} }}

[[integration.sync-{i:04}.steps]]
command.argv = ["echo", "{{{{ steps.fetch.stdout.count }}}} records as {{{{ params.format | upper }}}}"]
''')
