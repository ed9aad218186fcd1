import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixtures = path.resolve(here, '../fixtures');

function run(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FORCE_COLOR;
  const r = spawnSync(path.join(root, 'node_modules/.bin/tsx'), [path.join(here, 'cli.ts'), ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('coco-ts-api:eval command', () => {
  it('prints the 12 pycocotools lines and a per-category table, and writes --json', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cocoeval-')), 'r.json');
    const r = run(['--gt', path.join(fixtures, 'bbox_crowd.gt.json'), '--dt', path.join(fixtures, 'bbox_crowd.dt.json'), '--iou', 'bbox', '--json', out]);
    expect(r.code, r.stderr).toBe(0);
    const expected = JSON.parse(fs.readFileSync(path.join(fixtures, 'bbox_crowd.expected.json'), 'utf8'));
    for (const line of expected.summary_lines) expect(r.stdout).toContain(line);
    const json = JSON.parse(fs.readFileSync(out, 'utf8'));
    json.stats.forEach((s: number, i: number) => expect(Math.abs(s - expected.stats[i])).toBeLessThanOrEqual(1e-9));
    expect(json.perCategory[0]).toEqual({ categoryId: 1, ap: expect.any(Number), ap50: expect.any(Number), ap75: expect.any(Number), ar: expect.any(Number) });
    expect(Object.keys(json.seconds)).toEqual(['load', 'evaluate', 'accumulate', 'extended']);
    expect(json.extended.errors.counts).toEqual(expect.objectContaining({ missed: expect.any(Number), background: expect.any(Number) }));
    expect(json.extended.perCategory ?? json.extended.perClass).toHaveLength(json.perCategory.length);
  });

  it("--iou keypoints prints pycocotools' 10 lines, in one thread and in two", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cocoeval-kp-'));
    const expected = JSON.parse(fs.readFileSync(path.join(fixtures, 'kp_crowd.expected.json'), 'utf8'));
    for (const workers of ['1', '2']) {
      const out = path.join(dir, `${workers}.json`);
      const r = run([
        '--gt',
        path.join(fixtures, 'kp_crowd.gt.json'),
        '--dt',
        path.join(fixtures, 'kp_crowd.dt.json'),
        '--iou',
        'keypoints',
        '--workers',
        workers,
        '--json',
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      for (const line of expected.summary_lines) expect(r.stdout).toContain(line);
      const json = JSON.parse(fs.readFileSync(out, 'utf8'));
      expect(json.stats).toHaveLength(10);
      json.stats.forEach((s: number, i: number) => expect(Math.abs(s - expected.stats[i])).toBeLessThanOrEqual(1e-9));
    }
  });

  it('--kpt-sigmas sets the OKS sigmas from the command line (kp_sigmas: 5 keypoints), in one thread and in two', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cocoeval-sig-'));
    const expected = JSON.parse(fs.readFileSync(path.join(fixtures, 'kp_sigmas.expected.json'), 'utf8'));
    const sigmas = (expected.params.kpt_oks_sigmas as number[]).join(',');
    for (const workers of ['1', '2']) {
      const out = path.join(dir, `${workers}.json`);
      const r = run([
        '--gt',
        path.join(fixtures, 'kp_sigmas.gt.json'),
        '--dt',
        path.join(fixtures, 'kp_sigmas.dt.json'),
        '--iou',
        'keypoints',
        '--kpt-sigmas',
        sigmas,
        '--workers',
        workers,
        '--json',
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      JSON.parse(fs.readFileSync(out, 'utf8')).stats.forEach((s: number, i: number) => expect(Math.abs(s - expected.stats[i])).toBeLessThanOrEqual(1e-9));
    }
    // Without them the 5-keypoint file does not fit COCO's 17 sigmas: one line.
    const bad = run(['--gt', path.join(fixtures, 'kp_sigmas.gt.json'), '--dt', path.join(fixtures, 'kp_sigmas.dt.json'), '--iou', 'keypoints']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^error: .*'keypoints' must be 51 numbers .* got 15.*set kpt_oks_sigmas/);
    expect(run(['--gt', 'a', '--dt', 'b', '--iou', 'bbox', '--kpt-sigmas', '0.1']).stderr).toMatch(/--kpt-sigmas applies to --iou keypoints only/);
  });

  it('--workers 3 evaluates in threads and prints the numbers of one thread, bit for bit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cocoeval-w-'));
    const args = (n: string, out: string) => [
      '--gt',
      path.join(fixtures, 'bbox_crowd.gt.json'),
      '--dt',
      path.join(fixtures, 'bbox_crowd.dt.json'),
      '--workers',
      n,
      '--json',
      out,
    ];
    expect(run(args('1', path.join(dir, '1.json'))).code).toBe(0);
    const three = run(args('3', path.join(dir, '3.json')));
    expect(three.code, three.stderr).toBe(0);
    const [a, b] = ['1.json', '3.json'].map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(b.stats).toEqual(a.stats);
    expect(b.perCategory).toEqual(a.perCategory);
    expect(run(args('0', path.join(dir, '0.json'))).stderr).toMatch(/--workers takes a whole number ≥ 1, got '0'/);
  });

  it('applies --img-ids, --cat-ids, --max-dets and --use-cats', () => {
    const r = run([
      '--gt',
      path.join(fixtures, 'bbox_basic.gt.json'),
      '--dt',
      path.join(fixtures, 'bbox_basic.dt.json'),
      '--iou',
      'bbox',
      '--img-ids',
      '9,5',
      '--cat-ids',
      '3',
      '--max-dets',
      '1,5,100',
      '--use-cats',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('maxDets=  5 ]');
    expect(r.stdout.match(/^car\s+3/m)).not.toBeNull();
  });

  it.each([
    [[], /--gt and --dt are required/],
    [['--gt', 'x.json', '--dt', 'y.json', '--iou', 'pose'], /--iou must be one of bbox, segm, keypoints, got 'pose'/],
    [['--gt', '/no/gt.json', '--dt', 'y.json'], /ground-truth file '\/no\/gt.json' does not exist/],
    [
      ['--gt', path.join(fixtures, 'bbox_basic.gt.json'), '--dt', path.join(fixtures, 'bbox_crowd.dt.json')],
      /results refer to image ids not in the ground truth/,
    ],
    [['--gt', 'a', '--dt', 'b', '--bogus', '1'], /Unknown option '--bogus'/],
  ])('%j fails with one clear line', (args, message) => {
    const r = run(args as string[]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message as RegExp);
  });
});
