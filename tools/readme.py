#!/usr/bin/env python
"""README.md from nbs/index.ipynb where Quarto is not installed: what `nbdev_readme` does, with pandoc in Quarto's place.

nbdev_readme processes the notebooks (nbdev_proc_nbs) and has Quarto render _proc/index.ipynb to GitHub Markdown.
This script takes the same processed notebook and does what Quarto does with it before pandoc writes the Markdown:
the title from the front matter and no description, code hidden by `echo: false`, `output: asis` text read as
Markdown, `content-visible when-format="html"` blocks left out, `#|` lines removed. Pandoc (2.17 or newer) then
writes it as Quarto would: text wrapped at 72 columns, "``` sh" fences, curly quotes.
Run it from the repository root: python tools/readme.py
"""
import json, re, subprocess, sys, tempfile
from pathlib import Path
import yaml

def quarto_cells(nb):
    "The cells of processed notebook `nb` as Quarto hands them to pandoc for gfm, and the front matter"
    cells, fm, hidden = [], {}, False
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and src.startswith('---'): fm = yaml.safe_load(src.strip().strip('-')); continue
        if c['cell_type'] == 'markdown' and re.match(r':::\s*\{\.content-visible when-format="html"\}', src): hidden = True; continue
        if hidden:
            if c['cell_type'] == 'markdown' and src.strip() == ':::': hidden = False
            continue
        if c['cell_type'] != 'code': cells.append(dict(c, source=src)); continue
        opts = dict(re.findall(r'^#\|\s*([\w-]+):\s*(\S+)', src, re.M))
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
        outs = []
        for o in c.get('outputs', []):
            if opts.get('output') == 'asis' and o['output_type'] == 'stream':
                cells.append(dict(cell_type='markdown', id=f"{c['id']}-asis", metadata={}, source=''.join(o['text'])))
            elif 'text/markdown' in o.get('data', {}):
                cells.append(dict(cell_type='markdown', id=f"{c['id']}-md", metadata={}, source=''.join(o['data']['text/markdown'])))
            else: outs.append(dict(o, execution_count=1) if 'execution_count' in o else o)   # pandoc 2.17 rejects a null count
        if opts.get('echo') != 'false' or outs:
            cells.append(dict(c, source=code if opts.get('echo') != 'false' else '', outputs=outs, execution_count=1))
    return cells, fm

def readme(proc_index:Path):
    "README.md's text from _proc/index.ipynb"
    nb = json.loads(proc_index.read_text())
    cells, fm = quarto_cells(nb)
    with tempfile.TemporaryDirectory() as d:
        f = Path(d)/'index.ipynb'
        f.write_text(json.dumps(dict(nb, cells=cells)))
        (Path(d)/'unwrap.lua').write_text('function Div(el) return el.content end\n')   # Quarto writes cells without their divs
        body = subprocess.run(['pandoc', '-f', 'ipynb+smart', '-t', 'gfm', '--lua-filter', str(Path(d)/'unwrap.lua'), str(f)],
                              capture_output=True, text=True, check=True).stdout
    assert not re.search(r'!\[[^\]]*\]\((?!https://)', body), "README.md would show an image by a relative path"
    return f"# {fm['title']}\n\n\n{body}"

if __name__ == '__main__':
    subprocess.run([str(Path(sys.executable).parent/'nbdev_proc_nbs')], check=True, capture_output=True)
    Path('README.md').write_text(readme(Path('_proc/index.ipynb')))
