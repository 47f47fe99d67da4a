"The `fastmm-bench` command, end to end, as a user runs it"
import json, os, signal, subprocess, sys, time
import pytest
from conftest import BIN, ROOT, mains, run

def bench(*args, cwd, env=None, timeout=600):
    return run('fastmm-bench', *args, cwd=cwd, check=False, timeout=timeout, env=env)

def one_error_line(p, msg):
    "Exit status 2, one line on stderr naming the problem, nothing on stdout"
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert len(lines) == 1 and lines[0].startswith('fastmm-bench: error: ') and msg in lines[0], p.stderr
    assert p.stdout == ''

# One real run, as a user makes it (every rung, each thread pool timed in a process of its own), that several tests read:
# a fresh fastmm-bench and its workers take seconds to start. Its environment has variables the record must keep.
LADDER_ENV = {'OMP_WAIT_POLICY': 'PASSIVE', 'OPENBLAS_L2_SIZE': '1048576'}

@pytest.fixture(scope='module')
def quick_ladder(tmp_path_factory):
    "The completed process, its folder and its environment"
    d, env = tmp_path_factory.mktemp('ladder'), {**os.environ, **LADDER_ENV}
    p = bench('--quick', '--shape', '5,784,10', '--json', 'out.json', '--plot', 'out.png', cwd=d, env=env)
    assert p.returncode == 0, p.stderr
    return p, d, env

def test_quick_ladder_json_and_plots(quick_ladder):
    p, tmp_path, _ = quick_ladder
    d = json.loads((tmp_path/'out.json').read_text())
    assert d['schema'] == 2 and d['kind'] == 'ladder' and not d['interrupted']
    s = d['settings']
    assert (s['dtype'], s['device'], s['shape'], s['seed'], s['quick']) == ('float32', 'cpu', [5, 784, 10], 0, True)
    assert s['min_run_time'] > 0 and s['threads'] >= 1 and 'env' in s
    m = d['machine']
    assert m['versions']['torch'] and m['versions']['numpy'] and m['blas']['numpy']['library']
    assert len(m['date']) == 20 and m['date'].endswith('Z')
    assert [r['rung'] for r in d['rows']][:2] == ['naive', 'elementwise'] and {'torch', 'einsum', 'numpy'} <= {r['rung'] for r in d['rows']}
    for r in d['rows']:
        assert r['median'] > 0 and r['gflops'] > 0 and (r['m'], r['k'], r['n']) == (5, 784, 10)
        assert len(r['times']) == r['runs'] and r['number'] >= 1 and 'spread' in r and 'noisy' in r
    assert d['rows'][0]['speedup'] == 1
    assert p.stdout.splitlines()[0] == "5×784 @ 784×10 · float32 · cpu · {} thread{}".format(s['threads'], 's' * (s['threads'] != 1))
    assert 'Machine: ' in p.stdout and '|' not in p.stdout
    assert (tmp_path/'out.png').read_bytes()[:4] == b'\x89PNG'
    assert sorted(os.listdir(tmp_path)) == ['out.json', 'out.png']

