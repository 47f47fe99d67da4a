"Packaging: what `pip install fastmm-ladder` gets, what importing it costs, and how it behaves without its extras"
import json, re, sys, tarfile, zipfile, configparser
from email.parser import Parser
import pytest
from conftest import ROOT, run

def cfg():
    c = configparser.ConfigParser(delimiters=['=']); c.read(ROOT/'settings.ini'); return c['DEFAULT']

def test_import_pulls_no_dev_tools():
    "Importing every fastmm module loads none of the notebook toolchain; `import fastmm` alone loads not even torch"
    code = ("import sys, pkgutil, importlib, fastmm\n"
            "light = sorted({n.split('.')[0] for n in sys.modules} & {'torch', 'numpy'})\n"
            "mods = [m.name for m in pkgutil.iter_modules(fastmm.__path__, 'fastmm.')]\n"
            "for m in mods: importlib.import_module(m)\n"
            "heavy = sorted({n.split('.')[0] for n in sys.modules} & {'nbdev','execnb','IPython','ipykernel','matplotlib','fastcore'})\n"
            "print(__import__('json').dumps(dict(mods=mods, heavy=heavy, light=light)))")
    res = json.loads(run(sys.executable, '-c', code).stdout)
    assert {'fastmm.matmul', 'fastmm.rungs', 'fastmm.bench', 'fastmm.__main__'} <= set(res['mods'])
    assert res['heavy'] == [], f"import fastmm pulled in {res['heavy']}"
    assert res['light'] == []

def test_version_matches_settings():
    import fastmm
    assert fastmm.__version__ == cfg()['version']

def test_runtime_requirements_exclude_toolchain():
    reqs = [r.split('>')[0].split('=')[0].split('<')[0] for r in cfg()['requirements'].split()]
    assert 'torch' in reqs and not set(reqs) & {'nbdev', 'execnb', 'ghapi', 'pytest', 'fastcore', 'fastprogress'}

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    "Build the sdist and the wheel from a copy of the repo, once; keep the build's output"
    from conftest import tracked_files
    import shutil
    src, out = tmp_path_factory.mktemp('src'), tmp_path_factory.mktemp('dist')
    for f in tracked_files():
        (src/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT/f, src/f)
    p = run(sys.executable, '-m', 'build', '--no-isolation', '--outdir', out, src)
    wheels, sdists = list(out.glob('*.whl')), list(out.glob('*.tar.gz'))
    assert len(wheels) == 1 and len(sdists) == 1, list(out.iterdir())
    return wheels[0], sdists[0], p.stdout + p.stderr

def metadata(whl):
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        meta = Parser().parsestr(z.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode())
        eps = z.read(next(n for n in names if n.endswith('.dist-info/entry_points.txt'))).decode()
    return names, meta, eps

def test_wheel(dist):
    "The wheel holds the package and the right metadata"
    names, meta, eps = metadata(dist[0])
    c = cfg()
    assert 'fastmm/__init__.py' in names and 'fastmm/__main__.py' in names and 'fastmm/jit.py' in names
    assert not [n for n in names if n.startswith(('nbs/', 'tests/', 'tools/'))]
    assert meta['Name'] == c['lib_name'] and meta['Version'] == c['version'] and meta['Requires-Python'] == '>=' + c['min_python']
    requires = meta.get_all('Requires-Dist')
    assert any(r.startswith('torch') for r in requires) and not any(r.startswith('nbdev') and 'extra' not in r for r in requires)
    assert 'Matrix multiplication' in meta['Summary']
    assert 'fastmm-bench = fastmm.__main__:main' in eps

def test_metadata_license_status_urls(dist):
    "An SPDX license expression and no deprecated license classifier; Alpha for 0.0.x; where the docs, source and issues are"
    _, meta, _ = metadata(dist[0])
    assert meta['License-Expression'] == 'Apache-2.0'
    classifiers = meta.get_all('Classifier')
    assert not [c for c in classifiers if c.startswith('License ::')]
    assert 'Development Status :: 3 - Alpha' in classifiers
    urls = dict(u.split(', ', 1) for u in meta.get_all('Project-URL'))
    assert urls == {'Documentation': 'https://fastmm.github.io/fastmm/', 'Source': 'https://github.com/fastmm/fastmm',
                    'Issues': 'https://github.com/fastmm/fastmm/issues'}
    assert not re.search(r'^\s*#\|', meta.get_payload(), re.M), "the PyPI description shows an nbdev directive"

def test_build_does_not_warn(dist):
    out = dist[2]
    assert 'deprecated' not in out.lower() and 'no previously-included files' not in out, out

