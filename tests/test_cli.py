"The `fastmm-bench` console script, end to end, as a user runs it"
import json, os
from conftest import run

def bench(*args, cwd):
    return run('fastmm-bench', *args, cwd=cwd, check=False, timeout=300)

def test_quick_json_and_plot(tmp_path):
    p = bench('--quick', '--shape', '5,784,10', '--json', 'out.json', '--plot', 'out.png', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads((tmp_path/'out.json').read_text())
    assert d['kind'] == 'ladder' and d['info']['device'] == 'cpu' and not d['interrupted']
    assert [r['rung'] for r in d['rows']][:2] == ['naive', 'elementwise'] and {'torch', 'einsum'} <= {r['rung'] for r in d['rows']}
    for r in d['rows']: assert r['median'] > 0 and r['gflops'] > 0 and (r['m'], r['k'], r['n']) == (5, 784, 10)
    assert d['rows'][0]['speedup'] == 1 and d['rows'][-1]['speedup'] > 1
    assert '| naive |' in p.stdout and 'Machine: ' in p.stdout
    assert (tmp_path/'out.png').read_bytes()[:4] == b'\x89PNG'
    assert sorted(os.listdir(tmp_path)) == ['out.json', 'out.png']

def test_sweep(tmp_path):
    p = bench('--quick', '--sweep', '16,32', '--rungs', 'broadcast,torch', '--json', 's.json', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads((tmp_path/'s.json').read_text())
    assert d['kind'] == 'sweep' and [(r['rung'], r['n']) for r in d['rows']] == [('broadcast', 16), ('torch', 16), ('broadcast', 32), ('torch', 32)]
    assert 'GFLOP/s' in p.stdout

def test_bad_input_exits_2_with_one_line(tmp_path):
    (tmp_path/'adir').mkdir()
    cases = [(['--rungs', 'torch,nope'], "unknown rung 'nope'"), (['--shape', '5,784'], "--shape must be 3"),
             (['--shape', '5,0,10'], "at least 1"), (['--sweep', '64,abc'], "--sweep must be comma-separated integers"),
             (['--device', 'cuda'], "cuda"), (['--dtype', 'float16'], "dtype must be one of float32, float64"),
             (['--threads', '0'], "--threads must be at least 1"), (['--json', 'missing/x.json'], "does not exist"),
             (['--plot', 'adir'], "is a directory")]
    import torch
    for args, msg in cases:
        if args == ['--device', 'cuda'] and torch.cuda.is_available(): continue
        p = bench(*args, '--json', 'never.json', cwd=tmp_path) if '--json' not in args else bench(*args, cwd=tmp_path)
        assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('fastmm-bench: error: ') and msg in lines[0], (args, p.stderr)
        assert p.stdout == ''
    assert sorted(os.listdir(tmp_path)) == ['adir'], "a failed run left files behind"
