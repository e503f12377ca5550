// Builds the staff web app into dist/: index.html, app.js (bundled, minified), app.css.
// Usage: node build.mjs [--watch]
import * as esbuild from "esbuild";
import { copyFile, mkdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const watch = process.argv.includes("--watch");
const started = performance.now();

/** @type {import("esbuild").BuildOptions} */
const common = {
  absWorkingDir: root,
  outdir: dist,
  bundle: true,
  minify: !watch,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: watch ? "info" : "warning",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
};
// Built apart so each keeps the plain name "app" (app.js, app.css).
const js = { ...common, entryPoints: { app: "src/main.ts" }, format: "iife" };
const css = { ...common, entryPoints: { app: "src/app.css" } };

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const copyHtml = () => copyFile(join(root, "src/index.html"), join(dist, "index.html"));

if (watch) {
  await copyHtml();
  const contexts = await Promise.all([esbuild.context(js), esbuild.context(css)]);
  await Promise.all(contexts.map((c) => c.watch()));
  console.log("watching src/ (index.html is copied once: re-run after editing it)");
} else {
  await Promise.all([esbuild.build(js), esbuild.build(css), copyHtml()]);
  const sizes = await Promise.all(
    ["index.html", "app.js", "app.css"].map(async (f) => `${f} ${(await stat(join(dist, f))).size} B`),
  );
  console.log(`built dist/ in ${Math.round(performance.now() - started)} ms: ${sizes.join(", ")}`);
}