def test_sdist(dist):
    "The sdist builds the same package; it ships no tests, which need the whole repository (notebooks, CI files) to run"
    with tarfile.open(dist[1]) as t: names = t.getnames()
    root = names[0].split('/')[0]
    assert f'{root}/fastmm/matmul.py' in names and f'{root}/README.md' in names and f'{root}/LICENSE' in names
    assert not [n for n in names if '/tests/' in n or '/nbs/' in n]
    manifest = (ROOT/'MANIFEST.in').read_text().splitlines()
    for line in manifest:
        if line.startswith('include '): assert (ROOT/line.split()[1]).exists(), line

def test_twine_check(dist):
    run('twine', 'check', '--strict', dist[0], dist[1])

def test_extras_in_metadata(dist):
    "fastmm[jit] declares numba, fastmm[gpu] triton; neither is required"
    _, meta, _ = metadata(dist[0])
    assert {'jit', 'gpu', 'dev'} <= set(meta.get_all('Provides-Extra'))
    req = meta.get_all('Requires-Dist')
    assert any(r.startswith('numba') and 'extra == "jit"' in r for r in req)
    assert any(r.startswith('triton') and 'extra == "gpu"' in r for r in req)
    assert not any(r.startswith(('numba', 'triton')) and 'extra' not in r for r in req)

@pytest.mark.parametrize('blocked, names, extra', [('numba', ['numba', 'numba_ikj', 'numba_tiled', 'numba_packed', 'numba_parallel'], 'jit'),
                                                    ('triton', ['triton_naive', 'triton_tiled', 'triton_tuned'], 'gpu')])
def test_works_without_an_extra(blocked, names, extra):
    "With an extra's package missing, fastmm imports, its rungs are in ABSENT with the reason, and calling one says what to install"
    code = (f"import sys; sys.modules[{blocked!r}] = None\n"
            "import json, torch, fastmm.bench as B\n"
            "from fastmm.rungs import RUNGS, ABSENT, LADDER\n"
            "from fastmm.plan import plan\n"
            "r = B.ladder(plan(shape=(2, 8, 3), min_run_time=0.01))\n"
            f"f = next(f for f in LADDER if f.rung.name == {names[0]!r})\n"
            "try: f(torch.ones(2, 2), torch.ones(2, 2)); err = None\n"
            "except ImportError as e: err = str(e)\n"
            "print(json.dumps(dict(rungs=list(RUNGS), absent=ABSENT, notes=r.notes, text=r.text(), err=err)))")
    res = json.loads(run(sys.executable, '-c', code).stdout)
    assert not set(names) & set(res['rungs']) and set(names) <= set(res['absent'])
    why = res['absent'][names[0]]
    assert re.search(rf'pip install "[\w-]+\[{extra}\]"', why) and why in res['err']
    assert any(names[0] in n for n in res['notes']) and names[0] in res['text']

def pip_installs(text):
    "The distributions that the `pip install` commands in `text` name (flags, URLs, paths and comments left out)"
    out = []
    for line in re.findall(r'pip install ([^\n`)]+)', text.replace('\\"', '"')):
        toks = line.split('#')[0].split()
        for prev, t in zip([''] + toks, toks):
            if t.startswith('-') or prev in ('--index-url', '-i', '--extra-index-url'): continue
            m = re.match(r'"?([A-Za-z][\w.-]*)', t)
            if m: out.append(m.group(1))
    return out

def test_distribution_name(dist):
    "One distribution name, free on PyPI (`fastmm` there is Fast Map Matching), in settings.ini, README.md, the release workflow and the wheel"
    name = cfg()['lib_name']
    assert name != 'fastmm' and cfg()['lib_path'] == 'fastmm' and 'fastmm-bench=fastmm.__main__:main' in cfg()['console_scripts']
    readme = (ROOT/'README.md').read_text()
    code = '\n'.join(re.findall(r'```[ \w]*\n(.*?)```', readme, re.S))
    ours = [d for d in pip_installs(code) if d.startswith('fastmm')]
    assert ours and set(ours) == {name}, ours
    assert "`pip install fastmm` would" in readme and 'Fast Map Matching' in readme, "README.md says why the short name is not it"
    release = (ROOT/'.github/workflows/release.yaml').read_text()
    assert f"https://pypi.org/project/{name}/" in release
    assert dist[0].name.startswith(name.replace('-', '_') + '-') and dist[1].name.startswith(name.replace('-', '_') + '-')
    _, meta, _ = metadata(dist[0])
    assert meta['Name'] == name

def test_pip_installs_name_the_distribution():
    "Every `pip install` of this project, in notebooks, library, tests and tools, names the distribution"
    name, wrong = cfg()['lib_name'], []
    for f in [*ROOT.glob('nbs/*.ipynb'), *ROOT.glob('fastmm/*.py'), *ROOT.glob('tests/*.py'), *ROOT.glob('tools/*'), ROOT/'README.md']:
        text = f.read_text().replace('`pip install fastmm` would', '')   # the home page's word on why the short name is not it
        wrong += [f"{f.relative_to(ROOT)}: {d}" for d in pip_installs(text) if d.startswith('fastmm') and d != name]
    assert not wrong, wrong
