"The edges a user hits with hostile input (issue 24): nothing clobbered, nothing lost, nothing wrong let through"
import json, os, signal, stat, subprocess, sys, threading
from pathlib import Path
import pytest
from conftest import BIN, ROOT, mains, run

QUICK = ('--quick', '--one-process', '--shape', '2,3,2', '--rungs', 'torch')   # timed in this one process: no test here is about the workers

def bench(*args, cwd, env=None, timeout=300):
    return run('fastmm-bench', *args, cwd=cwd, check=False, timeout=timeout, env=env)

def one_line(p, rc, msg):
    "Exit status `rc`, one line on standard error naming the problem, no traceback"
    lines = p.stderr.strip().splitlines()
    assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
    assert len(lines) == 1 and lines[0].startswith('fastmm-bench: ') and msg in lines[0], p.stderr

# --- files written, never replaced ---

def test_json_and_plot_through_a_symlink_and_into_a_private_file(tmp_path):
    (tmp_path/'store').mkdir()
    (tmp_path/'store'/'r.json').write_text('old'); (tmp_path/'r.json').symlink_to('store/r.json')
    (tmp_path/'p.png').write_text('old'); os.chmod(tmp_path/'p.png', 0o600)
    p = bench(*QUICK, '--json', 'r.json', '--plot', 'p.png', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path/'r.json').is_symlink() and json.loads((tmp_path/'store'/'r.json').read_text())['kind'] == 'ladder'
    assert stat.S_IMODE((tmp_path/'p.png').stat().st_mode) == 0o600 and (tmp_path/'p.png').read_bytes()[:4] == b'\x89PNG'
    assert sorted(os.listdir(tmp_path)) == ['p.png', 'r.json', 'store']

def test_json_into_a_hard_link_and_a_fifo(tmp_path):
    (tmp_path/'a.json').write_text('old'); os.link(tmp_path/'a.json', tmp_path/'b.json')
    os.mkfifo(tmp_path/'pipe')
    got = []
    reader = threading.Thread(target=lambda: got.append((tmp_path/'pipe').read_text()), daemon=True); reader.start()
    p = bench(*QUICK, '--json', 'a.json', cwd=tmp_path)
    q = bench(*QUICK, '--json', 'pipe', cwd=tmp_path)
    reader.join(60)
    assert p.returncode == 0 and q.returncode == 0, (p.stderr, q.stderr)
    assert (tmp_path/'b.json').read_text() == (tmp_path/'a.json').read_text() != 'old'
    assert stat.S_ISFIFO((tmp_path/'pipe').stat().st_mode) and json.loads(got[0])['kind'] == 'ladder'

def test_unwritable_destination_refused_before_measuring(tmp_path):
    cases = ((['--json', '/proc/r.json'], "--json '/proc/r.json' cannot be made in '/proc'"),
             (['--plot', '/proc/r.png'], "--plot '/proc/r.png' cannot be made in '/proc'"),
             (['--json', '/proc/version'], "--json '/proc/version' cannot be written"))
    for p, (args, msg) in zip(mains([[*QUICK, *args] for args, _ in cases], cwd=tmp_path), cases, strict=True):   # one process
        one_line(p, 2, msg)
        assert p.stdout == ''

FAIL_AT_END = r'''
import sys
import fastmm.report as R
def save(self, path): raise OSError(28, 'No space left on device')
R.BenchResult.save = save
from fastmm.__main__ import main
sys.exit(main(['--quick', '--one-process', '--shape', '2,3,2', '--rungs', 'einsum,torch', '--json', 'r.json']))
'''

def test_results_that_cannot_be_written_at_the_end_still_print_the_table(tmp_path):
    p = run(sys.executable, '-c', FAIL_AT_END, cwd=tmp_path, check=False, timeout=300)
    one_line(p, 1, "the results could not be written to --json r.json (No space left on device)")
    assert 'einsum' in p.stdout and 'torch' in p.stdout and 'Machine: ' in p.stdout

# --- SIGTERM and SIGHUP, like Ctrl-C ---

SIGNALLED = r'''
import signal, sys
import fastmm.isolation as I
from fastmm.__main__ import main
real, calls = I.Timer.block, []
def block(*a, **k):   # the 6th block is in the second round, whatever the machine (each pool times in a process of its own)
    calls.append(1)
    if len(calls) == 6: signal.raise_signal(getattr(signal, sys.argv[1]))
    return real(*a, **k)
I.Timer.block = block
sys.exit(main(['--quick', '--shape', '5,64,10', '--rungs', 'broadcast,einsum,torch,numpy', '--json', 'r.json']))
'''

