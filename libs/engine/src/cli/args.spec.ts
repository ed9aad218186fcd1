import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, configHelp, nameList, parseArgs } from './args';

const Schema = z.object({
  epochs: z.number().int().positive().default(10).describe('training epochs'),
  lr: z.number().positive().default(1e-3).describe('learning rate'),
  dataset: z.string().default('mnist').describe('dataset'),
  optimizer: z.enum(['adam', 'sgd']).default('adam'),
  augment: z.boolean().default(false),
  trainLimit: z.number().int().min(0).default(0),
});

describe('parseArgs', () => {
  it('applies defaults, --key=value, --key value, kebab-case keys and boolean flags', () => {
    const { config } = parseArgs(Schema, ['--epochs=3', '--lr', '0.01', '--train-limit=500', '--augment']);
    expect(config).toEqual({ epochs: 3, lr: 0.01, dataset: 'mnist', optimizer: 'adam', augment: true, trainLimit: 500 });
  });

  it('accepts --no-flag and explicit booleans', () => {
    expect(parseArgs(Schema, ['--no-augment']).config.augment).toBe(false);
    expect(parseArgs(Schema, ['--augment=false']).config.augment).toBe(false);
    expect(parseArgs(Schema, ['--augment', 'true']).config.augment).toBe(true);
  });

  it('merges a config file under command-line overrides', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'c.json');
    fs.writeFileSync(file, JSON.stringify({ epochs: 7, dataset: 'fashion-mnist' }));
    const { config } = parseArgs(Schema, ['--config', file, '--epochs=2']);
    expect(config.epochs).toBe(2);
    expect(config.dataset).toBe('fashion-mnist');
  });

  it('reads a number-or-keyword key (--imgsz 256 | auto) as a number when it is one', () => {
    const S = z.object({ imgsz: z.union([z.number().int().positive(), z.literal('auto')]).default('auto') });
    expect(parseArgs(S, []).config.imgsz).toBe('auto');
    expect(parseArgs(S, ['--imgsz', '256']).config.imgsz).toBe(256);
    expect(parseArgs(S, ['--imgsz=auto']).config.imgsz).toBe('auto');
    expect(() => parseArgs(S, ['--imgsz', 'big'])).toThrow(/config key 'imgsz'/);
  });

  it('returns a frozen config', () => {
    const { config } = parseArgs(Schema, []);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => ((config as { epochs: number }).epochs = 1)).toThrow();
  });

  it.each([
    [['--epoch=3'], /unknown config key 'epoch'/],
    [['--epochs=three'], /config key 'epochs': expected a number, got 'three'/],
    [['--epochs=2.5'], /config key 'epochs'/],
    [['--optimizer=rmsprop'], /config key 'optimizer'/],
    [['--augment=maybe'], /config key 'augment': expected true or false/],
    [['--lr'], /config key 'lr' needs a value/],
    [['stray'], /unexpected argument 'stray'/],
  ])('rejects %j with an error naming the key', (argv, message) => {
    expect(() => parseArgs(Schema, argv as string[])).toThrow(ConfigError);
    expect(() => parseArgs(Schema, argv as string[])).toThrow(message);
  });

  it('rejects unknown keys and wrong types inside a config file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ epocs: 3 }));
    fs.writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ epochs: 'many' }));
    fs.writeFileSync(path.join(dir, 'c.json'), '{ not json');
    expect(() => parseArgs(Schema, ['--config', path.join(dir, 'a.json')])).toThrow(/unknown config key 'epocs'/);
    expect(() => parseArgs(Schema, ['--config', path.join(dir, 'b.json')])).toThrow(/config key 'epochs'/);
    expect(() => parseArgs(Schema, ['--config', path.join(dir, 'c.json')])).toThrow(/is not a JSON object/);
    expect(() => parseArgs(Schema, ['--config', path.join(dir, 'missing.json')])).toThrow(/does not exist/);
  });

  it('collects positionals only when allowed', () => {
    expect(parseArgs(Schema, ['a.png', '--epochs=1', 'b.png'], { allowPositionals: true }).positionals).toEqual(['a.png', 'b.png']);
  });

  it('lists every key with its default in --help', () => {
    const help = configHelp(Schema, 'usage: x');
    expect(help).toContain('--train-limit');
    expect(help).toContain('training epochs [10]');
  });
});

describe('nameList', () => {
  it('reads a comma list, or a file of one name per line (blank lines skipped)', () => {
    expect(nameList('cat, dog,bird')).toEqual(['cat', 'dog', 'bird']);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'names-')), 'classes.txt');
    fs.writeFileSync(file, 'traffic light\r\n\nstop sign\n');
    expect(nameList(file)).toEqual(['traffic light', 'stop sign']);
  });
});
