/**
 * Enforces the workspace's dependency rules from the Nx project tags (no lint plugin needed):
 *   type:app  → may import type:lib only (never another app);
 *   type:lib  → may import type:lib only;
 *   type:tool → may import type:lib only;
 *   no-tfjs-node → may not import @tensorflow/tfjs-node(-gpu);
 * and no project reaches into another by a relative path (workspace packages are imported by name).
 * Prints one line per violation and exits 1 if there is any.
 */
import fs from 'node:fs';
import path from 'node:path';

interface Project { name: string; root: string; tags: string[]; pkg?: string }

const ROOT = process.cwd();
const SKIP = new Set(['node_modules', '.next', 'dist', 'runs', '.cache', '.nx']);

function walk(dir: string, found: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, found);
    else found.push(p);
  }
  return found;
}

function projects(): Project[] {
  return walk(ROOT).filter((f) => path.basename(f) === 'project.json').map((f) => {
    const json = JSON.parse(fs.readFileSync(f, 'utf8')) as { name: string; tags?: string[] };
    const root = path.dirname(f);
    const pkgFile = path.join(root, 'package.json');
    const pkg = fs.existsSync(pkgFile) ? (JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { name: string }).name : undefined;
    return { name: json.name, root, tags: json.tags ?? [], pkg };
  });
}

const typeOf = (p: Project) => p.tags.find((t) => t.startsWith('type:'))?.slice(5);
const ALLOWED: Record<string, string[]> = { app: ['lib'], lib: ['lib'], tool: ['lib'] };
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function main(): void {
  const all = projects();
  const byPkg = new Map(all.filter((p) => p.pkg).map((p) => [p.pkg!, p]));
  const owner = (file: string) => all.filter((p) => file.startsWith(p.root + path.sep)).sort((a, b) => b.root.length - a.root.length)[0];
  const problems: string[] = [];
  for (const project of all) {
    const type = typeOf(project);
    if (!type) problems.push(`${project.name}: project.json has no type:* tag`);
    for (const file of walk(project.root).filter((f) => /\.(ts|tsx|mts)$/.test(f))) {
      if (owner(file) !== project) continue;
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2];
        const where = `${path.relative(ROOT, file)}: '${spec}'`;
        if (spec.startsWith('.')) {
          const target = owner(path.resolve(path.dirname(file), spec));
          if (target && target !== project) problems.push(`${where} reaches into ${target.name} by path; import '${target.pkg}' instead`);
          continue;
        }
        if (/^@tensorflow\/tfjs-node/.test(spec) && project.tags.includes('no-tfjs-node')) {
          problems.push(`${where}: ${project.name} is tagged no-tfjs-node`);
        }
        const target = byPkg.get(spec);
        if (target && type && !ALLOWED[type]?.includes(typeOf(target) ?? '')) {
          problems.push(`${where}: a type:${type} project may not import type:${typeOf(target)} (${target.name})`);
        }
      }
    }
  }
  if (problems.length) {
    problems.forEach((p) => console.error(`boundary: ${p}`));
    process.exit(1);
  }
  console.log(`boundaries ok: ${all.length} projects (${all.map((p) => `${p.name}[${p.tags.join(',')}]`).join(' ')})`);
}

main();
