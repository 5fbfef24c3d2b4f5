"""The test suite's Python client of a prefix (test/_helpers/pyprefix.ts starts it; what it checks
and prints is described there). RECORD checks and marker identities come from the one copy in
examples/sage-make/record_check.py, imported by its path.
"""

import importlib
import importlib.metadata
import json
import os
import runpy
import sys
import time


_record_check = runpy.run_path(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'examples', 'sage-make', 'record_check.py'))
identity = _record_check['identity']
record_rows = _record_check['record_rows']

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
SITE = args['--site']
STOP = args.get('--stop-file')
MIN_POLLS = int(args.get('--polls', '0'))
MAX_SECONDS = float(args.get('--seconds', '60'))
EVERY = int(args.get('--progress-every', '100'))
STOP_ON_VIOLATION = args.get('--stop-on-violation') == '1'

polls = 0
checked = 0
inconclusive = 0
violation_count = 0
file_violation_count = 0
violations = []
seen = set()
errors = 0
sys.path.insert(0, SITE)


def drop_modules(top):
    for k in list(sys.modules):
        if k == top or k.startswith(top + '.'):
            del sys.modules[k]


def fresh_imports(modnames):
    # Forget every module of these top-level packages and every cached directory listing, then
    # import them all again from the files as they are now (parents are shared within one pass).
    for top in {m.split('.')[0] for m in modnames}:
        drop_modules(top)
    importlib.invalidate_caches()
    out = []
    for mod in sorted(modnames):
        try:
            out.append((mod, importlib.import_module(mod), None))
        except Exception as e:
            out.append((mod, None, e))
    return out


def module_name(rel):
    # rel is relative to the site directory; 'pkg/sub/__init__.py' -> 'pkg.sub'
    parts = rel[:-3].split('/')
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def about_marker_only(problem):
    # A problem with another marker unit of the package (its .pth), not with its plain files.
    return problem.split(' ')[0] in ('missing', 'hash', 'size') and problem.endswith(('.pth', '.egg-link'))


def check_dist(dist, site):
    global checked, inconclusive, violation_count, file_violation_count
    where = str(dist._path)
    before = identity(where)
    if before is None:
        inconclusive += 1
        return
    problems = []
    name = version = None
    try:
        name = dist.metadata['Name']
        version = dist.version
        if not name or not version:
            problems.append('METADATA has no Name or Version')
        record = dist.read_text('RECORD')
        if record is None:
            problems.append('RECORD is missing')
            record = ''
        modules = []
        for status, rel, _full in record_rows(record, site):
            if status == 'present':
                continue
            if status != 'ok':
                problems.append(status + ' ' + rel)
                if status == 'missing':
                    continue
            if rel.endswith('.py') and not rel.startswith('..') and '/gen/' not in rel and not rel.endswith('.pth'):
                modules.append(module_name(rel))
        for mod, m, e in fresh_imports(modules):
            if e is not None:
                problems.append('import %s: %s: %s' % (mod, type(e).__name__, e))
                continue
            f = getattr(m, '__file__', None) or ''
            if not f.startswith(site + os.sep):
                problems.append('%s imported from %s, not from %s' % (mod, f, site))
            if hasattr(m, 'VERSION') and m.VERSION != version:
                problems.append('%s.VERSION is %r, the distribution says %r' % (mod, m.VERSION, version))
            if hasattr(m, 'version') and callable(m.version) and m.version() != version:
                problems.append('%s.version() is %r, the distribution says %r' % (mod, m.version(), version))
    except Exception as e:
        problems.append('%s: %s' % (type(e).__name__, e))
    after = identity(where)
    if after != before:
        inconclusive += 1
        return
    checked += 1
    seen.add('%s==%s' % (name, version))
    if problems:
        violation_count += 1
        if not all(about_marker_only(p) for p in problems):
            file_violation_count += 1
        if len(violations) < 25:
            violations.append({'poll': polls, 'dist': os.path.basename(where), 'problems': problems[:10]})


start = time.monotonic()
while True:
    if time.monotonic() - start > MAX_SECONDS:
        break
    if polls >= MIN_POLLS and (STOP is None or os.path.exists(STOP)):
        break
    if STOP_ON_VIOLATION and file_violation_count:
        break
    polls += 1
    site = os.path.realpath(SITE)
    sys.path[0] = site
    importlib.invalidate_caches()
    try:
        dists = list(importlib.metadata.distributions(path=[site]))
    except Exception:
        errors += 1
        dists = []
    for d in dists:
        check_dist(d, site)
    if polls % EVERY == 0:
        print(json.dumps({'progress': polls, 'violations': violation_count, 'checked': checked}), flush=True)

print(json.dumps({'result': {
    'polls': polls, 'checked': checked, 'inconclusive': inconclusive, 'listErrors': errors,
    'violationCount': violation_count, 'fileViolationCount': file_violation_count, 'violations': violations, 'seen': sorted(seen),
    'seconds': round(time.monotonic() - start, 3), 'bytecode': not sys.dont_write_bytecode,
}}), flush=True)
