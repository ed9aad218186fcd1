import fs from 'node:fs';
import path from 'node:path';
import { parseArgs as nodeParseArgs } from 'node:util';
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

/** A JSON-Schema view of one field (zod's public `toJSONSchema`): what a command-line string must become. */
type FieldKind = 'number' | 'boolean' | 'array' | 'boolean-or-string' | 'number-or-string' | 'string';

interface JsonField {
  type?: string | string[];
  anyOf?: JsonField[];
}

function fieldKind(field: JsonField | undefined): FieldKind {
  const types = new Set<string>();
  const collect = (f: JsonField) => {
    if (Array.isArray(f.type)) f.type.forEach((t) => types.add(t));
    else if (f.type) types.add(f.type);
    f.anyOf?.forEach(collect);
  };
  if (field) collect(field);
  if (types.has('boolean') && types.has('string')) return 'boolean-or-string';
  if (types.has('boolean')) return 'boolean';
  if ((types.has('number') || types.has('integer')) && types.has('string')) return 'number-or-string';
  if (types.has('number') || types.has('integer')) return 'number';
  if (types.has('array')) return 'array';
  return 'string';
}

/** Each key of a schema and how its command-line string is read. */
function fieldKinds(schema: z.ZodObject): Record<string, FieldKind> {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as { properties?: Record<string, JsonField> };
  return Object.fromEntries(Object.keys(schema.shape).map((key) => [key, fieldKind(json.properties?.[key])]));
}

/** Turns a command-line string into the type the schema field expects (zod then checks the value). */
function coerce(flag: string, raw: string, kind: FieldKind): unknown {
  if (kind === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`config key '${flag}': expected a number, got '${raw}'`);
    return n;
  }
  if (kind === 'array') return raw.split(',').map((s) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s));
  if (kind === 'boolean-or-string') return raw === 'true' ? true : raw === 'false' ? false : raw; // e.g. --pretrained or --pretrained=dir
  if (kind === 'number-or-string') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw; // e.g. --imgsz 256 or --imgsz auto
  return raw;
}

const TRUE = ['true', '1', 'yes'];
const FALSE = ['false', '0', 'no'];

/**
 * Rewrites the spellings this suite accepts beyond node:util's grammar: `--flag true|false` and
 * `--flag=false` for booleans (→ `--flag` / `--no-flag`), and a bare `--pretrained` for boolean-or-path
 * keys (→ `--pretrained=true`). Everything else is node:util's `parseArgs`.
 */
function normaliseArgv(argv: string[], kinds: Record<string, FieldKind>, byFlag: Map<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const key = m ? byFlag.get(m[1]) : undefined;
    if (!m || !key) {
      out.push(arg);
      continue;
    }
    const [, flag, inline] = m;
    const kind = kinds[key];
    const next = argv[i + 1];
    if (kind === 'boolean') {
      const value = inline ?? (next !== undefined && [...TRUE, ...FALSE].includes(next) ? argv[++i] : 'true');
      if (![...TRUE, ...FALSE].includes(value)) throw new ConfigError(`config key '${flag}': expected true or false, got '${value}'`);
      out.push(TRUE.includes(value) ? `--${flag}` : `--no-${flag}`);
    } else if (kind === 'boolean-or-string' && inline === undefined && (next === undefined || (next.startsWith('--') && next.length > 2))) {
      out.push(`--${flag}=true`);
    } else out.push(arg);
  }
  return out;
}

/** node:util's parse errors, as one line naming the key and the fix. */
function parseError(e: Error & { code?: string }): ConfigError {
  const flag = /'(--?[^' ]+)/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new ConfigError(`unknown config key '${flag?.replace(/^-+/, '')}'; run with --help to list the keys`);
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new ConfigError(`config key '${flag?.replace(/^-+/, '')}' needs a value: ${flag}=VALUE`);
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return new ConfigError(`unexpected argument '${/'([^']*)'/.exec(e.message)?.[1]}'; options look like --key=value`);
  return new ConfigError(e.message);
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
 * schema's type: node:util's `parseArgs` tokenises, zod's JSON Schema of the config says which keys are
 * numbers or booleans, zod validates. Kebab-case flags map to camelCase keys (the camelCase spelling is
 * accepted too). Unknown keys and wrong types are errors naming the key. The result is deep-frozen.
 *
 * @example
 * const Schema = z.object({ epochs: z.number().int().positive().default(10).describe('training epochs') }).strict();
 * const { config } = parseArgs(Schema, ['--epochs=3']); // { epochs: 3 }
 */
export function parseArgs<S extends z.ZodObject>(schema: S, argv: string[], options: { allowPositionals?: boolean } = {}): ParsedArgs<z.infer<S>> {
  const kinds = fieldKinds(schema);
  const byFlag = new Map<string, string>();
  const spec: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  for (const [key, kind] of Object.entries(kinds)) {
    for (const flag of new Set([kebab(key), key])) {
      byFlag.set(flag, key);
      spec[flag] = { type: kind === 'boolean' ? 'boolean' : 'string' };
    }
  }
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({
      args: normaliseArgv(argv, kinds, byFlag),
      options: spec,
      strict: true,
      allowPositionals: !!options.allowPositionals,
      allowNegative: true,
      tokens: true,
    });
  } catch (e) {
    throw parseError(e as Error & { code?: string });
  }
  const fromCli: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (token.name === 'config') {
      configFile = token.value;
      continue;
    }
    const key = byFlag.get(token.name);
    if (!key) throw new ConfigError(`unknown config key '${token.name}'; run with --help to list the keys`);
    fromCli[key] = kinds[key] === 'boolean' ? !token.rawName.startsWith('--no-') : coerce(token.name, token.value ?? '', kinds[key]);
  }
  const fromFile = configFile ? readConfigFile(path.resolve(configFile)) : {};
  const result = schema.strict().safeParse({ ...fromFile, ...fromCli });
  if (!result.success) throw new ConfigError(formatIssue(result.error.issues[0]));
  return { config: deepFreeze(result.data) as Readonly<z.infer<S>>, positionals: parsed.positionals };
}

/**
 * A required option: its value, else a ConfigError with `message` (the command, the option, an example).
 *
 * @example
 * const data = need(cfg.data, 'detect:val needs --data <annotations.json>');
 */
export function need<T>(value: T | undefined | null, message: string): T {
  if (value === undefined || value === null || value === '') throw new ConfigError(message);
  return value;
}

/**
 * A list of names given on the command line: a text file (one per line, blank lines skipped) when `spec` names an
 * existing file, else a comma-separated list.
 *
 * @example
 * const classNames = nameList(cfg.classes); // --classes names.txt, or --classes cat,dog
 */
export function nameList(spec: string): string[] {
  if (fs.existsSync(spec) && fs.statSync(spec).isFile())
    return fs
      .readFileSync(spec, 'utf8')
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
