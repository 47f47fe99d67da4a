"Repository hygiene: notebooks and library in sync, notebooks clean, pages in order, CI files valid, README in sync"
import json, re, sys, textwrap
from pathlib import Path
import yaml
from conftest import ROOT, run, tracked_files

def changed(before:Path, after:Path, files):
    return [f for f in files if (before/f).read_bytes() != (after/f).read_bytes()]

def test_library_in_sync_with_notebooks(repo_copy):
    "nbdev_export on a copy of the repo changes nothing in fastmm/"
    lib = [f for f in tracked_files() if f.startswith('fastmm/')]
    assert 'fastmm/matmul.py' in lib
    run('nbdev_export', cwd=repo_copy)
    assert changed(ROOT, repo_copy, lib) == [], "fastmm/ is stale: run nbdev_export"
    new = {str(p.relative_to(repo_copy)) for p in (repo_copy/'fastmm').glob('*.py')} - set(lib)
    assert not new, f"nbdev_export makes modules that are not committed: {new}"

def test_notebooks_clean(repo_copy):
    "nbdev_clean on a copy of the repo changes nothing"
    nbs = [f for f in tracked_files() if f.endswith('.ipynb')]
    run('nbdev_clean', cwd=repo_copy)
    assert changed(ROOT, repo_copy, nbs) == [], "notebooks are not clean: run nbdev_clean"

def cells(f): return json.loads(Path(f).read_text())['cells']

def test_no_stored_errors():
    "No notebook stores a traceback, an error output or a warning"
    for f in ROOT.glob('nbs/*.ipynb'):
        for cell in cells(f):
            for o in cell.get('outputs', []):
                assert o['output_type'] != 'error', f"{f.name} stores an error: {o.get('ename')}"
                text = ''.join(o.get('text', ''))
                assert 'Traceback (most recent call last)' not in text, f"{f.name} stores a traceback"
                assert not (o.get('name') == 'stderr' and 'Warning' in text), f"{f.name} stores a warning: {text[:200]}"

def test_no_legacy_export_flags():
    "nbdev 2 silently ignores `#export` (without the bar)"
    for f in ROOT.glob('nbs/*.ipynb'):
        for cell in cells(f):
            src = ''.join(cell['source'])
            assert not re.search(r'^#\s*(export|default_exp|hide)\b', src, re.M), f"{f.name}: use '#| ' directives"

def test_no_cell_mixes_imports_and_code():
    "nbdev_docs runs every cell with an import to build the API docs, and warns about cells that also do other work"
    import ast
    from IPython.core.inputtransformer2 import TransformerManager
    for f in ROOT.glob('nbs/*.ipynb'):
        for c in cells(f):
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or re.search(r'^#\|\s*(export|eval:\s*false)', src, re.M): continue
            tree = ast.parse(TransformerManager().transform_cell(src))   # %timeit and friends, as IPython runs them
            kinds = {type(n) for n in ast.walk(tree)}
            assert not ({ast.Import, ast.ImportFrom} & kinds and {ast.Expr, ast.Assign} & kinds), f"{f.name}: split this cell:\n{src[:300]}"

def nb_number(name): return (int(re.match(r'\d+', name).group()), name.split('_')[0])  # 06a comes after 06, before 07

def test_lower_pages_never_reach_up():
    "A notebook imports fastmm modules only from notebooks numbered below it (or itself)"
    defines = {}
    for f in ROOT.glob('nbs/[0-9]*.ipynb'):
        m = re.search(r'^#\|\s*default_exp\s+(\S+)', '\n'.join(''.join(c['source']) for c in cells(f)), re.M)
        if m: defines[m.group(1)] = nb_number(f.name)
    assert {'machine', 'matmul', 'timing', 'report', 'jit', 'peak', 'tile', 'gemm', 'gpu', 'hopper', 'rungs', 'plan', 'isolation', 'bench', 'compiling', '__main__'} <= set(defines)
    for f in ROOT.glob('nbs/[0-9]*.ipynb'):
        src = '\n'.join(''.join(c['source']) for c in cells(f) if c['cell_type'] == 'code')
        for mod in re.findall(r'(?:from|import)\s+fastmm\.(\w+)', src):
            assert defines[mod] <= nb_number(f.name), f"{f.name} imports fastmm.{mod}, defined by a later page"

def test_sidebar_lists_every_page_once():
    contents = yaml.safe_load((ROOT/'nbs/sidebar.yml').read_text())['website']['sidebar']['contents']
    flat = []
    for c in contents: flat += c['contents'] if isinstance(c, dict) else [c]
    assert sorted(flat) == sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb')) and len(flat) == len(set(flat))
    assert flat[0] == 'index.ipynb'

def test_workflows_validate():
    files = sorted((ROOT/'.github/workflows').glob('*.y*ml'))
    assert {f.name for f in files} >= {'test.yaml', 'deploy.yaml', 'release.yaml'}
    run('check-jsonschema', '--builtin-schema', 'vendor.github-workflows', *files)

