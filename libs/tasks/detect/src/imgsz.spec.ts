import { describe, expect, it } from 'vitest';
import { chooseImgsz, epochsAt, MIN_EPOCHS } from './imgsz';

const square = (n: number, side: number) => Array.from({ length: n }, () => ({ width: side, height: side }));

describe('--imgsz auto', () => {
  it("takes the training images' median longer side, rounded up to a multiple of 32, between 64 and 640", () => {
    expect(chooseImgsz(square(3000, 160)).imgsz).toBe(160);
    expect(chooseImgsz([...square(5, 200), ...square(4, 300)]).imgsz).toBe(224); // median 200 → 224
    expect(chooseImgsz([{ width: 250, height: 180 }]).imgsz).toBe(256); // the longer side
    expect(chooseImgsz(square(10, 28)).imgsz).toBe(64);
    expect(chooseImgsz(square(10, 1280)).imgsz).toBe(640);
  });

  it('shrinks to the size at which a --time budget still fits 10 epochs, never below 160 on that account', () => {
    // 3,000 images of up to 320 px: 20 minutes fit 10 epochs at 256 but not at 288.
    const hard = square(3000, 300);
    expect(epochsAt(256, 3000, 20)).toBeGreaterThanOrEqual(MIN_EPOCHS);
    expect(epochsAt(288, 3000, 20)).toBeLessThan(MIN_EPOCHS);
    const c = chooseImgsz(hard, 20);
    expect(c.imgsz).toBe(256);
    expect(c.reason).toMatch(/20-min budget fits ~10 epochs of 3000 images at 256/);
    expect(chooseImgsz(hard, 9).imgsz).toBe(160);
    expect(chooseImgsz(hard, 600).imgsz).toBe(320);
    expect(chooseImgsz(hard).imgsz).toBe(320); // --epochs: no budget to fit
    expect(chooseImgsz(hard, 0).imgsz).toBe(320); // --time 0 (the default) is no budget either
    expect(chooseImgsz(square(3000, 160), 0.1).imgsz).toBe(160); // the data's own size is never cut
  });
});
