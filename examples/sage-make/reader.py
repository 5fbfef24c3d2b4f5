#!/usr/bin/env python3
"""A Python client reading a prefix while it is being built, the way SageMath's own build does.

    python3 -I reader.py --prefix PREFIX [--stop-file FILE] [--seconds N] [--pycache DIR]

Polls until FILE exists (then polls once more: the *final* poll) or N seconds have passed. Each
poll:

1. lists the distributions with ``importlib.metadata.distributions(path=[SITE])``
   (SITE = PREFIX/usr/lib/python3/dist-packages; nothing else is listed);
2. for every distribution found: imports each top-level module of its ``top_level.txt`` *fresh*
   (every module loaded from SITE, or named like something in SITE, is dropped from
   ``sys.modules`` and the import caches are invalidated) and checks that its ``__file__``
   (``__path__`` for a namespace package) lies inside SITE; loads every entry point of its
   ``entry_points.txt`` whose module is one of those top-level modules; checks that every file its
   RECORD lists exists with the recorded sha256 and size;
3. if ``pkg_resources`` can be found in SITE: imports it fresh and iterates
   ``pkg_resources.WorkingSet([SITE])`` (project name, version, entry map of each).

sys.path is: the standard library, then SITE, then the system's site-packages, so that what the
packages need from outside the corpus (jinja2 needs markupsafe, setuptools_scm needs packaging)
comes from the system, while nothing the prefix has can come from anywhere else.

**What counts as a violation** — a distribution visible whose modules are missing, fail to import
from the prefix, or whose files are half-present:

* a RECORD-listed file missing or with the wrong hash or size;
* a top-level module of the distribution that imports from outside SITE (the prefix's copy is
  missing, so the system's was found instead) or does not import;
* an entry point (of its own modules) that fails to load;
* pkg_resources, while a visible distribution claims it (setuptools' top_level.txt lists it),
  failing to import from SITE or to read SITE's working set.

A failure is attributed to the top-level package it comes from (for ``ImportError`` the module it
names, otherwise the innermost traceback frame inside SITE) and **not** counted when:

* that package is in SITE but no visible distribution claims it: a package that is still being
  installed and whose metadata is therefore not visible yet (``unclaimed``). A reader that imports
  something no metadata announces is on its own; pstore's promise is about what markers describe;
* the missing module is neither in the prefix nor on the system, and is still absent from the
  prefix after the final poll (``unmet``): a dependency outside the corpus (python3-numpy's
  BLAS-backed extension: a shared library missing from the system counts the same way), or a name
  a ``top_level.txt`` lists but no package ships (Debian's setuptools lists ``debian``). The final
  prefix is the ground truth of what the packages ship: a module that was missing at some poll but
  is present at the end *was* missing while its distribution was visible, and that is counted.

A check of a distribution is bracketed by two stat()s of its metadata path (inode, ctime); if the
metadata was replaced or removed meanwhile, the check is discarded (``inconclusive``): pstore
removes markers first, so a reader racing that removal may see anything.

A distribution without top_level.txt (Cython's egg-info is a single PKG-INFO file) is checked by
the module named like the distribution (``Cython``), if that name is found in SITE at the final
poll. Output: one JSON object on stdout: ``{"polls", "violations", "details", ...}``.
"""

import argparse
import importlib
import importlib.machinery
import importlib.metadata
import json
import os
import runpy
import sys
import time
import traceback
import warnings

EXTENSION_SUFFIXES = tuple(importlib.machinery.all_suffixes())


# record_check.py beside this script, run by path (this directory stays off sys.path).
_record_check = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'record_check.py'))
identity = _record_check['identity']
record_rows = _record_check['record_rows']


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--site', help='default: PREFIX/usr/lib/python3/dist-packages')
    ap.add_argument('--stop-file')
    ap.add_argument('--seconds', type=float, default=120.0)
    ap.add_argument('--min-polls', type=int, default=1)
    ap.add_argument('--pycache', help='write bytecode here (sys.pycache_prefix), never into the prefix')
    ap.add_argument('--progress-file', help='after every poll, atomically write {"polls", "busyPolls", "violations"} here')
    return ap.parse_args()


ARGS = parse_args()
SITE_ARG = ARGS.site or os.path.join(ARGS.prefix, 'usr', 'lib', 'python3', 'dist-packages')
if ARGS.pycache:
    sys.pycache_prefix = os.path.abspath(ARGS.pycache)
else:
    sys.dont_write_bytecode = True
warnings.simplefilter('ignore')


def site_path():
    return os.path.realpath(SITE_ARG)


SITE = site_path()
# stdlib first, then SITE, then the system's site-packages (where the system's packages live).
SYSTEM_PATHS = [p for p in sys.path if 'site-packages' in p or 'dist-packages' in p]
_first_site = next((i for i, p in enumerate(sys.path) if p in SYSTEM_PATHS), len(sys.path))
sys.path.insert(_first_site, SITE)