def test_release_workflow():
    "Tags build, check and publish with trusted publishing; only the publishing job may mint an OIDC token"
    wf = yaml.safe_load((ROOT/'.github/workflows/release.yaml').read_text())
    assert wf[True]['push']['tags'] and wf['permissions'] == {'contents': 'read'}
    steps = ' '.join(str(s) for j in wf['jobs'].values() for s in j['steps'])
    assert 'python -m build' in steps and 'twine check --strict' in steps and 'pypa/gh-action-pypi-publish' in steps
    for name, job in wf['jobs'].items():
        has_oidc = job.get('permissions', {}).get('id-token') == 'write'
        assert has_oidc == any('pypi-publish' in str(s) for s in job['steps']), name

# README.md is written by nbdev_readme (Quarto) from index.ipynb. Quarto re-wraps the text, pads the tables and
# writes fences as "``` sh", so everything that reads README.md must accept both forms.
CMD_RE = r'exact\s+command\s+CI\s+runs:\s*```\s*\w*\s*\n(.+?)\n```'

def readme_test_command(text):
    m = re.search(CMD_RE, text, re.S)
    assert m, "README.md must give the test command after 'exact command CI runs:'"
    return m.group(1).strip()

def ci_command(readme_dir):
    "The test command as .ci/run finds it (its own parser, run on README.md in `readme_dir`)"
    script = (ROOT/'.ci/run').read_text()
    code = re.search(r"<<'PY'\n(.+?)\nPY", script, re.S).group(1)
    return run(sys.executable, '-c', code, cwd=readme_dir).stdout.strip()

def test_ci_runs_the_readme_command(tmp_path):
    "GitHub's workflow and .ci/run run the test command that README.md gives"
    cmd = readme_test_command((ROOT/'README.md').read_text())
    assert cmd.startswith('nbdev_test') and 'pytest' in cmd
    assert f"run: {cmd}" in (ROOT/'.github/workflows/test.yaml').read_text()
    (tmp_path/'README.md').write_text((ROOT/'README.md').read_text())
    assert ci_command(tmp_path) == cmd

QUOTES = str.maketrans({'\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"'})

def normalize(md):
    "Markdown with the differences Quarto's rewrite makes taken out: wrapping, table padding, fence style, curly quotes"
    md = md.translate(QUOTES)
    md = re.sub(r'```\s*(\w*)', r'```\1', md)
    md = re.sub(r'^\|?[\s:|-]+\|[\s:|-]*$', '|---|', md, flags=re.M)      # table rules
    md = re.sub(r' *\| *', '|', md)                                      # table padding
    return ' '.join(md.split())

def index_texts():
    "The markdown cells and visible code cells of index.ipynb, as README.md must hold them"
    out = []
    for c in cells(ROOT/'nbs/index.ipynb'):
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown' and not src.strip().startswith(':::'): out.append(src)
        if c['cell_type'] == 'code' and not src.startswith('#|'): out.append(src)
    return out

def title_and_description(): return re.match(r'# (.+)\n\n> (.+)', index_texts()[0]).groups()

def check_readme(readme):
    assert readme.startswith(f"# {title_and_description()[0]}\n")
    n = normalize(readme)
    for text in index_texts()[1:]: assert normalize(text) in n, f"README.md lacks index.ipynb's text:\n{text[:300]}"
    assert not re.search(r'^#\|', readme, re.M), "README.md shows an nbdev directive"
    # GitHub and PyPI show README.md away from the site: an image must come from an absolute URL
    for src in re.findall(r'!\[[^\]]*\]\(([^)\s]+)|<img[^>]*\ssrc="([^"]+)"', readme):
        assert ''.join(src).startswith('https://'), f"README.md shows an image by a relative path: {src}"

def test_readme_in_sync_with_index():
    check_readme((ROOT/'README.md').read_text())

AUTOGEN = '<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->'

def nbdev_markdown():
    "index.ipynb as nbdev hands it to Quarto, in Markdown: title, the AUTOGENERATED comment, the description, the cells"
    title, desc = title_and_description()
    body = [t if c['cell_type'] == 'markdown' else f"```python\n{t}\n```" for c in cells(ROOT/'nbs/index.ipynb')
            for t in [''.join(c['source'])] if t in index_texts()[1:]]
    return '\n\n'.join([f"# {title}", AUTOGEN, f"> {desc}", *body]) + '\n'

def smart_quotes(text):
    "Straight quotes made curly as pandoc's `smart` extension does, outside code spans, link targets and HTML"
    parts = re.split(r'(`[^`]*`|\]\([^)]*\)|<[^>]*>)', text)
    for i in range(0, len(parts), 2):
        t = re.sub(r"(?<=\w)'(?=\w)", '\u2019', parts[i])                 # don't, course's
        t = re.sub(r'(^|(?<=[\s(\[{]))"', '\u201c', t); t = t.replace('"', '\u201d')
        t = re.sub(r"(^|(?<=[\s(\[{]))'", '\u2018', t); parts[i] = t.replace("'", '\u2019')
    return ''.join(parts)

