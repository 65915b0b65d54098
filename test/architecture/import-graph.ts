/**
 * The import graph of `src/` and the rules it must follow: no cycle between files or folders, and imports only
 * downwards in {@link LAYERS}. Pure functions over a graph, so the rules are testable on synthetic graphs too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** File → the `src/` files it imports (static imports and exports, `import type`, and `import()`). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The layer order, lowest first. A module may import its own layer's modules and any lower layer, never a higher
 * one. A module is a top-level folder of `src/` or, for files directly in `src/`, the name given by
 * {@link moduleOf}. The layers follow the data path: bytes and tokens at the bottom, then framing, RPC and transports,
 * then what the connector does with a request (ingress, proxy, configuration, observation), then the connection that
 * carries requests, the supervisor that keeps connections up, the library surface and finally the CLI.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'util'],
  ['token'],
  ['capnp'],
  ['wire'],
  ['rpc'],
  ['transport'],
  ['edge-discovery'],
  ['ingress'],
  ['proxy'],
  ['orchestration', 'observability', 'metrics'],
  ['connection'],
  ['supervisor'],
  // Internal hooks type what they replace (a discovery resolver), read only by the library surface and the CLI.
  ['internal'],
  ['tunnel'],
  ['quick-tunnel'],
  ['cli', 'index'],
];

/**
 * Modules outside the connector's stack: they may import only the listed modules, and only the listed modules may
 * import them. The local edge speaks the other end of the same wire, so it shares the wire layers and nothing of
 * the connector above them; only the CLI starts it.
 */
export const SIDE_MODULES: Readonly<Record<string, { mayImport: readonly string[]; importedBy: readonly string[] }>> = {
  'local-edge': {
    mayImport: ['errors', 'util', 'token', 'capnp', 'wire', 'rpc', 'transport'],
    importedBy: ['cli'],
  },
};

/** The module (layer member) of a `src/`-relative path such as `proxy/headers.ts` or `tunnel-options.ts`. */
export function moduleOf(file: string): string {
  const slash = file.indexOf('/');
  if (slash >= 0) return file.slice(0, slash);
  if (file === 'tunnel.ts' || file === 'tunnel-options.ts') return 'tunnel';
  return file.replace(/\.ts$/, '');
}

function layerIndex(module: string): number | undefined {
  const i = LAYERS.findIndex((layer) => layer.includes(module));
  return i < 0 ? undefined : i;
}

/** Every `.ts` file under `srcDir` (generated Cap'n Proto code included), as `/`-separated relative paths. */
export function sourceFiles(srcDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push(relative(srcDir, path).split(sep).join('/'));
    }
  };
  walk(srcDir);
  return out.sort();
}

/** The relative specifiers a file imports, as the TypeScript compiler's pre-processor sees them. */
export function importSpecifiers(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.'));
}

/** Reads `srcDir` into an {@link ImportGraph} (relative imports resolved, `.js` specifiers mapped to `.ts`). */
export function readImportGraph(srcDir: string): ImportGraph {
  const files = sourceFiles(srcDir);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = new Set<string>();
    for (const spec of importSpecifiers(readFileSync(join(srcDir, file), 'utf8'))) {
      const resolved = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (!known.has(resolved))
        throw new Error(`${file}: import ${JSON.stringify(spec)} does not resolve to a file of src/`);
      targets.add(resolved);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Strongly connected components with more than one member (or a self-edge): the import cycles. */
export function cycles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const nodes = new Set<string>([...graph.keys(), ...[...graph.values()].flat()]);
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return out;
}

/**
 * The folder of a file for the folder graph. Files directly in `src/` belong to different layers (`errors.ts` at the
 * bottom, `index.ts` at the top), so each counts as its own {@link moduleOf} module rather than as one folder `.`.
 */
export function folderOf(file: string): string {
  const dir = dirname(file);
  return dir === '.' ? moduleOf(file) : dir;
}

/** `graph` with every file replaced by `nodeOf(file)`; edges inside one node left out. */
function collapse(graph: ImportGraph, nodeOf: (file: string) => string): ImportGraph {
  const out = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = nodeOf(file);
    const set = out.get(from) ?? new Set<string>();
    out.set(from, set);
    for (const target of targets) if (nodeOf(target) !== from) set.add(nodeOf(target));
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

/** The graph between folders: `a/b/x.ts → a/y.ts` is the edge `a/b → a` (see {@link folderOf}). */
export function folderGraph(graph: ImportGraph): ImportGraph {
  return collapse(graph, folderOf);
}

/** The graph between modules ({@link moduleOf}). */
export function moduleGraph(graph: ImportGraph): ImportGraph {
  return collapse(graph, moduleOf);
}

/** One import that breaks the layer rules, as `from.ts -> to.ts (why)`. */
export interface LayerViolation {
  from: string;
  to: string;
  reason: string;
}

/** Every import in `graph` against {@link LAYERS} and {@link SIDE_MODULES}, or from a module in neither. */
export function layerViolations(graph: ImportGraph): LayerViolation[] {
  const out: LayerViolation[] = [];
  for (const [from, targets] of graph) {
    const a = moduleOf(from);
    for (const to of targets) {
      const b = moduleOf(to);
      if (a === b) continue;
      const reason = violation(a, b);
      if (reason !== undefined) out.push({ from, to, reason });
    }
  }
  return out;
}

function violation(a: string, b: string): string | undefined {
  const sideA = SIDE_MODULES[a];
  const sideB = SIDE_MODULES[b];
  if (sideA !== undefined)
    return sideA.mayImport.includes(b) ? undefined : `${a} may import only ${sideA.mayImport.join(', ')}`;
  if (sideB !== undefined)
    return sideB.importedBy.includes(a) ? undefined : `only ${sideB.importedBy.join(', ')} may import ${b}`;
  const la = layerIndex(a);
  const lb = layerIndex(b);
  if (la === undefined) return `${a} is in no layer`;
  if (lb === undefined) return `${b} is in no layer`;
  return lb > la ? `${a} (layer ${la}) imports ${b} (layer ${lb}), a higher layer` : undefined;
}
