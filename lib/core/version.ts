// Ordering versions for people: free-form strings (1.10 after 1.9, 2.0rc1 before 2.0, Debian's
// epochs and `~`), compared as dpkg does. pstore has no dependency model: this only orders lists.

/** Negative when `a` sorts before `b`, as dpkg --compare-versions (epoch:upstream-revision). */
export function compareVersions(a: string, b: string): number {
  const [ea, ra] = splitEpoch(a);
  const [eb, rb] = splitEpoch(b);
  return ea - eb || compareSegments(ra, rb);
}

function splitEpoch(v: string): [number, string] {
  const m = /^(\d+):(.*)$/.exec(v);
  return m ? [Number(m[1]), m[2]!] : [0, v];
}

/** Alternating non-digit and digit runs; in non-digit runs `~` sorts first, then the end, then letters, then the rest. */
function compareSegments(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    for (const digits of [false, true]) {
      const sa = run(a, i, digits);
      const sb = run(b, j, digits);
      const d = digits ? compareNumbers(sa, sb) : compareText(sa, sb);
      if (d) return d;
      i += sa.length;
      j += sb.length;
    }
  }
  return 0;
}

function run(s: string, from: number, digits: boolean): string {
  let end = from;
  while (end < s.length && /\d/.test(s[end]!) === digits) end++;
  return s.slice(from, end);
}

function compareNumbers(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareText(a: string, b: string): number {
  for (let k = 0; k < Math.max(a.length, b.length); k++) {
    const d = order(a[k]) - order(b[k]);
    if (d) return d;
  }
  return 0;
}
