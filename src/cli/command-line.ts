// The command line, read with commander but with Go's flag conventions: `--name x`, `--name=x`,
// `-name x` (one dash works too), booleans as `--enable-v2` or `--enable-v2=false`. Returns the raw
// strings of the flags that were given; typing happens in one place (values.ts) for all sources.
import { Command, CommanderError, Option } from 'commander';
import { FLAGS, flagSpec } from './flags.js';
import { ConfigError, EXIT_FLAG_PARSE, EXIT_VERIFY } from './errors.js';

export interface CommandLine {
  /** flag name → raw string value, only for flags present on the command line. */
  values: Map<string, string>;
  configFile?: string;
  version: boolean;
  help: boolean;
}

const META_BOOL = ['version', 'help'];

function buildProgram(): Command {
  const program = new Command('etcd')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .helpOption(false)
    .allowExcessArguments(true)
    .argument('[args...]');
  for (const spec of FLAGS) {
    const opt = spec.kind === 'bool' ? new Option(`--${spec.name} [value]`) : new Option(`--${spec.name} <value>`);
    program.addOption(opt);
  }
  program.addOption(new Option('--config-file <value>'));
  program.addOption(new Option('--version [value]'));
  program.addOption(new Option('-h, --help [value]'));
  return program;
}

/** Go accepts `-name`; commander wants `--name`. Rewrite only spellings of known flags. */
function normalizeDashes(argv: string[]): string[] {
  return argv.map((arg) => {
    const m = /^-([a-z][a-z0-9-]*)(=.*)?$/.exec(arg);
    if (!m || arg === '-h') return arg;
    const name = m[1]!;
    const known = flagSpec(name) !== undefined || name === 'config-file' || META_BOOL.includes(name);
    return known ? `-${arg}` : arg;
  });
}

function flagNameOf(message: string): string {
  const m = /'(-{1,2}[^' ]+)/.exec(message);
  return (m?.[1] ?? '').replace(/^--?/, '');
}

function translateCommanderError(e: CommanderError): ConfigError {
  const name = flagNameOf(e.message);
  if (e.code === 'commander.unknownOption') {
    return new ConfigError(`flag provided but not defined: -${name}`, EXIT_FLAG_PARSE);
  }
  if (e.code === 'commander.optionMissingArgument') {
    return new ConfigError(`flag needs an argument: -${name}`, EXIT_FLAG_PARSE);
  }
  return new ConfigError(e.message.replace(/^error: /, ''), EXIT_FLAG_PARSE);
}

/** Parse argv (without node and script). Throws ConfigError with etcd's wording. */
export function parseCommandLine(argv: string[]): CommandLine {
  const program = buildProgram();
  try {
    program.parse(normalizeDashes(argv), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw translateCommanderError(e);
    throw e;
  }
  const opts = program.opts<Record<string, string | boolean | undefined>>();
  const values = new Map<string, string>();
  for (const option of program.options) {
    const name = option.long!.replace(/^--/, '');
    const key = option.attributeName();
    if (program.getOptionValueSource(key) !== 'cli') continue;
    const v = opts[key];
    values.set(name, v === true ? 'true' : String(v));
  }
  const cl: CommandLine = {
    values,
    version: metaBool(values, 'version'),
    help: metaBool(values, 'help'),
  };
  const configFile = values.get('config-file');
  if (configFile !== undefined) cl.configFile = configFile;
  for (const meta of ['config-file', 'version', 'help']) values.delete(meta);
  const positional = program.args[0];
  if (positional !== undefined && !cl.version && !cl.help) {
    if (positional === 'gateway' || positional === 'grpc-proxy') {
      throw new ConfigError(`error verifying flags, the '${positional}' subcommand is not supported by this etcd. See 'etcd --help'.`, EXIT_VERIFY);
    }
    throw new ConfigError(`error verifying flags, '${positional}' is not a valid flag. See 'etcd --help'.`, EXIT_VERIFY);
  }
  return cl;
}

function metaBool(values: Map<string, string>, name: string): boolean {
  const v = values.get(name);
  if (v === undefined) return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new ConfigError(`invalid boolean value "${v}" for -${name}: parse error`, EXIT_FLAG_PARSE);
}