def test_markdown_and_plot_formats(tmp_path):
    for ext, magic in (('svg', b'<?xml'), ('pdf', b'%PDF')):
        p = bench('--quick', '--one-process', '--shape', '4,16,4', '--rungs', 'einsum,torch', '--plot', f'p.{ext}', '--markdown', cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert (tmp_path/f'p.{ext}').read_bytes().lstrip()[:len(magic)] == magic
        assert '| rung' in p.stdout and '|:-' in p.stdout

def test_sweep(tmp_path):
    p = bench('--quick', '--sweep', '16,32', '--rungs', 'broadcast,torch,numpy', '--json', 's.json', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads((tmp_path/'s.json').read_text())
    assert d['kind'] == 'sweep' and d['settings']['sizes'] == [16, 32]
    assert d['settings']['isolation'].startswith('a process per thread pool (torch, numpy)')   # the CLI's default: two workers, over two sizes
    assert [(r['rung'], r['n']) for r in d['rows']] == [(nm, n) for n in (16, 32) for nm in ('broadcast', 'torch', 'numpy')]
    assert all(r['median'] > 0 for r in d['rows'])
    assert 'GFLOP/s' not in p.stdout.splitlines()[0] and 'n = 32' in p.stdout

def test_shapes(tmp_path):
    "A run over shapes, written as a user would (x, X or ×), timed in order of work, one column and one point per shape"
    p = bench('--quick', '--one-process', '--shapes', '8x16x4,4X8×2', '--rungs', 'einsum,torch', '--json', 's.json', '--plot', 's.png', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads((tmp_path/'s.json').read_text())
    assert d['kind'] == 'shapes' and d['settings']['shapes'] == [[4, 8, 2], [8, 16, 4]] and 'sizes' not in d['settings']
    assert [(r['rung'], r['m'], r['k'], r['n']) for r in d['rows']] == [(nm, *s) for s in ((4, 8, 2), (8, 16, 4)) for nm in ('einsum', 'torch')]
    assert all(r['median'] > 0 for r in d['rows'])
    assert p.stdout.splitlines()[0].startswith('2 shapes m×k×n (m×k @ k×n) · float32 · cpu · ')
    assert p.stdout.splitlines()[2].split()[-2:] == ['4×8×2', '8×16×4']
    assert (tmp_path/'s.png').read_bytes()[:4] == b'\x89PNG'

def test_shapes_alone(tmp_path):
    "--alone on a run over shapes: each row finds its own problem in the fresh run, though both shapes share n"
    p = bench('--quick', '--one-process', '--shapes', '4x8x2,8x4x2', '--rungs', 'torch', '--alone', '--json', 'r.json', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = json.loads((tmp_path/'r.json').read_text())['rows']
    assert [(r['m'], r['k'], r['n']) for r in rows] == [(4, 8, 2), (8, 4, 2)] and all(r['alone'] > 0 for r in rows)
    table = p.stdout.split('side by side ÷ alone')[1].splitlines()
    assert [l.split()[:2] for l in table[1:3]] == [['torch', '4×8×2'], ['torch', '8×4×2']]

def test_twins(tmp_path):
    "--twins: each row keeps its twin's timing, timed in a fresh process of its own beside the run, and the table shows the ratio"
    p = bench('--quick', '--shapes', '4x8x2,8x4x2', '--rungs', 'torch,numpy', '--twins', '--json', 'r.json', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads((tmp_path/'r.json').read_text())
    assert d['settings']['twins'] is True and d['settings']['isolation'].startswith('a process per thread pool')
    rows = d['rows']
    assert [(r['rung'], r['m']) for r in rows] == [('torch', 4), ('numpy', 4), ('torch', 8), ('numpy', 8)]
    for r in rows:   # vs_twin: the median of the paired blocks' ratios, the twin's time ÷ the rung's
        pairs = sorted(w / s for s, w in zip(r['times'], r['twin']['times']))
        assert r['twin']['median'] > 0 and pairs[0] <= r['vs_twin'] <= pairs[-1]
    table = p.stdout.split('side by side ÷ alone (its twin)')[1].splitlines()
    assert [l.split()[:2] for l in table[1:5]] == [['torch', '4×8×2'], ['numpy', '4×8×2'], ['torch', '8×4×2'], ['numpy', '8×4×2']]

def test_json_to_stdout(tmp_path):
    p = bench('--quick', '--one-process', '--shape', '4,16,4', '--rungs', 'torch', '--json', '-', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d['kind'] == 'ladder' and d['rows'][0]['rung'] == 'torch'
    assert 'Machine: ' in p.stderr and os.listdir(tmp_path) == []

def test_bad_input_exits_2_with_one_line(tmp_path):
    (tmp_path/'adir').mkdir()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    cases = [(['--rungs', 'torch,nope'], "unknown rung 'nope'"), (['--rungs', ','], "no rung named"),
             (['--shape', '5,784'], "--shape must be 3"), (['--shape', '5,0,10'], "each size must be an integer at least 1, got 0"),
             (['--sweep', '64,abc'], "--sweep must be comma-separated integers"), (['--sweep', ''], "--sweep must be comma-separated integers"),
             (['--sweep', '64', '--shape', '4,4,4'], "give only one of shape (a ladder), sizes (a sweep) or shapes (a list of problems)"),
             (['--shapes', '5x784'], "each shape must be three sizes (m, k, n), got (5, 784)"),
             (['--shapes', '5x784x10,x'], "--shapes must be comma-separated shapes MxKxN, e.g. 5x784x10,64x64x64, got '5x784x10,x'"),
             (['--shapes', '5x784x10;8x8x8'], "--shapes must be comma-separated shapes MxKxN"),
             (['--shapes', '5x0x10'], "each size of (5, 0, 10) must be an integer at least 1, got 0"),
             (['--shapes', '4x4x4', '--shape', '4,4,4'], "give only one of"),
             (['--shapes', '8x8x8,100000x100000x100000'], "100000×100000 @ 100000×100000 needs 112 GiB"),
             (['--dtype', 'int8'], "dtype must be one of float32, float64, float16, bfloat16"),
             (['--threads', '0'], "threads must be an integer between 1 and"), (['--threads', str(cpus + 1)], f"got {cpus + 1}"),
             (['--threads', 'many'], "invalid int value: 'many'"), (['--json', 'missing/x.json'], "does not exist"),
             (['--plot', 'adir'], "is a directory"), (['--plot', 'x.jpg'], "--plot must end in .png, .svg or .pdf"),
             (['--shape', '100000,100000,100000'], "needs 112 GiB for its inputs and result"),
             (['--rungs', 'numba', '--dtype', 'float16'], "rung 'numba' does not run on cpu in float16"),
             (['--peak'], "peak is recorded with a sweep only"), (['--seed', str(2**64)], "seed must be an integer between 0 and"),
             (['--nonsense'], "unrecognized arguments: --nonsense")]
    import torch
    if not torch.cuda.is_available(): cases.append((['--device', 'cuda'], "finds no CUDA GPU"))
    argvs = [args if '--json' in args else [*args, '--json', 'never.json'] for args, _ in cases]
    one_error_line(bench(*argvs[0], cwd=tmp_path), cases[0][1])   # the first through the command itself, the rest in one process
    for p, (args, msg) in zip(mains(argvs[1:], cwd=tmp_path), cases[1:], strict=True): one_error_line(p, msg)
    assert sorted(os.listdir(tmp_path)) == ['adir'], "a failed run left files behind"

def test_scratch_that_does_not_fit_is_skipped_not_crashed(tmp_path):
    "broadcast_full on 4000³ would need 256 GB of scratch: skipped with an estimate and the reason, like the sweep does"
    p = bench('--quick', '--one-process', '--shape', '4000,4000,4000', '--rungs', 'broadcast_full', '--json', 'r.json', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    [bf] = json.loads((tmp_path/'r.json').read_text())['rows']
    assert bf['median'] is None and 'of scratch, more than max_mem' in bf['skipped'] and bf['estimate'] > 0
    assert 'Traceback' not in p.stderr and '(est.)' in p.stdout

def test_version_help_and_module():
    import fastmm
    for cmd in (['fastmm-bench', '--version'], [sys.executable, '-m', 'fastmm', '--version']):
        p = run(*cmd)
        assert p.stdout.strip() == f"fastmm {fastmm.__version__}"
    h = run('fastmm-bench', '--help').stdout
    from fastmm.rungs import RUNGS, ABSENT
    assert 'rungs that can run here' in h and 'examples:' in h and 'fastmm-bench --sweep' in h and 'fastmm-bench --shapes 5x784x10,' in h
    for name in RUNGS: assert f"\n  {name} " in h, name
    for name, why in ABSENT.items(): assert f"  {name}" in h and why[:30] in h
    assert 'more is refused' in ' '.join(h.split())
    assert run(sys.executable, '-m', 'fastmm', '--help').stdout == h

UMASKS = r'''
import os, sys
from fastmm.__main__ import main
for umask in (0o022, 0o077):   # one process, two runs: the umask is read when a file is made
    os.umask(umask)
    rc = main(['--quick', '--one-process', '--shape', '4,8,4', '--rungs', 'torch', '--json', f'r{umask}.json', '--plot', f'r{umask}.png'])
    if rc: sys.exit(rc)
'''

def test_files_follow_the_umask(tmp_path):
    run(sys.executable, '-c', UMASKS, cwd=tmp_path)
    for umask, mode in ((0o022, 0o644), (0o077, 0o600)):
        for f in (f'r{umask}.json', f'r{umask}.png'): assert (tmp_path/f).stat().st_mode & 0o777 == mode, (f, oct((tmp_path/f).stat().st_mode))

def test_closed_pipe_ends_quietly(tmp_path):
    p = subprocess.run(f"'{BIN}/fastmm-bench' --quick --one-process --shape 4,8,4 --rungs torch,einsum | head -1", shell=True, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300, executable='/bin/bash')
    assert p.stdout.startswith('4×8 @ 8×4 · float32 · cpu · ') and len(p.stdout.splitlines()) == 1
    assert 'Traceback' not in p.stderr and 'BrokenPipe' not in p.stderr and 'Exception ignored' not in p.stderr, p.stderr

# Ctrl-C at chosen moments, made deterministic: a hook raises KeyboardInterrupt exactly where a user's Ctrl-C could land
INTERRUPT = r'''
import builtins, sys
where = sys.argv[1]
if where == 'import':
    class Hook:
        def find_spec(self, name, path=None, target=None):
            if name == 'numpy': raise KeyboardInterrupt
    sys.meta_path.insert(0, Hook())
from fastmm.__main__ import main
def fail_on_call(module, name, n):
    "Make the n-th call of module.name raise KeyboardInterrupt, as a Ctrl-C landing there would"
    real, calls = getattr(module, name), []
    def f(*a, **k):
        calls.append(1)
        if len(calls) == n: raise KeyboardInterrupt
        return real(*a, **k)
    setattr(module, name, f)
if where != 'import':
    import fastmm.bench as B, fastmm.timing as T, fastmm.report as R
    if where == 'check': fail_on_call(B, 'verify', 3)
    if where == 'timing':   # the 6th block is in the second round, whatever the machine; the rungs' pools each time in a process of their own
        import fastmm.isolation as I
        fail_on_call(I.Timer, 'block', 6)
    if where == 'saving': fail_on_call(R.BenchResult, 'save', 1)
    if where.startswith('callback'):  # a real Ctrl-C that lands in a function C code calls back, which swallows it (numba's compiler has them)
        import ctypes, signal
        signal.signal(signal.SIGINT, signal.default_int_handler)
        hit = ctypes.CFUNCTYPE(None)(lambda: signal.raise_signal(signal.SIGINT))
        real, calls = B.verify, []
        def verify(*a, **k):
            if not calls:
                calls.append(hit())
                if where == 'callback, then an error': raise RuntimeError("no compiled object yet")  # as numba does, its callback cut short
            return real(*a, **k)
        B.verify = verify
one = [] if where == 'timing' else ['--one-process']   # only the timing case is about the workers
sys.exit(main(['--quick', *one, '--shape', '5,64,10', '--rungs', 'einsum,torch,numpy,broadcast', '--json', 'r.json']))
'''

@pytest.mark.parametrize('where', ['import', 'check', 'timing', 'saving', 'callback', 'callback, then an error'])
def test_ctrl_c_anywhere(tmp_path, where):
    p = run(sys.executable, '-c', INTERRUPT, where, cwd=tmp_path, check=False, timeout=300)
    assert p.returncode == 130, (p.returncode, p.stdout, p.stderr)
    assert 'Traceback' not in p.stderr and 'KeyboardInterrupt' not in p.stderr, p.stderr
    assert 'interrupted' in p.stderr
    if where == 'timing':
        d = json.loads((tmp_path/'r.json').read_text())
        assert d['interrupted'] and [r['runs'] for r in d['rows']] == [2, 1, 1, 1]
        assert 'Interrupted' in p.stdout

@pytest.mark.parametrize('after', [2, 4, 6])
def test_real_sigint(tmp_path, after):
    "A real Ctrl-C on a first run, whenever it lands (imports, numba compiling, checks or timing): no traceback, exit 130"
    # A shell without job control starts background jobs with SIGINT ignored, and children inherit that: give the
    # command the default disposition, as a terminal would, so that the test does not depend on how it was started.
    # An empty numba cache makes it a first run, which compiles the compiled rungs before timing them.
    proc = subprocess.Popen([str(BIN/'fastmm-bench'), '--sweep', '32,64,128,256,512', '--json', 'r.json'], cwd=tmp_path,
                            env={**os.environ, 'NUMBA_CACHE_DIR': str(tmp_path/'cache')},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, (proc.returncode, err)
    assert 'Traceback' not in err and 'Exception ignored' not in err, err

def test_first_run_says_it_compiles(tmp_path):
    env = {**os.environ, 'NUMBA_CACHE_DIR': str(tmp_path/'cache')}
    notice = 'numba compiles the compiled rungs now'
    first = bench('--quick', '--one-process', '--shape', '4,8,4', '--rungs', 'numba', cwd=tmp_path, env=env)
    assert first.returncode == 0 and notice in first.stderr, first.stderr
    again = bench('--quick', '--one-process', '--shape', '4,8,4', '--rungs', 'numba', cwd=tmp_path, env=env)
    assert again.returncode == 0 and notice not in again.stderr, again.stderr

def test_empty_cache_says_numba_parallel_compiles(tmp_path):
    "With an empty numba cache, needs_compiling says numba_parallel's float64 functions are yet to compile (the compiling page checks a warm cache)"
    code = ("from fastmm.plan import plan; from fastmm.compiling import needs_compiling; "
            "print(needs_compiling(plan(rungs='numba_parallel').rungs, 'float64'))")
    p = run(sys.executable, '-c', code, cwd=tmp_path, env={**os.environ, 'NUMBA_CACHE_DIR': str(tmp_path/'cache')})
    assert p.stdout.strip() == 'True', (p.stdout, p.stderr)

def test_openblas_variables_unset_in_its_own_process(quick_ladder):
    "The benchmark removes OPENBLAS_CORETYPE/L2_SIZE in its own process (whatever this environment has), and records what it changed"
    _, tmp_path, env = quick_ladder
    d = json.loads((tmp_path/'out.json').read_text())
    expected = {k: None for k in ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE') if k in env}
    if 'OPENBLAS_THREAD_TIMEOUT' not in env: expected['OPENBLAS_THREAD_TIMEOUT'] = '4'
    assert d['settings']['env'] == expected
    assert not {'OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'} & set(d['machine']['env'])

@pytest.mark.parametrize('problem, sizes, recorded', [(['--shape', '3,5,2'], 3, ('shape', [3, 5, 2])),
                                                      (['--shapes', '3x5x2,2x3x4'], 6, ('shapes', [[2, 3, 4], [3, 5, 2]]))])
def test_each_value_is_checked_once(monkeypatch, tmp_path, problem, sizes, recorded):
    "A run from the command line makes one plan: every rule applied once, every value checked once, where it enters"
    import collections, fastmm.plan as P, fastmm.__main__ as M
    monkeypatch.setattr(os, 'environ', dict(os.environ))  # benchmark_env changes the environment: only a copy
    calls = collections.Counter()
    def counted(name, f):
        def g(*args, **kwargs): calls[name] += 1; return f(*args, **kwargs)
        return g
    for name in ('plan', 'select_rungs', 'check_fits', '_target', '_problems', '_peak', '_count', '_seconds'):
        monkeypatch.setattr(P, name, counted(name, getattr(P, name)))
    argv = [*problem, '--rungs', 'einsum,torch', '--quick', '--one-process', '--threads', '1', '--seed', '7', '--max-call', '9', '--json', str(tmp_path/'r.json')]
    assert M.main(argv) == 0
    assert {k: calls[k] for k in ('plan', 'select_rungs', 'check_fits', '_target', '_problems', '_peak')} == dict.fromkeys(
        ('plan', 'select_rungs', 'check_fits', '_target', '_problems', '_peak'), 1), calls
    assert calls['_count'] == sizes + 3 and calls['_seconds'] == 2, calls   # each m, k, n, threads, seed, min_blocks; min_run_time, max_call
    d = json.loads((tmp_path/'r.json').read_text())
    assert (d['settings'][recorded[0]], d['settings']['threads'], d['settings']['seed'], d['settings']['max_call']) == (recorded[1], 1, 7, 9.)

def test_the_record_is_complete(quick_ladder):
    "A result file keeps what it takes to read its figures: environment before and after, threads, kernel, command, commit, clock"
    _, tmp_path, _ = quick_ladder
    d = json.loads((tmp_path/'out.json').read_text())
    s, m = d['settings'], d['machine']
    assert s['env_before']['OPENBLAS_L2_SIZE'] == '1048576' and s['env']['OPENBLAS_L2_SIZE'] is None
    assert s['command'] == 'fastmm-bench --quick --shape 5,784,10 --json out.json --plot out.png'
    assert s['isolation'].startswith('a process per thread pool (torch, numpy, numba)')
    assert m['env']['OMP_WAIT_POLICY'] == 'PASSIVE' and 'numba threading layer' in m['env']
    assert set(m['kernel']) == {'vector_bytes', 'registers', 'MR', 'NR', 'blocks', 'paths'} and set(m['kernel']['blocks']['float32']) == {'KC', 'MC', 'NC'}
    assert m['blas']['torch']['kernel'] or m['blas']['torch']['kernel_unknown']
    assert 'clock' in m and (m['git'] is None or len(m['git']['commit']) == 40)

def test_stored_results_still_load():
    "Every result kept for the site, written before the record grew, loads and renders"
    from fastmm.report import load_results
    runs = load_results(ROOT/'nbs'/'results')
    assert runs and all(r.text() and r.markdown() for r in runs.values())

def test_no_compiler_said_once_in_one_line(tmp_path):
    "Without a C++ compiler, fastmm-bench says once, in its own words, that numba_parallel's small products take the slower road; no Python warning"
    env = {**os.environ, 'PATH': '', 'FASTMM_BUILD_DIR': str(tmp_path/'build')}
    p = run(sys.executable, '-m', 'fastmm', '--quick', '--shape', '8,8,8', '--rungs', 'numba_parallel,torch', cwd=tmp_path, env=env, check=False)
    assert p.returncode == 0, p.stderr
    said = [l for l in p.stderr.splitlines() if 'C++' in l]
    assert len(said) == 1 and said[0].startswith("fastmm-bench: fastmm's C++ function cannot be built: no C++ compiler"), p.stderr
    assert 'Warning' not in p.stderr and 'numba_parallel' in p.stdout, (p.stdout, p.stderr)
