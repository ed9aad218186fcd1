/**
 * Project boundaries, checked by dependency-cruiser (`npx nx run workspace-lint:lint`, part of `npm test`).
 * Rules come from the Nx project tags in each project.json:
 *   type:app / type:lib / type:tool — apps and tools import libs, never apps or tools; libs import libs only;
 *   scope:engine imports no other suite project; foundation libs (data, metrics, backbones, regularization,
 *   coco) never import a task; a task never imports another task;
 *   no-tfjs-node — never reaches @tensorflow/tfjs-node(-gpu);
 *   browser-safe:<file> — nothing reachable from that entry is a Node built-in, sharp, cli-progress or
 *   tfjs-node (the engine core and every task's predict entry run in browsers);
 * plus: no import cycles, and no project reaches into another by a relative path.
 */
const fs = require('node:fs');
const path = require('node:path');

const SKIP = new Set(['node_modules', 'dist', 'runs', 'datasets', 'models', 'tmp', 'docs', 'public']);
function projectFiles(dir, found = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) projectFiles(p, found);
    else if (e.name === 'project.json') found.push(p);
  }
  return found;
}

const projects = ['apps', 'libs', 'tools', 'e2e']
  .flatMap((d) => projectFiles(path.join(__dirname, d)))
  .map((file) => {
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    return { name: json.name, root: path.relative(__dirname, path.dirname(file)).split(path.sep).join('/'), tags: json.tags ?? [] };
  });
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const rootsWith = (pred) => projects.filter(pred).map((p) => `^${esc(p.root)}/`);
const anyOf = (roots) => (roots.length ? roots.join('|') : '^$');
const tagged = (tag) => (p) => p.tags.includes(tag);
const NODE_ONLY = [
  '^(node:)?(fs|path|os|url|util|worker_threads|child_process|stream|crypto|module|vm|http|https|net|zlib)$',
  'node_modules/(sharp|cli-progress|@tensorflow/tfjs-node)',
];

const forbidden = [
  { name: 'no-circular', severity: 'error', comment: 'import cycles (type-only imports count too)', from: {}, to: { circular: true } },
  // The engine's parts: kernels sit at the bottom; inference never needs training; deployment builds on inference.
  ...[
    ['kernels', ['infer', 'train', 'deploy', 'cli', 'testing']],
    ['infer', ['train', 'deploy', 'cli', 'testing']],
    ['train', ['deploy', 'testing']],
    ['cli', ['deploy', 'testing']],
  ].map(([part, above]) => ({
    name: `engine-${part}-imports-nothing-above-it`,
    severity: 'error',
    comment: `libs/engine/src/${part} may not import ${above.join(', ')}`,
    from: { path: `^libs/engine/src/${part}/`, pathNot: '(\\.spec\\.ts$|/fixtures/)' },
    to: { path: `^libs/engine/src/(${above.join('|')})/` },
  })),
  ...projects
    .filter((p) => !tagged('type:lib')(p))
    .map((p) => ({
      name: `apps-and-tools-import-libs-only:${p.name}`,
      severity: 'error',
      from: { path: `^${esc(p.root)}/` },
      to: { path: anyOf(rootsWith((q) => !tagged('type:lib')(q) && q !== p)) },
    })),
  {
    name: 'libs-import-libs-only',
    severity: 'error',
    from: { path: anyOf(rootsWith(tagged('type:lib'))) },
    to: { path: anyOf(rootsWith((p) => !tagged('type:lib')(p))) },
  },
  {
    name: 'engine-is-the-base',
    severity: 'error',
    from: { path: anyOf(rootsWith(tagged('scope:engine'))) },
    to: { path: anyOf(rootsWith((p) => tagged('type:lib')(p) && !tagged('scope:engine')(p))) },
  },
  {
    name: 'foundation-libs-import-no-task',
    severity: 'error',
    from: { path: anyOf(rootsWith((p) => tagged('type:lib')(p) && !tagged('scope:task')(p))) },
    to: { path: anyOf(rootsWith(tagged('scope:task'))) },
  },
  { name: 'no-tfjs-node', severity: 'error', from: { path: anyOf(rootsWith(tagged('no-tfjs-node'))) }, to: { path: 'node_modules/@tensorflow/tfjs-node' } },
  ...projects.flatMap((p) =>
    p.tags
      .filter((t) => t.startsWith('browser-safe:'))
      .map((t) => ({
        name: `browser-safe:${p.name}`,
        severity: 'error',
        comment: `${p.root}/${t.slice(13)} must bundle for browsers`,
        from: { path: `^${esc(p.root)}/${esc(t.slice(13))}$` },
        to: { reachable: true, path: NODE_ONLY },
      })),
  ),
  ...projects.filter(tagged('scope:task')).map((p) => ({
    name: `task-imports-no-other-task:${p.name}`,
    severity: 'error',
    from: { path: `^${esc(p.root)}/` },
    to: { path: anyOf(rootsWith((q) => tagged('scope:task')(q) && q !== p)) },
  })),
  ...projects.map((p) => ({
    name: `no-relative-reach:${p.name}`,
    severity: 'error',
    comment: 'import workspace packages by name',
    from: { path: `^${esc(p.root)}/` },
    to: {
      dependencyTypes: ['local'],
      dependencyTypesNot: ['aliased', 'aliased-tsconfig', 'aliased-workspace'],
      path: anyOf(projects.filter((q) => q !== p && !q.root.startsWith(`${p.root}/`) && !p.root.startsWith(`${q.root}/`)).map((q) => `^${esc(q.root)}/`)),
    },
  })),
];

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.next)/' },
    tsConfig: { fileName: 'tsconfig.base.json' },
    // Type-only imports count: a cycle of types is still a cycle a reader has to untangle (and browser-safe entries
    // reach no Node module even by type).
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
