#!/usr/bin/env bash
# Make and print nbs/results/<date>-<cpu>/, the folder that keeps a measurement made on this machine today.
set -euo pipefail
cd "$(dirname "$0")/.."
slug=$(python -c "
import datetime, re
from fastmm.machine import cpu_model
cpu = re.sub(r'\(r\)|\(tm\)|processor|cpu|@.*', '', cpu_model().lower())
print(datetime.date.today().isoformat() + '-' + '-'.join(re.findall(r'[a-z0-9]+', cpu)[:4]))")
mkdir -p "nbs/results/$slug"
echo "nbs/results/$slug"
