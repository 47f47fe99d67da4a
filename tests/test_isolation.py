"A run's workers as the isolation page describes them, on a real worker: a fresh interpreter that imports PyTorch (seconds of work, so the page itself starts none)"
from pathlib import Path
import pytest
from fastmm.isolation import Isolation
from fastmm.plan import plan
from fastmm.timing import measure

def state(pid): return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]

def test_one_pool_one_worker_stopped_between_requests():
    "einsum and torch share PyTorch's pool, so one worker: stopped between requests, timing like a local timer, its errors raised here, ended cleanly (several pools: tests/test_cli.py)"
    p = plan(shape=(16, 32, 8), rungs='einsum,torch', min_run_time=0.01)
    assert p.isolate
    with Isolation(p) as iso:
        assert list(iso.workers) == ['torch']
        w = iso.workers['torch']
        timers = iso.timers(['einsum', 'torch'], 16, 32, 8)   # asks the worker for the problem
        assert state(w.proc.pid) == 'T'
        assert timers['einsum'].worker is w and timers['torch'].worker is w
        res = measure(timers, min_run_time=0.01, min_blocks=2)
        assert all(t.median > 0 and len(t.times) >= 2 for t in res.values())
        assert state(w.proc.pid) == 'T'
        with pytest.raises(RuntimeError, match='KeyError'): w.ask('block', 'nope', 1)   # no such rung in the worker
    assert w.proc.poll() == 0
