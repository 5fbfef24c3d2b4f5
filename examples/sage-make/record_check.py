"""What a distribution's RECORD promises, checked against the files in a site directory, and the
identity of a marker path. One copy, used by this example's reader.py and by the test suite's
prefix reader (test/_helpers/prefix_reader.py); both import it by its path, so no directory is
added to sys.path where it could shadow a prefix's modules.
"""

import base64
import csv
import hashlib
import io
import os


def identity(p):
    """(inode, ctime) of a marker path, or None: a check bracketed by two equal identities saw
    the marker stand the whole time (pstore places and removes marker units by rename)."""
    try:
        st = os.stat(p)
    except OSError:
        return None
    return (st.st_ino, st.st_ctime_ns)


def record_rows(record, site):
    """For every row of a RECORD text: (status, rel, full path), status one of 'ok' (hash and
    size match), 'present' (a row without a hash, RECORD itself or a symlink, that exists),
    'missing', 'hash mismatch', 'size mismatch'."""
    for row in csv.reader(io.StringIO(record)):
        if not row:
            continue
        rel, digest, size = (row + ['', ''])[:3]
        full = os.path.normpath(os.path.join(site, rel))
        if not digest:
            yield ('present' if os.path.lexists(full) else 'missing'), rel, full
            continue
        try:
            with open(full, 'rb') as f:
                data = f.read()
        except FileNotFoundError:
            yield 'missing', rel, full
            continue
        algo, _, want = digest.partition('=')
        got = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b'=').decode()
        if got != want:
            yield 'hash mismatch', rel, full
        elif size and int(size) != len(data):
            yield 'size mismatch', rel, full
        else:
            yield 'ok', rel, full

