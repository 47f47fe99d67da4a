"The docs site: every step of `nbdev_docs` up to Quarto, on a copy of the repo, and what the pages hold"
import json, os, re, sys
from pathlib import Path
import pytest, yaml
from conftest import ROOT, run

PAGES = ['index.ipynb', '00_matmul.ipynb', '01_broadcasting.ipynb', '02_einsum.ipynb', '03_exports.ipynb', '04_bench.ipynb', '05_jit.ipynb']

@pytest.fixture(scope='module')
def proc(tmp_path_factory):
    "Run nbdev_docs' steps before Quarto (config, sidebar, processing into _proc/) on a copy of the repo"
    from conftest import tracked_files
    import shutil
    dest = tmp_path_factory.mktemp('docs')/'repo'
    for f in tracked_files():
        (dest/f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT/f, dest/f)
    # nbdev would try to install Quarto if it found none; a stand-in on PATH lets it go on (it is never run)
    fake = dest/'_fakebin'; fake.mkdir()
    (fake/'quarto').write_text('#!/bin/sh\nexit 1\n'); (fake/'quarto').chmod(0o755)
    env = {**os.environ, 'PATH': f"{fake}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run(sys.executable, '-c', 'from nbdev.quarto import _pre_docs; _pre_docs(n_workers=2)', cwd=dest, env=env)
    return dest/'_proc'

def nb_text(p):
    "All sources and outputs of processed notebook `p`, as one string"
    out = []
    for c in json.loads(p.read_text())['cells']:
        out.append(''.join(c['source']))
        for o in c.get('outputs', []):
            out.append(''.join(o.get('text', '')))
            for k,v in o.get('data', {}).items():
                if k.startswith('text/'): out.append(''.join(v))
    return '\n'.join(out)

def test_every_page_processed(proc):
    got = {p.name for p in proc.glob('*.ipynb')}
    assert got == set(PAGES) | {p.name for p in (ROOT/'nbs').glob('*.ipynb')}, got
    for f in ('_quarto.yml', 'nbdev.yml', 'sidebar.yml', 'styles.css'): assert (proc/f).exists(), f

def test_sidebar_lists_every_page_in_order(proc):
    contents = yaml.safe_load((proc/'sidebar.yml').read_text())['website']['sidebar']['contents']
    nbs = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb') if p.name != 'index.ipynb')
    assert contents == ['index.ipynb'] + nbs
    assert contents[:len(PAGES)] == PAGES

def test_quarto_config(proc):
    q = yaml.safe_load((proc/'_quarto.yml').read_text())
    assert q['project']['type'] == 'website' and q['website']['navbar']['search'] is True
    assert q['format']['html']['toc'] is True and set(q['metadata-files']) == {'nbdev.yml', 'sidebar.yml'}
    n = yaml.safe_load((proc/'nbdev.yml').read_text())
    assert n['project']['output-dir'] == '_docs' and n['website']['site-url'] == 'https://fastmm.github.io/fastmm'

def frontmatter(p):
    first = json.loads(p.read_text())['cells'][0]
    assert first['cell_type'] == 'raw', f"{p.name}: no front matter"
    return yaml.safe_load(''.join(first['source']).strip().strip('-'))

def test_pages_have_title_description_and_url(proc):
    urls = set()
    for name in PAGES:
        fm = frontmatter(proc/name)
        assert fm.get('title') and fm.get('description'), (name, fm)
        urls.add(fm['output-file'])
    assert urls == {'index.html', 'matmul.html', 'broadcasting.html', 'einsum.html', 'exports.html', 'bench.html', 'jit.html'}

def test_no_errors_in_outputs(proc):
    for p in proc.glob('*.ipynb'):
        for c in json.loads(p.read_text())['cells']:
            for o in c.get('outputs', []):
                assert o['output_type'] != 'error', (p.name, o.get('ename'))
                assert 'Traceback (most recent call last)' not in ''.join(o.get('text', '')), p.name

def test_timings_are_stored_and_shown(proc):
    "The %timeit lines survive processing (skip_procs = clean_magics) and their outputs are there"
    per_loop = re.compile(r'\d[\d.]* (ns|us|µs|ms|s) \+- .* per loop')
    for name in ('00_matmul.ipynb', '01_broadcasting.ipynb', '02_einsum.ipynb'):
        text = nb_text(proc/name)
        assert '%timeit' in text, f"{name}: %timeit lines were removed"
        assert len(per_loop.findall(text)) >= 2, f"{name}: no stored %timeit output"
    text = nb_text(proc/'00_matmul.ipynb')
    assert re.search(r'naive\s+[\d,.]+ µs\s+1×', text) and 'torch' in text
    for name in ('index.ipynb', '04_bench.ipynb'):
        text = nb_text(proc/name)
        assert re.search(r'\| naive \| [\d.]+ ms \|', text), f"{name}: no stored ladder table"
        assert 'Machine: ' in text
    assert 'Square n×n @ n×n' in nb_text(proc/'04_bench.ipynb')

def test_api_docs_on_defining_pages(proc):
    "nbdev adds show_doc for each exported function on the page that defines it"
    text = nb_text(proc/'00_matmul.ipynb')
    for f in ('matmul_shapes', 'matmul_naive', 'matmul_elementwise', 'matmul_broadcast', 'matmul_einsum', 'matmul_torch', 'register'):
        assert f'show_doc({f})' in text, f
    text = nb_text(proc/'04_bench.ipynb')
    for f in ('ladder', 'sweep', 'measure', 'verify', 'machine_info', 'BenchResult'): assert f'show_doc({f})' in text, f

def test_jit_page(proc):
    text = nb_text(proc/'05_jit.ipynb')
    for f in ('matmul_numba', 'matmul_numba_ikj', 'matmul_numba_tiled', 'matmul_numba_packed', 'matmul_numba_parallel'):
        assert f'show_doc({f})' in text, f
    assert 'first call, compiling' in text and re.search(r'n=1024, torch threads.*ratio \d', text)
    assert 'n = 1024' in text and 'GFLOP/s' in text

def test_plots_stored(proc):
    cells = json.loads((proc/'04_bench.ipynb').read_text())['cells']
    pngs = [o for c in cells for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]
    assert len(pngs) >= 2
