import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** A config error a user can fix: one line naming the key and what it expects. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ParsedArgs<T> {
  /** The resolved, frozen config: schema defaults ← `--config` file ← `--key=value` flags. */
  config: Readonly<T>;
  /** Non-flag arguments (only where `allowPositionals`). */
  positionals: string[];
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag: string) => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The base type of a schema field, looking through default/optional/nullable wrappers. */
function baseType(field: z.ZodType): string {
  let def = (field as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
  while (def.innerType && ['default', 'optional', 'nullable', 'prefault', 'readonly'].includes(def.type)) {
    def = (def.innerType as unknown as { def: typeof def }).def;
  }
  return def.type;
}

/** Turns a command-line string into the type the schema field expects (zod then checks the value). */
function coerce(key: string, raw: string, type: string): unknown {
  if (type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`config key '${key}': expected a number, got '${raw}'`);
    return n;
  }
  if (type === 'boolean') {
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    throw new ConfigError(`config key '${key}': expected true or false, got '${raw}'`);
  }
  if (type === 'array') return raw.split(',').map((s) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s));
  if (type === 'union') return raw === 'true' ? true : raw === 'false' ? false : raw; // boolean-or-path keys
  return raw;
}

function readConfigFile(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new ConfigError(`config file '${file}' does not exist; pass an existing JSON file to --config`);
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`config file '${file}' is not a JSON object (${(e as Error).message}); fix its syntax`);
  }
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `unknown config key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}; run with --help to list the keys`;
  }
  return `config key '${key}': ${issue.message}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** `--help` text generated from the schema: one line per key with its default and description. */
export function configHelp(schema: z.ZodObject, usage: string): string {
  const lines = [usage, '', 'Options (defaults in brackets; --config FILE.json sets several at once):'];
  for (const [key, field] of Object.entries(schema.shape)) {
    const f = field as z.ZodType;
    const parsed = f.safeParse(undefined);
    const dflt = parsed.success && parsed.data !== undefined ? ` [${JSON.stringify(parsed.data)}]` : '';
    lines.push(`  --${kebab(key).padEnd(20)} ${f.description ?? ''}${dflt}`);
  }
  return lines.join('\n');
}

/**
 * Parses `--config file.json` plus `--key=value` / `--key value` / `--flag` / `--no-flag` into the
 * schema's type. Kebab-case flags map to camelCase keys. Unknown keys and wrong types are errors naming
 * the key. The result is deep-frozen.
 *
 * @example
 * const Schema = z.object({ epochs: z.number().int().positive().default(10).describe('training epochs') }).strict();
 * const { config } = parseArgs(Schema, ['--epochs=3']); // { epochs: 3 }
 */
export function parseArgs<S extends z.ZodObject>(
  schema: S,
  argv: string[],
  options: { allowPositionals?: boolean } = {},
): ParsedArgs<z.infer<S>> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const fromCli: Record<string, unknown> = {};
  const positionals: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    if (!arg.startsWith('--')) {
      if (!options.allowPositionals) throw new ConfigError(`unexpected argument '${arg}'; options look like --key=value`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (flag === 'config') {
      configFile = value ?? argv[++i];
      if (!configFile) throw new ConfigError(`--config needs a file path`);
      continue;
    }
    let key = camel(flag);
    if (!(key in shape) && flag.startsWith('no-') && camel(flag.slice(3)) in shape && value === undefined) {
      key = camel(flag.slice(3));
      flag = flag.slice(3);
      value = 'false';
    }
    if (!(key in shape)) throw new ConfigError(`unknown config key '${flag}'; run with --help to list the keys`);
    const type = baseType(shape[key]);
    if (value === undefined) {
      const next = argv[i + 1];
      const flagOnly = next === undefined || (next.startsWith('--') && next.length > 2);
      if (type === 'boolean' && (next === undefined || !['true', 'false', '1', '0', 'yes', 'no'].includes(next))) value = 'true';
      else if (type === 'union' && flagOnly) value = 'true'; // e.g. --pretrained alone, or --pretrained=dir
      else if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new ConfigError(`config key '${flag}' needs a value: --${flag}=VALUE`);
      } else value = argv[++i];
    }
    fromCli[key] = coerce(flag, value, type);
  }
  const fromFile = configFile ? readConfigFile(path.resolve(configFile)) : {};
  const result = schema.strict().safeParse({ ...fromFile, ...fromCli });
  if (!result.success) throw new ConfigError(formatIssue(result.error.issues[0]));
  return { config: deepFreeze(result.data) as Readonly<z.infer<S>>, positionals };
}
