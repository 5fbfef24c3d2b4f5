import { PstoreError } from '../../lib/index.js';
import { oneOperand, GLOBAL_OPTIONS, type Command } from '../command.js';
import { ALIASES, COMMANDS } from '../registry.js';

type Words = Array<{ name: string; options: string[] }>;

async function words(): Promise<Words> {
  const global = Object.keys(GLOBAL_OPTIONS).map((o) => `--${o}`);
  const names = [...Object.keys(COMMANDS), ...Object.keys(ALIASES)];
  return Promise.all(
    names.map(async (name) => {
      const cmd = await COMMANDS[ALIASES[name] ?? name]!();
      return { name, options: [...Object.keys(cmd.options).map((o) => `--${o}`), ...global] };
    }),
  );
}

function bash(ws: Words): string {
  const cases = ws.map((w) => `    ${w.name}) opts="${w.options.join(' ')}" ;;`).join('\n');
  return `# pstore completion for bash: eval "$(pstore completion bash)"
_pstore() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -*) ;; *) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${ws.map((w) => w.name).join(' ')}" -- "$cur")); return
  fi
  case $cmd in
${cases}
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _pstore pstore
`;
}

function zsh(ws: Words): string {
  const cases = ws
    .map(
      (w) =>
        `    ${w.name}) _arguments '*:file:_files' ${w.options.map((o) => `'${o}'`).join(' ')} ;;`,
    )
    .join('\n');
  return `#compdef pstore
# pstore completion for zsh: eval "$(pstore completion zsh)"
_pstore() {
  if (( CURRENT == 2 )); then
    compadd -- ${ws.map((w) => w.name).join(' ')}; return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _pstore pstore
`;
}

function fish(ws: Words): string {
  const lines = [
    `# pstore completion for fish: pstore completion fish | source`,
    'complete -c pstore -f',
  ];
  lines.push(`complete -c pstore -n __fish_use_subcommand -a '${ws.map((w) => w.name).join(' ')}'`);
  for (const w of ws) {
    for (const o of w.options)
      lines.push(`complete -c pstore -n '__fish_seen_subcommand_from ${w.name}' -l ${o.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

const SHELLS: Record<string, (ws: Words) => string> = { bash, zsh, fish };

export const completion: Command = {
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  usage: 'pstore completion bash|zsh|fish',
  help: [
    'bash: eval "$(pstore completion bash)"   zsh: eval "$(pstore completion zsh)"   fish: pstore completion fish | source',
    '--json: {shell, script}',
  ],
  options: {},
  operands: oneOperand('SHELL'),
  async run({ positionals, out }) {
    const shell = SHELLS[positionals[0]!];
    if (!shell)
      throw new PstoreError(
        'EPSTORE_USAGE',
        `completion: unknown shell ${JSON.stringify(positionals[0])}; use bash, zsh or fish`,
        { subject: positionals[0]! },
      );
    const script = shell(await words());
    if (out.mode.json) out.result({ shell: positionals[0]!, script }, () => []);
    else process.stdout.write(script);
  },
};
