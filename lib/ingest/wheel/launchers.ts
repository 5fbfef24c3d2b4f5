// Scripts that name their interpreter (SPEC.md §Wheels): `#!python` / `#!pythonw` first lines of
// `.data/scripts` rewritten to the target interpreter, and launchers for console_scripts and
// gui_scripts. A shebang Linux cannot run as is (a path with a space, or longer than the kernel's
// 127-byte limit) becomes the `/bin/sh` trampoline pip and distlib use.

import type { EntryPoint } from './metadata.js';

const SHEBANG_MAX = 127;

export function shebang(executable: string): string {
  if (!/\s/.test(executable) && Buffer.byteLength(executable) + 2 <= SHEBANG_MAX)
    return `#!${executable}\n`;
  const quoted = `'${executable.replace(/'/g, `'"'"'`)}'`;
  return `#!/bin/sh\n'''exec' ${quoted} "$0" "$@"\n' '''\n`;
}

/** A script from `.data/scripts` whose first line starts `#!python` gets the interpreter's line. */
export function rewriteShebang(data: Buffer, executable: string): Buffer {
  if (!data.subarray(0, 8).equals(Buffer.from('#!python'))) return data;
  const eol = data.indexOf(0x0a);
  const rest = eol === -1 ? Buffer.alloc(0) : data.subarray(eol + 1);
  return Buffer.concat([Buffer.from(shebang(executable)), rest]);
}

/** The launcher of one entry point: import the object, call it, exit with its result. */
export function launcher(ep: EntryPoint, executable: string): Buffer {
  const [first = '', ...rest] = ep.attr === '' ? [] : ep.attr.split('.');
  const imports = first === '' ? `import ${ep.module}` : `from ${ep.module} import ${first}`;
  const call = first === '' ? ep.module : [first, ...rest].join('.');
  return Buffer.from(
    `${shebang(executable)}# -*- coding: utf-8 -*-\n` +
      `import re\nimport sys\n${imports}\n` +
      `if __name__ == "__main__":\n` +
      `    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n` +
      `    sys.exit(${call}())\n`,
  );
}
