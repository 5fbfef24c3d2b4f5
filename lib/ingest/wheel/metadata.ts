// The text formats inside a wheel's .dist-info (SPEC.md §Wheels): METADATA and WHEEL (email-style
// headers), RECORD (CSV) and entry_points.txt (INI). Small readers of exactly what an installer
// needs, so no Python is involved in reading a wheel.

/** Header fields of METADATA or WHEEL: every value of each (lower-cased) key, in order. */
export function parseHeaders(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the body (a long description) follows the first blank line
    if (/^[ \t]/.test(line) && last) {
      last[last.length - 1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = fields.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    fields.set(key, values);
    last = values;
  }
  return fields;
}

export interface RecordRow {
  path: string;
  hash: string;
  size: string;
}

/** RECORD rows (CSV as Python's csv module writes it: quotes only where needed, "" for a quote). */
export function parseRecord(text: string): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const fields of parseCsv(text)) {
    if (fields.length === 1 && fields[0] === '') continue;
    rows.push({ path: fields[0] ?? '', hash: fields[1] ?? '', size: fields[2] ?? '' });
  }
  return rows;
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') [field, i] = [field + '"', i + 1];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') [row, field] = [[...row, field], ''];
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      rows.push([...row, field]);
      [row, field] = [[], ''];
    } else field += c;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}

/** One CSV line as Python's csv writer makes it (minimal quoting, \n ends the line). */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',')}\n`;
}

export interface EntryPoint {
  name: string;
  module: string;
  /** the attribute path after `:`, or '' when the entry point names a module */
  attr: string;
  gui: boolean;
}

/** console_scripts and gui_scripts of entry_points.txt (other groups are not an installer's). */
export function parseEntryPoints(text: string): EntryPoint[] {
  const out: EntryPoint[] = [];
  let group = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      group = section[1]!.trim();
      continue;
    }
    if (group !== 'console_scripts' && group !== 'gui_scripts') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const name = line.slice(0, eq).trim();
    const target = line
      .slice(eq + 1)
      .replace(/\[.*\]\s*$/, '')
      .trim(); // drop [extras]
    const [module, attr = ''] = target.split(':').map((s) => s.trim());
    out.push({ name, module: module!, attr, gui: group === 'gui_scripts' });
  }
  return out;
}
