import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';

const PAGES = ['/', '/classify', '/detect', '/segment', '/generate', '/train', '/reports', '/reports/explorer', '/models'];

for (const path of PAGES) {
  test(`no serious or critical accessibility violations on ${path}`, async ({ page }) => {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    if (path === '/detect' || path === '/segment') {
      await page.getByTestId('sample-shapes-0.png').click();
      await expect(page.getByTestId('provenance')).toBeVisible();
    }
    const result = await new AxeBuilder({ page }).analyze();
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes[0]?.target.join(' ')})`)).toEqual([]);
  });
}
