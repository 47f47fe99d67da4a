"Packaging: what `pip install fastmm` gets, and what importing it costs"
import json, subprocess, sys, zipfile, configparser
from email.parser import Parser
from conftest import ROOT, run

def cfg(): 
    c = configparser.ConfigParser(delimiters=['=']); c.read(ROOT/'settings.ini'); return c['DEFAULT']

def test_import_pulls_no_dev_tools():
    "Importing every fastmm module loads none of the notebook toolchain"
    code = ("import sys, pkgutil, importlib, fastmm\n"
            "mods = [m.name for m in pkgutil.iter_modules(fastmm.__path__, 'fastmm.')]\n"
            "for m in mods: importlib.import_module(m)\n"
            "heavy = sorted({n.split('.')[0] for n in sys.modules} & {'nbdev','execnb','IPython','ipykernel','matplotlib'})\n"
            "print(__import__('json').dumps(dict(mods=mods, heavy=heavy)))")
    res = json.loads(run(sys.executable, '-c', code).stdout)
    assert 'fastmm.matmul' in res['mods']
    assert res['heavy'] == [], f"import fastmm pulled in {res['heavy']}"

def test_version_matches_settings():
    import fastmm
    assert fastmm.__version__ == cfg()['version']

def test_runtime_requirements_exclude_toolchain():
    reqs = cfg()['requirements'].split()
    assert any(r.startswith('torch') for r in reqs)
    assert not [r for r in reqs if r.split('>')[0].split('=')[0].split('<')[0] in ('nbdev','execnb','ghapi','pytest')]

def test_wheel_and_sdist(repo_copy, tmp_path):
    "The built wheel holds the package and the right metadata, and twine accepts both distributions"
    dist = tmp_path/'dist'
    run(sys.executable, '-m', 'build', '--no-isolation', '--outdir', dist, repo_copy)
    wheels, sdists = list(dist.glob('*.whl')), list(dist.glob('*.tar.gz'))
    assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
    c = cfg()
    with zipfile.ZipFile(wheels[0]) as z:
        names = z.namelist()
        meta = Parser().parsestr(z.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode())
        eps = z.read(next(n for n in names if n.endswith('.dist-info/entry_points.txt'))).decode()
    assert 'fastmm/__init__.py' in names and 'fastmm/matmul.py' in names
    assert not [n for n in names if n.startswith(('nbs/', 'tests/'))]
    assert meta['Name'] == 'fastmm' and meta['Version'] == c['version']
    assert meta['Requires-Python'] == '>=' + c['min_python']
    requires = meta.get_all('Requires-Dist')
    assert any(r.startswith('torch') for r in requires) and not any(r.startswith('nbdev') and 'extra' not in r for r in requires)
    assert 'fastmm' in meta.get_payload() and 'Matrix multiplication' in meta['Summary']
    for script in c.get('console_scripts', '').split(): assert script.replace('=', ' = ') in eps
    run('twine', 'check', '--strict', *wheels, *sdists)

def test_jit_extra_in_metadata(repo_copy, tmp_path):
    "fastmm[jit] declares numba"
    run(sys.executable, '-m', 'build', '--no-isolation', '--wheel', '--outdir', tmp_path/'dist', repo_copy)
    whl = next((tmp_path/'dist').glob('*.whl'))
    with zipfile.ZipFile(whl) as z:
        meta = Parser().parsestr(z.read(next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))).decode())
    assert 'jit' in meta.get_all('Provides-Extra')
    assert any(r.startswith('numba') and 'extra == "jit"' in r for r in meta.get_all('Requires-Dist'))
    assert not any(r.startswith('numba') and 'extra' not in r for r in meta.get_all('Requires-Dist'))

def test_works_without_numba():
    "With numba missing, fastmm imports, the compiled rungs are absent and results say why"
    code = ("import sys; sys.modules['numba'] = None\n"
            "import json, fastmm.jit, fastmm.bench as b\n"
            "from fastmm.matmul import RUNGS\n"
            "r = b.ladder(2, 8, 3, rungs=None, min_run_time=0.01)\n"
            "import torch\n"
            "try: fastmm.jit.matmul_numba_packed(torch.ones(2, 2), torch.ones(2, 2)); err = None\n"
            "except ImportError as e: err = str(e)\n"
            "print(json.dumps(dict(rungs=list(RUNGS), numba=fastmm.jit.numba, notes=r.notes, md=r.markdown(), err=err)))")
    res = json.loads(run(sys.executable, '-c', code).stdout)
    assert res['numba'] is None and res['rungs'] == ['naive', 'elementwise', 'broadcast', 'broadcast_full', 'einsum', 'torch']
    assert any('numba is not installed' in n for n in res['notes']) and 'numba is not installed' in res['md']
    assert res['err'] == 'the compiled rungs need numba: pip install "fastmm[jit]"'