polls = 0
busy_polls = [0]         # polls that saw at least one distribution
work = {'imports': 0, 'entryPoints': 0, 'recordFiles': 0, 'pkgResources': 0}  # checks that passed
checked = 0
inconclusive = 0
violations = []          # counted
pending_absent = []      # missing modules to judge against the final prefix
unclaimed = {}           # top-level name -> count of failures not counted (no marker claims it)
unmet = {}               # missing module -> count (judged at the end)
unshipped = {}           # RECORD-listed file absent from the final prefix -> count
final_status = {}        # distribution -> what the final poll found


def in_site(p):
    return bool(p) and (p == SITE or p.startswith(SITE + os.sep))


def site_names():
    """Top-level importable names present in SITE right now."""
    out = set()
    try:
        entries = os.listdir(SITE)
    except OSError:
        return out
    for e in entries:
        if e.startswith('.'):
            continue
        full = os.path.join(SITE, e)
        if os.path.isdir(full):
            if '.' not in e and not e.endswith('-info'):
                out.add(e)
            continue
        for suf in EXTENSION_SUFFIXES:
            if e.endswith(suf):
                out.add(e[: -len(suf)])
                break
    return out


def present_in_site(top):
    return top in site_names()


def on_system(top):
    try:
        return importlib.machinery.PathFinder.find_spec(top, SYSTEM_PATHS) is not None
    except Exception:
        return False


def purge(extra=()):
    """Forget every module that came from SITE or is named like something in SITE."""
    names = site_names() | set(extra)
    for key, mod in list(sys.modules.items()):
        top = key.split('.')[0]
        f = getattr(mod, '__file__', None) or ''
        if top in names or in_site(f):
            del sys.modules[key]
    importlib.invalidate_caches()


def culprit_of(exc):
    """(top-level package the failure comes from, missing module name or None)."""
    e = exc
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ImportError) and getattr(e, 'name', None):
            name = e.name
            missing = name if isinstance(e, ModuleNotFoundError) else None
            return name.split('.')[0], missing
        if isinstance(e, OSError) and 'cannot open shared object file' in str(e):
            return None, str(e).split(':')[0]
        e = e.__cause__ or e.__context__
    if isinstance(exc, SyntaxError) and exc.filename and in_site(os.path.realpath(exc.filename)):
        return os.path.relpath(os.path.realpath(exc.filename), SITE).split(os.sep)[0].split('.')[0], None
    if 'cannot open shared object file' in str(exc):
        return None, str(exc)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        fn = os.path.realpath(frame.filename)
        if in_site(fn):
            return os.path.relpath(fn, SITE).split(os.sep)[0].split('.')[0], None
    return None, None


def judge(problem, exc, dist_name, own, claims):
    """Record a failure: counted, deferred to the final prefix, or not counted (and why)."""
    top, missing = culprit_of(exc)
    detail = '%s: %s: %s' % (problem, type(exc).__name__, str(exc).splitlines()[0][:300] if str(exc) else '')
    if top is None and missing is not None:
        # a shared library (numpy's BLAS) the system lacks: neither in the prefix nor on the system
        unmet[missing] = unmet.get(missing, 0) + 1
        return
    if top is not None and top not in own and top not in claims:
        if present_in_site(top):
            unclaimed[top] = unclaimed.get(top, 0) + 1
            return
        if missing is not None and not on_system(top):
            unmet[missing] = unmet.get(missing, 0) + 1
            return
    if missing is not None and top is not None and not present_in_site(top) and not on_system(top):
        pending_absent.append({'poll': polls, 'dist': dist_name, 'module': top, 'problem': detail})
        return
    add_violation(dist_name, detail)


def add_violation(dist_name, problem):
    violations.append({'poll': polls, 'dist': dist_name, 'problem': problem})


def dist_tops(dist):
    text = dist.read_text('top_level.txt')
    if text is not None:
        return [t.strip() for t in text.splitlines() if t.strip()]
    name = dist.metadata['Name'] or ''
    return [name] if name.isidentifier() else []


def check_record(dist, problems, missing_files):
    record = dist.read_text('RECORD')
    if record is None:
        return
    for status, rel, full in record_rows(record, SITE):
        if status == 'missing':
            missing_files.append({'file': full, 'problem': 'RECORD: missing %s' % rel})
        elif status == 'ok':
            work['recordFiles'] += 1
        elif status != 'present':
            problems.append('RECORD: %s %s' % (status, rel))


def location(mod):
    f = getattr(mod, '__file__', None)
    if f:
        return [os.path.realpath(f)]
    return [os.path.realpath(p) for p in getattr(mod, '__path__', [])]


