"The docs site: every step of `nbdev_docs` up to Quarto on a copy of the repo, what the pages hold, and a real render where Quarto is installed"
import json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest, yaml
from conftest import ROOT, run, tracked_files

URLS = {'index.ipynb': 'index.html', '00_machine.ipynb': 'machine.html', '01_matmul.ipynb': 'matmul.html',
        '02_broadcasting.ipynb': 'broadcasting.html', '03_einsum.ipynb': 'einsum.html', '04_timing.ipynb': 'timing.html',
        '05_report.ipynb': 'report.html', '05a_plots.ipynb': 'plots.html', '06_jit.ipynb': 'jit.html', '06a_peak.ipynb': 'peak.html',
        '06b_gemm.ipynb': 'gemm.html', '07_gpu.ipynb': 'gpu.html', '08_rungs.ipynb': 'rungs.html',
        '08a_plan.ipynb': 'plan.html', '08b_isolation.ipynb': 'isolation.html', '09_bench.ipynb': 'bench.html', '09a_compiling.ipynb': 'compiling.html', '10_cli.ipynb': 'cli.html', '11_results.ipynb': 'results.html', '12_exports.ipynb': 'exports.html'}

def copy_repo(dest):
    for f in tracked_files():
        (dest/f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT/f, dest/f)
    return dest

@pytest.fixture(scope='module')
def proc(tmp_path_factory):
    "Run nbdev_docs' steps before Quarto (config, sidebar, processing into _proc/) on a copy of the repo"
    dest = copy_repo(tmp_path_factory.mktemp('docs')/'repo')
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
    assert {p.name for p in proc.glob('*.ipynb')} == set(URLS) == {p.name for p in (ROOT/'nbs').glob('*.ipynb')}
    for f in ('_quarto.yml', 'nbdev.yml', 'sidebar.yml', 'styles.css'): assert (proc/f).exists(), f
    assert list((proc/'results').rglob('*.json')), "the stored results travel with the pages"

def test_custom_sidebar_kept(proc):
    "custom_sidebar = True: nbdev leaves the hand-written sidebar (reading order, sections) alone"
    assert (proc/'sidebar.yml').read_text() == (ROOT/'nbs/sidebar.yml').read_text()

def test_quarto_config(proc):
    q = yaml.safe_load((proc/'_quarto.yml').read_text())
    assert q['project']['type'] == 'website' and q['website']['navbar']['search'] is True
    assert q['format']['html']['toc'] is True and set(q['metadata-files']) == {'nbdev.yml', 'sidebar.yml'}
    # keep-md would collide with the CommonMark output of index (index.html.md); CommonMark needs $...$ to keep TeX math
    assert 'keep-md' not in q['format']['html'] and q['format']['commonmark']['variant'] == '+tex_math_dollars'
    n = yaml.safe_load((proc/'nbdev.yml').read_text())
    assert n['project']['output-dir'] == '_docs' and n['website']['site-url'] == 'https://fastmm.github.io/fastmm'

def frontmatter(p):
    first = json.loads(p.read_text())['cells'][0]
    assert first['cell_type'] == 'raw', f"{p.name}: no front matter"
    return yaml.safe_load(''.join(first['source']).strip().strip('-'))

def test_pages_have_title_description_and_url(proc):
    for name, url in URLS.items():
        fm = frontmatter(proc/name)
        assert fm.get('title') and fm.get('description'), (name, fm)
        assert fm['output-file'] == url

def test_no_errors_in_outputs(proc):
    for p in proc.glob('*.ipynb'):
        for c in json.loads(p.read_text())['cells']:
            for o in c.get('outputs', []):
                assert o['output_type'] != 'error', (p.name, o.get('ename'))
                assert 'Traceback (most recent call last)' not in ''.join(o.get('text', '')), p.name

def test_setup_cells_hidden(proc):
    "A page opens with its title and prose, not with a block of imports: setup cells before the first prose are hidden"
    for p in proc.glob('*.ipynb'):
        cells = json.loads(p.read_text())['cells']
        first_md = next(i for i, c in enumerate(cells) if c['cell_type'] == 'markdown' and not ''.join(c['source']).startswith('<!--'))
        for c in cells[1:first_md]:
            assert c['cell_type'] != 'code', f"{p.name} shows a setup cell before its prose:\n{''.join(c['source'])[:200]}"

def test_timings_are_stored_and_shown(proc):
    "The %timeit lines survive processing (skip_procs = clean_magics) and their outputs are there"
    per_loop = re.compile(r'\d[\d.]* (ns|us|µs|ms|s) \+- .* per loop')
    for name in ('01_matmul.ipynb', '02_broadcasting.ipynb', '03_einsum.ipynb'):
        text = nb_text(proc/name)
        assert '%timeit' in text, f"{name}: %timeit lines were removed"
        assert len(per_loop.findall(text)) >= 2, f"{name}: no stored %timeit output"
        assert 'Machine' in text or 'CPUs' in text

def test_api_docs_on_defining_pages(proc):
    "nbdev adds show_doc for each exported function on the page that defines it"
    for page, names in {'01_matmul.ipynb': ('matmul_shapes', 'matmul_naive', 'verify', 'with_grad', 'rung'),
                        '04_timing.ipynb': ('measure', 'estimate_call', 'Timing'), '05_report.ipynb': ('BenchResult', 'load_results'),
                        '05a_plots.ipynb': ('plot_ladder', 'plot_sweep'), '06_jit.ipynb': ('matmul_numba', 'numba_into'),
                        '06a_peak.ipynb': ('fma_peak', 'vector_shape'), '06b_gemm.ipynb': ('matmul_numba_parallel', 'block_sizes', 'gemm'),
                        '08a_plan.ipynb': ('plan', 'Plan', 'select_rungs'),
                        '07_gpu.ipynb': ('matmul_triton_naive', 'matmul_triton_tuned'), '09_bench.ipynb': ('ladder', 'sweep'),
                        '00_machine.ipynb': ('machine_info', 'cache_sizes')}.items():
        text = nb_text(proc/page)
        for f in names: assert f'show_doc({f})' in text, (page, f)

def test_plots_stored(proc):
    for page, least in (('index.ipynb', 1), ('05a_plots.ipynb', 2), ('11_results.ipynb', 3), ('06b_gemm.ipynb', 2)):
        cells = json.loads((proc/page).read_text())['cells']
        pngs = [o for c in cells for o in c.get('outputs', []) if 'image/png' in o.get('data', {})]
        assert len(pngs) >= least, page

@pytest.mark.skipif(not shutil.which('quarto'), reason="Quarto is not installed here: the real render runs where it is (the deploy job)")
def test_real_render_has_no_warnings(tmp_path):
    "nbdev_docs with a real Quarto renders every page, and neither Quarto nor pandoc warns"
    dest = copy_repo(tmp_path/'repo')
    p = subprocess.run([str(Path(sys.executable).parent/'nbdev_docs')], cwd=dest, capture_output=True, text=True, timeout=1800)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    warnings = [l for l in out.splitlines() if re.search(r'\bWARN(ING)?\b', l)]
    assert not warnings, '\n'.join(warnings)
    for url in URLS.values(): assert (dest/'_docs'/url).exists(), url
