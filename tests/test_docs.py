"The docs site: every step of `nbdev_docs` up to Quarto on a copy of the repo, what the pages hold, and a real render where Quarto is installed"
import json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest, yaml
from conftest import ROOT, run, tracked_files

URLS = {'index.ipynb': 'index.html', '00_machine.ipynb': 'machine.html', '01_matmul.ipynb': 'matmul.html',
        '02_broadcasting.ipynb': 'broadcasting.html', '03_einsum.ipynb': 'einsum.html', '04_timing.ipynb': 'timing.html',
        '05_report.ipynb': 'report.html', '05a_plots.ipynb': 'plots.html', '06_jit.ipynb': 'jit.html', '06a_peak.ipynb': 'peak.html',
        '06aa_tile.ipynb': 'tile.html', '06b_gemm.ipynb': 'gemm.html', '06c_shapes.ipynb': 'shapes.html', '07_gpu.ipynb': 'gpu.html', '07a_hopper.ipynb': 'hopper.html', '08_rungs.ipynb': 'rungs.html',
        '08a_plan.ipynb': 'plan.html', '08b_isolation.ipynb': 'isolation.html', '09_bench.ipynb': 'bench.html', '09a_compiling.ipynb': 'compiling.html', '06ba_native.ipynb': 'native.html', '10_cli.ipynb': 'cli.html', '11_results.ipynb': 'results.html', '12_exports.ipynb': 'exports.html'}

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
                        '06a_peak.ipynb': ('fma_peak', 'vector_shape'), '06aa_tile.ipynb': ('fma_tile', 'any_tile'), '06b_gemm.ipynb': ('block_sizes', 'gemm'),
                        '06c_shapes.ipynb': ('matmul_numba_parallel', 'path', 'by_shape'),
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

def css_rules(css):
    "{selector: {property: value}} for each selector of each rule in `css`"
    out = {}
    for sels, body in re.findall(r'([^{}]+)\{([^}]*)\}', re.sub(r'/\*.*?\*/', '', css, flags=re.S)):
        props = dict((k.strip(), v.strip()) for k, v in (p.split(':', 1) for p in body.split(';') if ':' in p))
        for s in sels.split(','): out.setdefault(' '.join(s.split()), {}).update(props)
    return out

def test_figures_fit_and_lines_wrap(proc):
    "Output images scale to the column, long lines wrap, no 'Other Formats' link on each page, a light and a dark theme"
    rules = css_rules((proc/'styles.css').read_text())
    assert {'max-width': '100%', 'height': 'auto'}.items() <= rules['.cell-output-display img'].items()
    assert rules['.cell-output pre']['white-space'] == 'pre-wrap'
    html = yaml.safe_load((proc/'_quarto.yml').read_text())['format']['html']
    assert html['code-overflow'] == 'wrap' and html['format-links'] is False
    assert set(html['theme']) == {'light', 'dark'}

def stored_pngs():
    import base64
    for f in sorted((ROOT/'nbs').glob('*.ipynb')):
        for c in json.loads(f.read_text())['cells']:
            for o in c.get('outputs', []):
                if 'image/png' in o.get('data', {}): yield f.name, base64.b64decode(o['data']['image/png'])

def test_plots_are_opaque():
    "Every stored plot has an opaque background, so the dark theme shows it as drawn (black text on white)"
    import io
    from PIL import Image
    pngs = list(stored_pngs())
    assert len(pngs) >= 10
    for name, png in pngs:
        im = Image.open(io.BytesIO(png)).convert('RGBA')
        corners = [im.getpixel((x, y)) for x in (0, im.width - 1) for y in (0, im.height - 1)]
        assert all(px[3] == 255 for px in corners), (name, corners)