def check_dist(dist, claims, final):
    global checked, inconclusive
    where = str(dist._path)
    before = identity(where)
    if before is None:
        inconclusive += 1
        return
    name = dist.metadata['Name'] or os.path.basename(where)
    own = dist_tops(dist)
    failures = []   # (problem, exception)
    problems = []   # plain problems: always violations
    missing_files = []
    try:
        check_record(dist, problems, missing_files)
        purge(own)
        loaded = set()
        for top in own:
            try:
                mod = importlib.import_module(top)
            except Exception as e:  # noqa: BLE001 - every failure is judged
                failures.append(('import %s' % top, e))
                continue
            locs = location(mod)
            if not locs or not all(in_site(p) for p in locs):
                why = '%s imported from %s, not from the prefix' % (top, locs)
                if present_in_site(top):
                    problems.append(why)
                else:
                    pending_absent.append({'poll': polls, 'dist': name, 'module': top, 'problem': why})
                continue
            loaded.add(top)
            work['imports'] += 1
        for ep in dist.entry_points:
            if ep.module.split('.')[0] not in loaded:
                continue
            try:
                ep.load()
                work['entryPoints'] += 1
            except Exception as e:  # noqa: BLE001
                failures.append(('entry point %s (%s)' % (ep.name, ep.value), e))
    except Exception as e:  # noqa: BLE001
        failures.append(('reading the distribution', e))
    after = identity(where)
    if after != before:
        inconclusive += 1
        return
    checked += 1
    v0, p0 = len(violations), len(pending_absent)
    for p in problems:
        add_violation(name, p)
    pending_absent.extend(dict(m, poll=polls, dist=name) for m in missing_files)
    for problem, exc in failures:
        judge(problem, exc, name, set(own), claims)
    if final:
        final_status[name] = {
            'violations': violations[v0:],
            'pending': [p.get('module') or p['file'] for p in pending_absent[p0:]],
            'failures': ['%s: %s: %s' % (p, type(e).__name__, e) for p, e in failures],
        }


def check_pkg_resources(claims):
    if not present_in_site('pkg_resources'):
        return
    claimed_by = claims.get('pkg_resources')
    owner = claimed_by or 'pkg_resources'
    purge(['pkg_resources'])
    try:
        import pkg_resources  # noqa: F401 - imported fresh from SITE
        locs = location(pkg_resources)
        if not all(in_site(p) for p in locs):
            if claimed_by:
                add_violation(owner, 'pkg_resources imported from %s, not from the prefix' % locs)
            return
        for d in pkg_resources.WorkingSet([SITE]):
            d.project_name, d.version  # noqa: B018 - reading them is the check
            d.get_entry_map()
        work['pkgResources'] += 1
    except Exception as e:  # noqa: BLE001
        judge('pkg_resources', e, owner, set(['pkg_resources']) if claimed_by else set(), claims)


def poll(final=False):
    global polls, SITE
    polls += 1
    importlib.invalidate_caches()
    try:
        dists = list(importlib.metadata.distributions(path=[SITE]))
    except Exception as e:  # noqa: BLE001
        add_violation('(listing)', 'distributions() failed: %s: %s' % (type(e).__name__, e))
        return 0
    claims = {}
    for d in dists:
        try:
            for top in dist_tops(d):
                claims.setdefault(top, d.metadata['Name'])
        except Exception:  # noqa: BLE001 - judged in check_dist
            pass
    for d in dists:
        check_dist(d, claims, final)
    check_pkg_resources(claims)
    return len(dists)


def main():
    start = time.monotonic()
    while True:
        stop = ARGS.stop_file is not None and os.path.exists(ARGS.stop_file)
        timed_out = time.monotonic() - start > ARGS.seconds
        if (stop or timed_out or ARGS.stop_file is None) and polls >= ARGS.min_polls:
            break
        if poll():
            busy_polls[0] += 1
        else:
            time.sleep(0.005)  # nothing visible yet: do not starve the build of CPU
        if ARGS.progress_file:
            tmp = ARGS.progress_file + '.tmp'
            with open(tmp, 'w') as f:
                json.dump({'polls': polls, 'busyPolls': busy_polls[0], 'violations': len(violations)}, f)
            os.replace(tmp, ARGS.progress_file)
    poll(final=True)
    # Judge the modules that were absent from both the prefix and the system when they failed.
    final_names = site_names()
    for p in pending_absent:
        if 'file' in p:
            if os.path.lexists(p['file']):
                violations.append({'poll': p['poll'], 'dist': p['dist'], 'problem': p['problem'] + ' (present in the final prefix)'})
            else:
                unshipped[os.path.relpath(p['file'], SITE)] = unshipped.get(os.path.relpath(p['file'], SITE), 0) + 1
        elif p['module'] in final_names:
            violations.append({'poll': p['poll'], 'dist': p['dist'], 'problem': p['problem'] + ' (present in the final prefix)'})
        else:
            unmet[p['module']] = unmet.get(p['module'], 0) + 1
    # clean at the end: no violation in the final poll, every missing module absent from the prefix
    final_clean = sorted(n for n, s in final_status.items()
                         if not s['violations'] and not any(m in final_names or os.path.lexists(m) for m in s['pending']))
    print(json.dumps({
        'polls': polls,
        'busyPolls': busy_polls[0],
        'violations': len(violations),
        'details': violations[:50],
        'checked': checked,
        'passed': work,
        'inconclusive': inconclusive,
        'unclaimed': unclaimed,
        'unmet': unmet,
        'unshipped': unshipped,
        'final': final_clean,
        'finalFailures': {k: s['failures'] for k, s in final_status.items() if s['failures']},
        'seconds': round(time.monotonic() - start, 3),
    }, indent=None), flush=True)


if __name__ == '__main__':
    main()
