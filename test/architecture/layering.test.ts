/**
 * The dependency direction is a rule, not an agreement (style.md §2.1):
 * codec/ is pure (no src/, datapath/, sockets, loggers or other packages),
 * datapath/ may import codec/ but never src/.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[^'"]*?\bfrom\s*)?["']([^"']+)["']/g,
    /\bexport\s+(?:type\s+)?[^'"]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) specs.push(m[1]!);
  return specs;
}

interface Rule {
  readonly folder: string;
  readonly forbidden: (spec: string, file: string) => string | undefined;
}

const outside = (file: string, spec: string, folder: string): boolean =>
  spec.startsWith(".") && relative(join(ROOT, folder), join(file, "..", spec)).startsWith("..");

const RULES: Rule[] = [
  {
    folder: "codec",
    forbidden: (spec, file) => {
      if (outside(file, spec, "codec")) return "codec/ imports only codec/";
      if (!spec.startsWith(".")) return "codec/ imports no packages and no node: modules (pure)";
      return undefined;
    },
  },
  {
    folder: "datapath",
    forbidden: (spec, file) => {
      if (spec.startsWith(".")) {
        const target = relative(ROOT, join(file, "..", spec));
        if (target.startsWith("src")) return "datapath/ must not import src/";
      }
      return undefined;
    },
  },
];

describe("layering", () => {
  it("recognises the import forms it guards against", () => {
    const src = `import { a } from "../src/x.js";\nimport type { B } from 'node:net';\nexport * from "pino";\nconst m = await import("./y.js");`;
    expect(importsOf(src)).toEqual(["../src/x.js", "node:net", "pino", "./y.js"]);
  });

  for (const rule of RULES) {
    it(`${rule.folder}/ respects its dependency rule`, () => {
      const violations: string[] = [];
      let dir: string;
      try {
        dir = join(ROOT, rule.folder);
        statSync(dir);
      } catch {
        return;
      }
      for (const file of sourceFiles(dir)) {
        for (const spec of importsOf(readFileSync(file, "utf8"))) {
          const why = rule.forbidden(spec, file);
          if (why !== undefined) violations.push(`${relative(ROOT, file)}: "${spec}" (${why})`);
        }
      }
      expect(violations).toEqual([]);
    });
  }

  it("the codec rule rejects src/, datapath/, node:net and a logger", () => {
    const rule = RULES[0]!;
    const file = join(ROOT, "codec", "message.ts");
    expect(rule.forbidden("../src/controller/session.js", file)).toBeDefined();
    expect(rule.forbidden("../datapath/switch.js", file)).toBeDefined();
    expect(rule.forbidden("node:net", file)).toBeDefined();
    expect(rule.forbidden("pino", file)).toBeDefined();
    expect(rule.forbidden("./match.js", file)).toBeUndefined();
  });
});