def markdown_outputs(p):
    "(cell source, Markdown text) for each Markdown output of processed notebook `p` (text/markdown, and stdout of `output: asis`)"
    for c in json.loads(p.read_text())['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code': continue
        asis = re.search(r'^#\|\s*output:\s*asis', src, re.M)
        for o in c.get('outputs', []):
            if 'text/markdown' in o.get('data', {}): yield src, ''.join(o['data']['text/markdown'])
            elif asis and o['output_type'] == 'stream' and o.get('name') == 'stdout': yield src, ''.join(o['text'])

def test_output_headings_reach_the_contents(proc):
    "A heading written by code is part of the page only from an `output: asis` cell (Quarto wraps other outputs in a div), "
    "set off by blank lines: the Results page's sections are in its 'On this page' list"
    found = 0
    for p in sorted(proc.glob('*.ipynb')):
        for src, md in markdown_outputs(p):
            if not re.search(r'^##+ ', md, re.M) or 'show_doc' in src: continue
            found += p.name == '11_results.ipynb'
            assert re.search(r'^#\|\s*output:\s*asis', src, re.M), f"{p.name}: a heading Quarto will not see:\n{md[:200]}"
            assert md.startswith('\n') and md.endswith('\n'), f"{p.name}: a Markdown output runs into the next one:\n{md[:200]}"
    assert found >= 4

# The link checker: every link and anchor inside the site lands on a page, a heading or a documented name.
SITE = 'https://fastmm.github.io/fastmm/'

def heading_id(text):
    "The id pandoc (so Quarto) gives a heading: links to their text, punctuation dropped, lower case, spaces to hyphens"
    m = re.search(r'\{#([\w.-]+)[^}]*\}\s*$', text)
    if m: return m.group(1)
    t = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', text)
    t = ''.join(ch for ch in t if ch.isalnum() or ch in '_-. ').lower().strip().replace(' ', '-')
    return re.sub(r'^[^a-z]+', '', t) or 'section'

def test_heading_id():
    "The examples of pandoc's manual (auto_identifiers), and a show_doc name"
    assert heading_id('Heading identifiers in HTML') == 'heading-identifiers-in-html'
    assert heading_id("Maître d'hôtel") == 'maître-dhôtel' and heading_id('*Dogs*?--in *my* house?') == 'dogs--in-my-house'
    assert heading_id('[HTML], [S5], or [RTF]?') == 'html-s5-or-rtf' and heading_id('3. Applications') == 'applications'
    assert heading_id('33') == 'section' and heading_id('BenchResult.text') == 'benchresult.text'
    assert heading_id('Compile time {#compile}') == 'compile'

def page_texts(p):
    "The Markdown of processed notebook `p` as Quarto reads it: markdown cells and Markdown outputs, code blocks left out"
    cells_ = [''.join(c['source']) for c in json.loads(p.read_text())['cells'] if c['cell_type'] == 'markdown']
    return [re.sub(r'^(`{3,}|~{3,}).*?^\1', '', t, flags=re.S | re.M) for t in cells_ + [md for _, md in markdown_outputs(p)]]

def page_anchors(p):
    "Every id on the page: its headings' (pandoc numbers repeats -1, -2, ...), show_doc's (a heading per name), explicit ids"
    ids, seen, out = [], {}, set()
    for t in page_texts(p):
        ids += [heading_id(h) for h in re.findall(r'^#{1,6}\s+(.+?)\s*$', t, re.M)] + re.findall(r'\bid="([^"]+)"', t)
    for i in ids:
        out.add(f"{i}-{seen[i]}" if seen.get(i) else i); seen[i] = seen.get(i, 0) + 1
    return out

def page_links(text):
    return re.findall(r'\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)', text) + re.findall(r'href="([^"]+)"', text)

def broken_links(proc):
    "(page, link) for each internal link, in the pages and README.md, whose page or anchor does not exist"
    anchors = {url: page_anchors(proc/nb) for nb, url in URLS.items()}
    sources = [(url, l) for nb, url in URLS.items() for t in page_texts(proc/nb) for l in page_links(t)]
    sources += [('README.md', l) for l in page_links((ROOT/'README.md').read_text()) if l.startswith(SITE)]
    out, checked = [], 0
    for url, link in sources:
        target = link[len(SITE):] or 'index.html' if link.startswith(SITE) else link
        if re.match(r'[a-z]+:|//', target) or target.startswith('results/'): continue
        page, _, anchor = target.partition('#')
        checked += 1
        if (page or url) not in anchors or (anchor and anchor not in anchors[page or url]): out.append((url, target))
    assert checked >= 100, checked
    return out

def test_no_broken_links(proc):
    "No internal link or anchor of the site is broken: every page, heading and documented name a link names exists"
    assert broken_links(proc) == []

@pytest.mark.skipif(not shutil.which('pandoc'), reason="pandoc is not installed here")
def test_readme_is_what_tools_readme_writes(proc):
    "README.md is what tools/readme.py (nbdev_readme with pandoc in Quarto's place) makes of index.ipynb"
    sys.path.insert(0, str(ROOT/'tools'))
    try: from readme import readme
    finally: sys.path.pop(0)
    assert readme(proc/'index.ipynb') == (ROOT/'README.md').read_text(), "README.md is stale: run python tools/readme.py"


def test_results_page_is_current(monkeypatch):
    "The Results page shows what its cells make of nbs/results now: its rendering cell is slow (nbdev_test skips it), so it is run here"
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    monkeypatch.chdir(ROOT/'nbs')
    nb, sh = read_nb('11_results.ipynb'), CaptureShell(mpl_format='png')
    text = lambda outs: [o.get('text') or o.get('data', {}).get('text/markdown') for o in outs if o.get('text') or 'text/markdown' in o.get('data', {})]
    for c in nb.cells:
        if c.cell_type != 'code' or re.search(r'^#\|\s*eval:\s*false', c.source, re.M): continue
        outs = sh.run(c.source)
        assert not sh.exc, f"{c.source[:60]!r}: {sh.exc}"
        assert text(outs) == text(c.outputs), f"stored outputs of {c.source[:60]!r} are stale: run it again (RUN_SLOW)"
