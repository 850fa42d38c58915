/**
 * `xenvirt`: a virsh-style command line over the public API.
 *
 *   xenvirt [-c URI] [-r] [--json] COMMAND [ARGS…]
 *
 * Exit status 0 on success, 1 on any error; errors are one line on stderr:
 * `error: <message> (<code>)`.
 */
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';
// connection.js, not index.js: the CLI loads only the driver its URI needs (start-up time).
import { connect } from '../connection.js';
import { COMMANDS, type Command, type ParsedArgs } from './commands.js';
import { writeToFd } from './output.js';

interface GlobalOptions {
  uri: string;
  readOnly: boolean;
  json: boolean;
  help: boolean;
  command?: string;
  rest: string[];
}

function usageError(message: string): VirError {
  return new VirError(message, { code: ErrorCode.INVALID_ARG, domain: ErrorDomain.NONE });
}

export function parseGlobal(argv: string[], env: NodeJS.ProcessEnv): GlobalOptions {
  const o: GlobalOptions = {
    uri: env.XENVIRT_DEFAULT_URI || 'test:///default',
    readOnly: false,
    json: false,
    help: false,
    rest: [],
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--connect') {
      const v = argv[++i];
      if (v === undefined) throw usageError(`${a} needs a URI`);
      o.uri = v;
    } else if (a.startsWith('--connect=')) o.uri = a.slice('--connect='.length);
    else if (a === '-r' || a === '--readonly') o.readOnly = true;
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else if (a.startsWith('-')) throw usageError(`unknown option '${a}'`);
    else break;
  }
  if (i < argv.length) {
    o.command = argv[i];
    // --json may also follow the command, as tools tend to append it.
    for (const a of argv.slice(i + 1)) {
      if (a === '--json') o.json = true;
      else o.rest.push(a);
    }
  }
  return o;
}

export function parseCommandArgs(cmd: Command, rest: string[]): ParsedArgs {
  const flags = new Set<string>();
  const positional: string[] = [];
  let onlyPositional = false;
  for (const a of rest) {
    if (!onlyPositional && a === '--') onlyPositional = true;
    else if (!onlyPositional && a.startsWith('--')) {
      const f = a.slice(2);
      if (!cmd.flags?.includes(f)) throw usageError(`command '${cmd.name}' has no option '--${f}' (usage: ${cmd.usage})`);
      flags.add(f);
    } else positional.push(a);
  }
  if (positional.length !== cmd.args) {
    throw usageError(`command '${cmd.name}' takes ${cmd.args} argument${cmd.args === 1 ? '' : 's'} (usage: ${cmd.usage})`);
  }
  return { positional, flags };
}

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    'usage: xenvirt [-c URI] [-r] [--json] COMMAND [ARGS…]',
    '',
    '  -c, --connect URI   connection URI (default: $XENVIRT_DEFAULT_URI, else test:///default)',
    '  -r, --readonly      open the connection read-only',
    '      --json          print machine-readable JSON',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Run one CLI invocation; returns the exit status. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env, io: Io = {
  out: (s) => writeToFd(1, s),
  err: (s) => writeToFd(2, s),
}): Promise<number> {
  let json = argv.includes('--json');
  try {
    const o = parseGlobal(argv, env);
    json = o.json;
    if (o.help || o.command === undefined || o.command === 'help') {
      io.out(helpText());
      return o.command === undefined && !o.help ? 1 : 0;
    }
    const cmd = COMMANDS.find((c) => c.name === o.command);
    if (!cmd) throw usageError(`unknown command '${o.command}' (see 'xenvirt help')`);
    const args = parseCommandArgs(cmd, o.rest);
    const conn = await connect(o.uri, { readOnly: o.readOnly });
    try {
      const result = await cmd.run(conn, args);
      io.out(o.json ? JSON.stringify(result.json, null, 2) + '\n' : result.text);
    } finally {
      await conn.close();
    }
    return 0;
  } catch (e) {
    const code = e instanceof VirError ? e.code : ErrorCode.INTERNAL_ERROR;
    const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
    if (json) io.err(JSON.stringify({ error: { message, code, domain: e instanceof VirError ? e.domain : undefined } }) + '\n');
    else io.err(`error: ${message} (${code})\n`);
    return 1;
  }
}

// Run when executed as the CLI entry point (bin/xenvirt.js loads this bundle and calls main).
export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2));
}
