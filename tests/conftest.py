import json, shutil, subprocess, sys, types
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def run(*args, cwd=ROOT, check=True, **kw):
    "Run a command (a tool from this venv if it is one), returning the completed process"
    exe = BIN/args[0]
    cmd = [str(exe) if exe.exists() else args[0], *map(str, args[1:])]
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)
    if check and p.returncode: raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p

MAINS = r'''
import contextlib, io, json, sys
from fastmm.__main__ import main
got = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main(argv)
    got.append((rc, out.getvalue(), err.getvalue()))
print(json.dumps(got))
'''

def mains(argvs, cwd):
    "`fastmm-bench`'s `main` on each of `argvs` in turn, in one fresh process (a fresh `fastmm-bench` takes seconds to start): for each, its exit status and what it wrote, as a completed process has them"
    got = json.loads(run(sys.executable, '-c', MAINS, json.dumps(argvs), cwd=cwd).stdout)
    return [types.SimpleNamespace(returncode=rc, stdout=out, stderr=err) for rc, out, err in got]

def tracked_files():
    "The files git would commit: tracked plus untracked-but-not-ignored"
    out = run('git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z').stdout
    return sorted(f for f in out.split('\0') if f and (ROOT/f).is_file())

@pytest.fixture
def repo_copy(tmp_path):
    "A copy of the working tree as git sees it (no venv, no build outputs)"
    dest = tmp_path/'repo'
    for f in tracked_files():
        (dest/f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT/f, dest/f)
    return dest
