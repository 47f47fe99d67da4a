"Repository hygiene: notebooks and library in sync, notebooks clean, CI files valid, README in sync"
import json, re, subprocess
from pathlib import Path
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

def test_no_stored_errors():
    "No notebook stores a traceback or an error output"
    for f in ROOT.glob('nbs/*.ipynb'):
        for cell in json.loads(f.read_text())['cells']:
            for o in cell.get('outputs', []):
                assert o['output_type'] != 'error', f"{f.name} stores an error: {o.get('ename')}"
                text = ''.join(o.get('text', ''))
                assert 'Traceback (most recent call last)' not in text, f"{f.name} stores a traceback"

def test_no_legacy_export_flags():
    "nbdev 2 silently ignores `#export` (without the bar)"
    for f in ROOT.glob('nbs/*.ipynb'):
        for cell in json.loads(f.read_text())['cells']:
            src = ''.join(cell['source'])
            assert not re.search(r'^#\s*(export|default_exp|hide)\b', src, re.M), f"{f.name}: use '#| ' directives"

def test_workflows_validate():
    files = sorted((ROOT/'.github/workflows').glob('*.y*ml'))
    assert {f.name for f in files} >= {'test.yaml', 'deploy.yaml'}
    run('check-jsonschema', '--builtin-schema', 'vendor.github-workflows', *files)

def readme_test_command():
    m = re.search(r'exact command CI runs:\s*```\w*\n(.+?)\n```', (ROOT/'README.md').read_text(), re.S)
    assert m, "README.md must give the test command after 'exact command CI runs:'"
    return m.group(1).strip()

def test_ci_runs_the_readme_command():
    "GitHub's workflow runs the same test command that README.md gives (and .ci/run reads from it)"
    cmd = readme_test_command()
    assert cmd.startswith('nbdev_test') and 'pytest' in cmd
    assert f"run: {cmd}" in (ROOT/'.github/workflows/test.yaml').read_text()
    assert 'exact command CI runs' in (ROOT/'.ci/run').read_text()

def nb_markdown(name):
    cells = json.loads((ROOT/'nbs'/name).read_text())['cells']
    return [''.join(c['source']) for c in cells if c['cell_type'] == 'markdown']

def test_readme_in_sync_with_index():
    "README.md holds every markdown cell and visible code cell of nbs/index.ipynb"
    readme = (ROOT/'README.md').read_text()
    md = nb_markdown('index.ipynb')
    title, desc = re.match(r'# (.+)\n\n> (.+)', md[0]).groups()
    assert f"# {title}" in readme and f"> {desc}" in readme
    for text in md[1:]: assert text.strip() in readme, f"README.md lacks index.ipynb's text:\n{text[:200]}"
    cells = json.loads((ROOT/'nbs/index.ipynb').read_text())['cells']
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] == 'code' and not src.startswith('#| hide'): assert src in readme, f"README.md lacks:\n{src}"
