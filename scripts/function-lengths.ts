// Lists the functions longer than a limit, counted by the TypeScript AST (a function's span from
// its first to its last line, nested functions counted inside their parent too).
//   node --import=tsx scripts/function-lengths.ts             lib/ over 60 lines, bench/ over 50
//   node --import=tsx scripts/function-lengths.ts LIMIT [DIR=lib]
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

interface FunctionSpan {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(full);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [full] : [];
  });
}

function nameOf(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name !== undefined) return named.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))
    return parent.name.getText();
  return '(anonymous)';
}

function functionSpans(file: string): FunctionSpan[] {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ file, name: nameOf(node), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}

/** The targets: library functions ≤ about 60 lines, benchmark functions ≤ about 50. */
const DEFAULT_CHECKS = [
  { dir: 'lib', limit: 60 },
  { dir: 'bench', limit: 50 },
];

function report(dir: string, limit: number): void {
  const long = sourceFiles(dir)
    .flatMap(functionSpans)
    .filter((s) => s.lines > limit)
    .sort((a, b) => b.lines - a.lines);
  for (const s of long)
    console.log(`${String(s.lines).padStart(4)}  ${s.file}:${s.line}  ${s.name}`);
  console.log(`${long.length} function(s) over ${limit} lines in ${dir}/`);
}

const checks =
  process.argv[2] === undefined
    ? DEFAULT_CHECKS
    : [{ dir: process.argv[3] ?? 'lib', limit: Number(process.argv[2]) }];
for (const { dir, limit } of checks) report(dir, limit);
