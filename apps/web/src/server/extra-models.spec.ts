import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// An operator adds an Ultralytics ONNX export (planted boxes: tools/bench/ultralytics_onnx_fixtures.py) to the site.
const FIXTURE = 'libs/tasks/detect/fixtures/ultralytics/yolov8';
process.env.WEB_MODELS_EXTRA = `detect=${FIXTURE}`;

describe('WEB_MODELS_EXTRA: a model the operator adds', () => {
  it('an Ultralytics ONNX detector is listed (server-only) and answers uploads with its planted boxes', async () => {
    const { detect, models } = await import('./handlers');
    const list = (await (await models()).json()) as { models: { id: string; task: string; url: string | null; runtime: string; classes: string[] }[] };
    const extra = list.models.find((m) => m.id === 'extra-yolov8');
    expect(extra).toMatchObject({ task: 'detect', url: null, runtime: 'onnxruntime', classes: ['ring', 'blob'] });
    const form = new FormData();
    const image = fs.readFileSync(path.resolve(__dirname, '../../../../libs/tasks/detect/fixtures/ultralytics/images/wide.png'));
    form.set('image', new Blob([image]), 'wide.png');
    form.set('model', 'extra-yolov8');
    const res = await detect(new Request('http://localhost/api/detect', { method: 'POST', body: form }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { detections: { label: string; score: number }[] };
    expect(body.detections.map((d) => d.label)).toEqual(['ring', 'blob', 'ring']);
    expect(body.detections.map((d) => d.score.toFixed(2))).toEqual(['0.92', '0.81', '0.66']);
  });

  it('a malformed entry is one line naming it', async () => {
    const { extraModels } = await import('./catalogue');
    expect(() => extraModels('detector=/x')).toThrow(/WEB_MODELS_EXTRA entry 'detector=\/x' is not <task>=<folder>/);
    expect(() => extraModels('detect=libs')).toThrow(/WEB_MODELS_EXTRA folder 'libs' holds neither model.json nor model.onnx/);
  });
});
