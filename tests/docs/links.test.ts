/**
 * Docs links resolve (issue 9 item 4, BASE-DOC-a…h): every relative link in README.md, docs/ and the
 * READMEs under deploy/ and benchmarks/ names a file that exists, and a `#fragment` into a markdown
 * file (or into the same file) names a heading that exists there. Every document in docs/ is reachable
 * from README.md, directly or through the docs index.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { anchorsOf, linksOf, markdownFiles, root } from "./support/markdown.js";

const files = [
  path.join(root, "README.md"),
  ...markdownFiles(path.join(root, "docs")),
  ...markdownFiles(path.join(root, "deploy")),
  ...markdownFiles(path.join(root, "benchmarks")),
];

function resolveLink(file: string, target: string): { file: string; fragment: string | undefined } {
  const [pathPart = "", fragment] = target.split("#");
  return { file: pathPart === "" ? file : path.resolve(path.dirname(file), pathPart), fragment };
}

describe("documentation links", () => {
  it("resolve to files and headings that exist", () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const target of linksOf(file)) {
        const resolved = resolveLink(file, target);
        const where = `${path.relative(root, file)} → ${target}`;
        if (!existsSync(resolved.file)) {
          broken.push(where);
          continue;
        }
        if (resolved.fragment === undefined || !resolved.file.endsWith(".md")) continue;
        if (!anchorsOf(resolved.file).has(resolved.fragment)) broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("reach every document in docs/ from README.md", () => {
    const reached = new Set<string>();
    const queue = [path.join(root, "README.md")];
    while (queue.length > 0) {
      const file = queue.pop() ?? "";
      if (reached.has(file)) continue;
      reached.add(file);
      for (const target of linksOf(file)) {
        let next = resolveLink(file, target).file;
        if (existsSync(next) && statSync(next).isDirectory()) next = path.join(next, "README.md");
        if (next.endsWith(".md") && existsSync(next)) queue.push(next);
      }
    }
    const unreached = markdownFiles(path.join(root, "docs"))
      .filter((file) => !reached.has(file))
      .map((file) => path.relative(root, file));
    expect(unreached).toEqual([]);
  });
});
