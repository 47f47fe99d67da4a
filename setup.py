from configparser import ConfigParser
import setuptools, shlex

# note: all settings are in settings.ini; edit there, not here
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name lib_path user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

# SPDX license expressions (PEP 639): setuptools wants these instead of "License ::" classifiers
licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT', 'gpl2': 'GPL-2.0-only', 'gpl3': 'GPL-3.0-only', 'bsd3': 'BSD-3-Clause'}
# Development Status classifiers, by the number `status` gives (3 is Alpha)
statuses = {1: 'Planning', 2: 'Pre-Alpha', 3: 'Alpha', 4: 'Beta', 5: 'Production/Stable', 6: 'Mature', 7: 'Inactive'}
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
if cfg.get('pip_requirements'): requirements += shlex.split(cfg.get('pip_requirements', ''))
min_python = cfg['min_python']
extras = {name: shlex.split(cfg.get(f'{name}_requirements') or '') for name in ('dev', 'jit', 'gpu')}
doc_url = cfg['doc_host'] + cfg['doc_baseurl'] + '/'

setuptools.setup(
    name = cfg['lib_name'],
    license_expression = licenses.get(cfg['license'].lower(), cfg['license']),
    license_files = ['LICENSE'],
    classifiers = [
        f"Development Status :: {cfg['status']} - {statuses[int(cfg['status'])]}",
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: '+o for o in py_versions[py_versions.index(min_python):]],
    url = doc_url,
    project_urls = {'Documentation': doc_url, 'Source': cfg['git_url'], 'Issues': cfg['git_url'] + '/issues'},
    packages = setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),   # the import package; lib_name is the distribution's
    include_package_data = True,
    install_requires = requirements,
    extras_require = extras,
    python_requires  = '>=' + cfg['min_python'],
    long_description = open('README.md', encoding='utf-8').read(),
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {
        'console_scripts': cfg.get('console_scripts','').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']
    },
    **setup_cfg)