def quarto_like_rewrite(md):
    "What nbdev_readme does to README.md where Quarto is installed (Quarto 1.10, pandoc's gfm writer): the title, two "
    "blank lines and the AUTOGENERATED comment; no description; text re-wrapped at 72 with curly quotes; padded tables; "
    "'``` sh' fences"
    out, para, in_code = [], [], False
    def flush():
        if para: out.extend(textwrap.wrap(smart_quotes(' '.join(para)), 72, break_on_hyphens=False, break_long_words=False)); para.clear()
    for line in md.splitlines():
        if line.startswith('```'):
            flush(); in_code = not in_code
            out.append(re.sub(r'^```(\w+)', r'``` \1', line)); continue
        if in_code or line.startswith('    '): out.append(line); continue
        if line.startswith('> ') or line == AUTOGEN: flush(); continue
        if line.startswith('# ') and not out: out += [line, '', AUTOGEN]; continue
        if line.startswith('|'):
            flush(); cells_ = [c.strip() for c in line.strip('|').split('|')]
            out.append('| ' + ' | '.join(c.ljust(14) for c in cells_) + ' |'); continue
        if not line.strip() or line.startswith(('#', '- ', '<')) or re.match(r'\d+\.\s', line):   # a list item of any number
            flush(); out.append(smart_quotes(line) if line.startswith('#') else line); continue
        para.append(line.strip())
    flush()
    text = re.sub(r'\n{3,}', '\n\n', '\n'.join(out))                      # one blank line between blocks...
    return text.replace('\n\n' + AUTOGEN, '\n\n\n' + AUTOGEN, 1) + '\n'     # ...but two after the title

def test_rewrite_is_quartos():
    "The simulated rewrite makes the changes the real one makes: curly quotes, no description, the comment moved"
    src = nbdev_markdown()
    title, desc = title_and_description()
    new = quarto_like_rewrite(src)
    assert src.startswith(f"# {title}\n\n{AUTOGEN}\n\n> {desc}\n") and new.startswith(f"# {title}\n\n\n{AUTOGEN}\n\n")
    assert f"> {desc}" not in new and new.count(AUTOGEN) == 1
    assert "fast.ai's course-v3" in src and "fast.ai\u2019s course-v3" in new
    assert '``` sh' in new and "pip install -e \".[dev" in new, "quotes in code stay straight"
    assert smart_quotes('say "Get started" and \'hi\', don\'t `a\'s` [x](a\'b)') == \
        'say \u201cGet started\u201d and \u2018hi\u2019, don\u2019t `a\'s` [x](a\'b)'

def test_suite_survives_readme_rewrite(tmp_path):
    "After nbdev_readme writes README.md from index.ipynb, the README checks and .ci/run still find everything"
    readme = (ROOT/'README.md').read_text()
    for new in (quarto_like_rewrite(nbdev_markdown()), quarto_like_rewrite(readme)):
        assert re.search('[\u2019\u201c]', new)
        assert readme_test_command(new) == readme_test_command(readme)
        (tmp_path/'README.md').write_text(new)
        assert ci_command(tmp_path) == readme_test_command(new)
        check_readme(new)
    assert normalize(quarto_like_rewrite(readme)) == normalize(readme), "README.md is not in the form Quarto writes"

def test_readme_example_prints_what_it_shows():
    "The README's RUNGS example, run as written, prints what the README shows where numba and Triton are installed and "
    "there is no GPU, as the README says; elsewhere the same rungs, each absent one with the reason that holds here"
    import ast
    texts = index_texts()
    imp = next(t for t in texts if t.strip() == 'from fastmm.rungs import RUNGS, ABSENT')
    src = texts[texts.index(imp) + 1]
    shown = next(''.join(o.get('text', '')) for c in cells(ROOT/'nbs/index.ipynb') if ''.join(c['source']) == src for o in c['outputs'])
    assert 'naive' in shown and ' '.join(shown.split()) in ' '.join((ROOT/'README.md').read_text().split())
    assert 'with numba and Triton and no GPU' in ' '.join(texts[texts.index(imp) - 1].split())
    out = run(sys.executable, '-c', imp + '\n' + src).stdout
    numba, triton, gpu = ast.literal_eval(run(sys.executable, '-c', "import importlib.util as u, torch; "
        "print((u.find_spec('numba') is not None, u.find_spec('triton') is not None, torch.cuda.is_available()))").stdout)
    if (numba, triton, gpu) == (True, True, False): assert out == shown; return
    (rungs, absent), (shown_rungs, shown_absent) = [map(ast.literal_eval, o.splitlines()) for o in (out, shown)]
    assert rungs + list(absent) == shown_rungs + list(shown_absent)
    for name in rungs + list(absent):
        if name.startswith('numba'): why = None if numba else 'numba is not installed'
        elif name.startswith('triton'): why = 'triton is not installed' if not triton else None if gpu else 'no CUDA GPU here'
        else: why = None
        assert (name in absent) == (why is not None) and (why is None or absent[name].startswith(why)), (name, absent.get(name))