@pytest.mark.parametrize('sig', ['SIGTERM', 'SIGHUP'])
def test_sigterm_and_sighup_keep_the_rows(tmp_path, sig):
    dfl = lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGTERM, signal.SIGHUP)]   # as in a terminal, even when the suite runs under nohup
    p = run(sys.executable, '-c', SIGNALLED, sig, cwd=tmp_path, check=False, timeout=300, preexec_fn=dfl)
    assert p.returncode == 128 + getattr(signal, sig), (p.returncode, p.stderr)
    assert 'Traceback' not in p.stderr and f'measured before {sig}' in p.stderr, p.stderr
    d = json.loads((tmp_path/'r.json').read_text())
    assert d['interrupted'] and [r['runs'] for r in d['rows']] == [2, 1, 1, 1]
    assert 'Interrupted' in p.stdout

# --- the command line's own edges ---

def test_seed_beyond_64_bits_is_a_usage_error(tmp_path):
    one_line(bench(*QUICK, "--seed", str(2**64), cwd=tmp_path), 2, "seed must be an integer between 0 and 18446744073709551615")
    assert bench(*QUICK, '--seed', str(2**64 - 1), cwd=tmp_path).returncode == 0

def test_closed_stdout_and_stderr(tmp_path):
    sh = lambda redirect: subprocess.run(f"'{BIN}/fastmm-bench' {' '.join(QUICK)} {redirect}", shell=True, cwd=tmp_path,
                                         capture_output=True, text=True, timeout=300, executable='/bin/bash')
    one_line(sh('>&-'), 2, "standard output is closed")
    p = sh('2>&-')   # nothing to say, and nothing to say it on: the table still comes
    assert p.returncode == 0 and 'torch' in p.stdout and 'Machine: ' in p.stdout, (p.returncode, p.stdout)

def test_empty_shape_and_a_dangling_symlink_are_refused(tmp_path):
    (tmp_path/'r.json').symlink_to('nowhere/r.json')
    empty, dangling = mains([['--shape', '', '--rungs', 'torch'], [*QUICK, '--json', 'r.json']], cwd=tmp_path)   # one process
    one_line(empty, 2, "--shape must be comma-separated integers, got ''")
    one_line(dangling, 2, f"directory '{tmp_path/'nowhere'}' does not exist")

# --- checked once, by the plan (issue 20) ---

def clear_error(f, *words):
    "`f()` raises a one-line TypeError or ValueError that names `words`, not one from deep inside torch"
    with pytest.raises((TypeError, ValueError)) as e: f()
    msg = str(e.value)
    assert '\n' not in msg and all(w in msg for w in words) and 'randn' not in msg and "'<'" not in msg, msg

FAST = dict(rungs=['torch'], min_run_time=0.01, min_blocks=1)

def test_ladder_refuses_a_float_size():
    from fastmm.bench import ladder
    from fastmm.plan import plan
    clear_error(lambda: ladder(plan(shape=(5.5, 5, 3), **FAST)), '5.5')

def test_ladder_refuses_a_string_size():
    from fastmm.bench import ladder
    from fastmm.plan import plan
    clear_error(lambda: ladder(plan(shape=('5', 5, 3), **FAST)), "'5'")

def test_sweep_refuses_a_float_size():
    from fastmm.bench import sweep
    from fastmm.plan import plan
    clear_error(lambda: sweep(plan(sizes=[8.5], **FAST)), '8.5')

