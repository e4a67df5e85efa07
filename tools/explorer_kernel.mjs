// Assemble web/gradflow/kernel.js: the explorer engine's one WebAssembly SIMD kernel, a
// matrix product of a row-major (rows x inner) matrix with an (inner x 64) one, in float32
// (f32x4: each output row is 16 vectors of 4, kept in registers while the inner loop runs).
// The text (WAT) is written here and assembled by wabt from the npm registry; kernel.js holds
// the binary in base64, so the page needs no tool and no second request.
// Usage: node tools/explorer_kernel.mjs   (after tools/vendor.sh or `npm pack wabt@1.0.39`)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { execSync } from "node:child_process";
import os from "node:os";

const WABT_VERSION = "1.0.39";
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "wabt-"));
execSync(`npm pack --silent wabt@${WABT_VERSION} && tar xzf wabt-*.tgz`, { cwd: work });
const wabt = await createRequire(import.meta.url)(path.join(work, "package"))();

const vectors = [...Array(16).keys()];
const wat = `(module
  (import "env" "memory" (memory 1))
  ;; out[r, :] (+)= sum over k of a[r, k] * b[k, :], for r < rows; b and out have 64 columns.
  (func (export "matmul") (param $a i32) (param $b i32) (param $out i32) (param $rows i32)
        (param $inner i32) (param $accumulate i32)
    (local $r i32) (local $k i32) (local $arow i32) (local $brow i32) (local $x v128)
    ${vectors.map((m) => `(local $s${m} v128)`).join(" ")}
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (if (local.get $accumulate)
        (then ${vectors.map((m) => `(local.set $s${m} (v128.load offset=${16 * m} (local.get $out)))`).join("\n          ")})
        (else ${vectors.map((m) => `(local.set $s${m} (v128.const i32x4 0 0 0 0))`).join(" ")}))
      (local.set $k (i32.const 0))
      (local.set $arow (local.get $a))
      (local.set $brow (local.get $b))
      (block $inner_done (loop $over_k
        (br_if $inner_done (i32.ge_u (local.get $k) (local.get $inner)))
        (local.set $x (f32x4.splat (f32.load (local.get $arow))))
        ${vectors.map((m) => `(local.set $s${m} (f32x4.add (local.get $s${m}) (f32x4.mul (local.get $x) (v128.load offset=${16 * m} (local.get $brow)))))`).join("\n        ")}
        (local.set $arow (i32.add (local.get $arow) (i32.const 4)))
        (local.set $brow (i32.add (local.get $brow) (i32.const 256)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $over_k)))
      ${vectors.map((m) => `(v128.store offset=${16 * m} (local.get $out) (local.get $s${m}))`).join("\n      ")}
      (local.set $a (i32.add (local.get $a) (i32.shl (local.get $inner) (i32.const 2))))
      (local.set $out (i32.add (local.get $out) (i32.const 256)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $row)))))
`;
const module = wabt.parseWat("kernel.wat", wat, { simd: true });
const binary = module.toBinary({}).buffer;
const base64 = Buffer.from(binary).toString("base64");
fs.writeFileSync(path.join(root, "web", "gradflow", "kernel.js"),
  "// Written by tools/explorer_kernel.mjs: engine.js' WebAssembly SIMD matrix product.\n" +
  `window.GRADFLOW_KERNEL = "${base64}";\n`);
fs.rmSync(work, { recursive: true });
console.log(`wrote web/gradflow/kernel.js (${binary.length} bytes of WebAssembly)`);
