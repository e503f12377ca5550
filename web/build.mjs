// Builds the staff web app into dist/: index.html, app.js (bundled, minified), app.css; and the
// patients' booking page: booking.html, booking.js, booking.css (served at /b/<token>).
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
// The booking page is a second, separate bundle: patients never download the staff app.
const bookingJs = { ...common, entryPoints: { booking: "src/booking/main.ts" }, format: "iife" };
const bookingCss = { ...common, entryPoints: { booking: "src/booking/booking.css" } };

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const copyHtml = () =>
  Promise.all([
    copyFile(join(root, "src/index.html"), join(dist, "index.html")),
    copyFile(join(root, "src/booking/index.html"), join(dist, "booking.html")),
  ]);

if (watch) {
  await copyHtml();
  const contexts = await Promise.all([js, css, bookingJs, bookingCss].map((o) => esbuild.context(o)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log("watching src/ (index.html is copied once: re-run after editing it)");
} else {
  await Promise.all([js, css, bookingJs, bookingCss].map((o) => esbuild.build(o)).concat(copyHtml()));
  const sizes = await Promise.all(
    ["index.html", "app.js", "app.css", "booking.html", "booking.js", "booking.css"].map(async (f) => `${f} ${(await stat(join(dist, f))).size} B`),
  );
  console.log(`built dist/ in ${Math.round(performance.now() - started)} ms: ${sizes.join(", ")}`);
}