def test_max_call_holds_below_probe_above(tmp_path):
    p = bench('--quick', '--one-process', '--shape', '4,8,4', '--rungs', 'naive,torch', '--max-call', '1e-9', '--json', 'r.json', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = {r['rung']: r for r in json.loads((tmp_path/'r.json').read_text())['rows']}
    assert rows['naive']['median'] is None and 'max_call' in rows['naive']['skipped']

def test_peak_without_sweep_is_not_silently_ignored(tmp_path):
    p = bench(*QUICK, '--peak', '--json', 'r.json', cwd=tmp_path)
    if p.returncode == 2: one_line(p, 2, 'peak is recorded with a sweep only')
    else:
        d = json.loads((tmp_path/'r.json').read_text())
        assert d['machine'].get('peak') or any('peak' in n for n in d['notes']), d['notes']

NO_NUMBA = r'''
import sys
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == 'numba' or name.startswith('numba.'): raise ImportError("no numba here")
sys.meta_path.insert(0, Hook())
from fastmm.__main__ import main
sys.exit(main(['--quick', '--one-process', '--sweep', '8', '--rungs', 'torch', '--peak', '--json', 'r.json']))
'''

def test_peak_without_numba_is_not_silently_ignored(tmp_path):
    p = run(sys.executable, '-c', NO_NUMBA, cwd=tmp_path, check=False, timeout=300)
    if p.returncode == 2: one_line(p, 2, 'numba')
    else:
        d = json.loads((tmp_path/'r.json').read_text())
        assert any('peak' in n for n in d['notes']), d['notes']

# --- result files ---

def test_malformed_result_files_one_line_each_and_the_rest_loads(tmp_path):
    import warnings
    from fastmm.report import BenchResult, SchemaError, load_results
    good = json.loads((ROOT/'nbs'/'results'/'2026-11-28-intel-xeon'/'ladder-float32.json').read_text())
    bad = {'schema-text.json': json.dumps({**good, 'schema': '2'}), 'bogus.json': json.dumps({**good, 'kind': 'bogus'}),
           'nan.json': json.dumps({**good, 'rows': [{**good['rows'][0], 'median': float('nan')}]}),
           'list.json': '[]', 'latin1.json': b'{"cpu": "\xe9"}', 'truncated.json': json.dumps(good)[:100]}
    for name, text in bad.items(): (tmp_path/name).write_bytes(text if isinstance(text, bytes) else text.encode())
    (tmp_path/'good.json').write_text(json.dumps(good)); (tmp_path/'dir.json').mkdir()
    for name in bad:
        with pytest.raises(SchemaError) as e: BenchResult.load(tmp_path/name)
        assert str(e.value).startswith(f"{tmp_path/name} is not a fastmm results file: ") and '\n' not in str(e.value)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert list(load_results(tmp_path)) == ['good.json']
    assert len(w) == len(bad) and all('\n' not in str(o.message) for o in w)

# --- a package folder that cannot be written, and no writable home ---

READ_ONLY = r'''
import json, sys, warnings
import torch
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    import fastmm.rungs as R
from fastmm.jit import CACHE_OFF
from fastmm.matmul import verify
verify(R.RUNGS['numba'], torch.randn(5, 7), torch.randn(7, 3))
print(json.dumps(dict(off=CACHE_OFF, warned=[str(o.message) for o in w if 'fastmm' in str(o.message)])))
'''

def read_only(tmp_path, *cmd):
    "Run `cmd` in a private mount namespace where fastmm's folder and $HOME are read-only, and numba has no other cache folder"
    import fastmm
    pkg, home = Path(fastmm.__file__).parent, tmp_path/'home'
    home.mkdir(exist_ok=True)
    if subprocess.run(['unshare', '-m', 'true'], capture_output=True).returncode:
        pytest.skip("unshare -m is not permitted here: no private mount namespace for a read-only bind mount")
    script = (f"mount --make-rprivate / && mount --bind -o ro '{pkg}' '{pkg}' && mount --bind -o ro '{home}' '{home}' "
              '&& exec "$@"')
    env = {k: v for k, v in os.environ.items() if k not in ('NUMBA_CACHE_DIR', 'XDG_CACHE_HOME')}
    return subprocess.run(['unshare', '-m', 'sh', '-c', script, 'sh', *map(str, cmd)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**env, 'HOME': str(home)})

def test_rungs_work_without_a_writable_cache(tmp_path):
    p = read_only(tmp_path, sys.executable, '-c', READ_ONLY)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout.splitlines()[-1])
    assert "neither fastmm's folder nor numba's cache folder can be written" in d['off'] and len(d['warned']) == 1 and 'compile in memory' in d['warned'][0]
    q = read_only(tmp_path, BIN/'fastmm-bench', *QUICK[:-1], 'numba,torch')
    assert q.returncode == 0 and 'numba ' in q.stdout, q.stderr
    assert q.stderr.count('\n') == 1 and 'in memory: ' in q.stderr and 'Warning' not in q.stderr, q.stderr
