// The gradient-flow engine of chapter 6's website explorer: resnet_book.gradflow.gradient_norms,
// ported line by line to JavaScript so that the page computes every setting itself, offline.
//
// What it ports, and how closely:
// - the weights: NumPy's PCG64 generator (seeded as np.random.default_rng(0), its state stored in
//   data.js) and NumPy's float32 ziggurat (its tables in data.js), so the draws are NumPy's own,
//   bit for bit; then gradflow.init_weights' scaling, in float32;
// - the forward and backward pass of gradflow._Pass: plain, v1 and v2 blocks, BatchNorm over the
//   batch, sigmoid, tanh and ReLU, the three branch scales, full-batch SGD steps; every array is
//   float32 (Float32Array: each stored value is rounded to float32, overflows to Infinity and
//   underflows as in NumPy), sums are taken in float64, which rounds less than NumPy's float32
//   BLAS, so the two agree to float32's precision, not bit for bit;
// - the flags: overflow (a gradient norm or spread not finite) and underflow (a norm below
//   float32's smallest normal number), as GradientFlow defines them.
// tests/site compares it with the Python engine on random settings drawn anew each run.
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.GradflowEngine = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  var WIDTH = 64, CLASSES = 10, MAX_DEPTH = 200, BN_EPSILON = Math.fround(1e-3);
  var TINY = 1.1754943508222875e-38;  // float32's smallest normal number
  var FLOAT32_MAX = 3.4028234663852886e38;
  var RESOLUTION = 8 * 1.1920928955078125e-7;  // a few units in float32's last place
  var fround = Math.fround;
  var VANISHING = Math.pow(2, -64), RESCALE = Math.pow(2, 64);  // see Engine.prototype.backward

  function decode(base64, Type) {  // little-endian typed array from base64 (browser or Node)
    var bytes;
    if (typeof atob === "function") {
      var text = atob(base64);
      bytes = new Uint8Array(text.length);
      for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    } else {
      bytes = new Uint8Array(Buffer.from(base64, "base64"));
    }
    return new Type(bytes.buffer, 0, bytes.length / Type.BYTES_PER_ELEMENT);
  }

  // --- NumPy's PCG64 (XSL-RR 128/64), in eight 16-bit limbs, and its 32-bit outputs ----------
  function limbs(hex) {  // a 128-bit hexadecimal number as 8 little-endian 16-bit limbs
    hex = hex.replace(/^0x/, "");
    while (hex.length < 32) hex = "0" + hex;
    var out = new Float64Array(8);
    for (var i = 0; i < 8; i++) out[i] = parseInt(hex.substr(28 - 4 * i, 4), 16);
    return out;
  }
  var MULTIPLIER = limbs("2360ed051fc65da44385df649fccf645");  // PCG_DEFAULT_MULTIPLIER_128

  function Pcg64(state) {
    this.state = limbs(state.state);
    this.inc = limbs(state.inc);
    this.product = new Float64Array(8);
    this.spare = state.has_uint32 ? state.uinteger >>> 0 : null;
  }
  Pcg64.prototype.next64 = function (out) {  // out = [low 32 bits, high 32 bits]
    var s = this.state, m = MULTIPLIER, p = this.product, carry = 0;
    for (var k = 0; k < 8; k++) {  // state * multiplier + inc, mod 2^128
      var sum = carry + this.inc[k];
      for (var i = 0; i <= k; i++) sum += s[i] * m[k - i];
      p[k] = sum % 65536;
      carry = Math.floor(sum / 65536);
    }
    for (k = 0; k < 8; k++) s[k] = p[k];
    var lowLow = s[0] + s[1] * 65536, lowHigh = s[2] + s[3] * 65536;
    var highLow = s[4] + s[5] * 65536, highHigh = s[6] + s[7] * 65536;
    var xLow = (lowLow ^ highLow) >>> 0, xHigh = (lowHigh ^ highHigh) >>> 0;
    var rot = Math.floor(s[7] / 1024);  // state >> 122
    if (rot >= 32) { var t = xLow; xLow = xHigh; xHigh = t; rot -= 32; }
    if (rot) {
      var newLow = ((xLow >>> rot) | (xHigh << (32 - rot))) >>> 0;
      xHigh = ((xHigh >>> rot) | (xLow << (32 - rot))) >>> 0;
      xLow = newLow;
    }
    out[0] = xLow;
    out[1] = xHigh;
  };
  Pcg64.prototype.next32 = function () {  // NumPy's pcg64_next32: low half first, then the high
    if (this.spare !== null) { var v = this.spare; this.spare = null; return v; }
    var pair = [0, 0];
    this.next64(pair);
    this.spare = pair[1];
    return pair[0];
  };
  Pcg64.prototype.nextFloat = function () {
    return (this.next32() >>> 8) * (1 / 16777216);
  };

  // NumPy's random_standard_normal_f (distributions.c), with its tables.
  function standardNormals(rng, zig, count) {
    var out = new Float32Array(count), ki = zig.ki, wi = zig.wi, fi = zig.fi;
    var r = zig.r, invR = zig.inv_r;
    for (var n = 0; n < count; n++) {
      for (;;) {
        var bits = rng.next32(), idx = bits & 0xff, sign = (bits >>> 8) & 1;
        var rabs = (bits >>> 9) & 0x7fffff;
        var x = fround(rabs * wi[idx]);
        if (sign) x = -x;
        if (rabs < ki[idx]) { out[n] = x; break; }
        if (idx === 0) {
          var xx, yy;
          for (;;) {
            xx = fround(-invR * fround(Math.log1p(-rng.nextFloat())));
            yy = -fround(Math.log1p(-rng.nextFloat()));
            if (fround(yy + yy) > fround(xx * xx)) break;
          }
          out[n] = ((rabs >>> 8) & 1) ? -fround(r + xx) : fround(r + xx);
          break;
        }
        var left = fround(fround(fround(fi[idx - 1] - fi[idx]) * rng.nextFloat()) + fi[idx]);
        if (left < Math.exp(-0.5 * x * x)) { out[n] = x; break; }
      }
    }
    return out;
  }

  // --- Dense kernels on a batch of n rows of 64 (row-major Float32Arrays) -----------------
  // Each sums in float64 (JavaScript's numbers) and rounds once, into the float32 output.
  var ROW = new Float64Array(WIDTH);

  function matmul(x, w, out, n, wOffset, accumulate) {  // out (+)= x @ w
    var acc = ROW;
    for (var i = 0; i < n; i++) {
      var xi = i * WIDTH, j;
      for (j = 0; j < WIDTH; j++) acc[j] = accumulate ? out[xi + j] : 0;
      for (var k = 0; k < WIDTH; k += 4) {
        var a0 = x[xi + k], a1 = x[xi + k + 1], a2 = x[xi + k + 2], a3 = x[xi + k + 3];
        var o0 = wOffset + k * WIDTH, o1 = o0 + WIDTH, o2 = o1 + WIDTH, o3 = o2 + WIDTH;
        for (j = 0; j < WIDTH; j++) {
          acc[j] += a0 * w[o0 + j] + a1 * w[o1 + j] + a2 * w[o2 + j] + a3 * w[o3 + j];
        }
      }
      for (j = 0; j < WIDTH; j++) out[xi + j] = acc[j];
    }
  }

  function matmulTransposed(g, w, out, n, wOffset, accumulate) {  // out (+)= g @ w.T
    for (var i = 0; i < n; i++) {
      var gi = i * WIDTH;
      for (var k = 0; k < WIDTH; k += 4) {
        var o0 = wOffset + k * WIDTH, o1 = o0 + WIDTH, o2 = o1 + WIDTH, o3 = o2 + WIDTH;
        var s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (var j = 0; j < WIDTH; j++) {
          var v = g[gi + j];
          s0 += v * w[o0 + j]; s1 += v * w[o1 + j]; s2 += v * w[o2 + j]; s3 += v * w[o3 + j];
        }
        if (accumulate) {
          // NumPy rounds the product to float32 before adding it
          out[gi + k] = fround(s0) + out[gi + k];
          out[gi + k + 1] = fround(s1) + out[gi + k + 1];
          out[gi + k + 2] = fround(s2) + out[gi + k + 2];
          out[gi + k + 3] = fround(s3) + out[gi + k + 3];
        } else {
          out[gi + k] = s0; out[gi + k + 1] = s1; out[gi + k + 2] = s2; out[gi + k + 3] = s3;
        }
      }
    }
  }

  function weightGradient(x, g, out, n) {  // out = x.T @ g, 64 x 64
    var acc = ROW;
    for (var k = 0; k < WIDTH; k++) {
      var j;
      for (j = 0; j < WIDTH; j++) acc[j] = 0;
      for (var i = 0; i + 3 < n; i += 4) {
        var r0 = i * WIDTH, r1 = r0 + WIDTH, r2 = r1 + WIDTH, r3 = r2 + WIDTH;
        var a0 = x[r0 + k], a1 = x[r1 + k], a2 = x[r2 + k], a3 = x[r3 + k];
        for (j = 0; j < WIDTH; j++) {
          acc[j] += a0 * g[r0 + j] + a1 * g[r1 + j] + a2 * g[r2 + j] + a3 * g[r3 + j];
        }
      }
      for (; i < n; i++) {
        var a = x[i * WIDTH + k];
        for (j = 0; j < WIDTH; j++) acc[j] += a * g[i * WIDTH + j];
      }
      for (j = 0; j < WIDTH; j++) out[k * WIDTH + j] = acc[j];
    }
  }

  // The same three products with the WebAssembly SIMD kernel of kernel.js (float32 sums, as
  // BLAS): out (+)= a @ b for a of rows x inner and b of inner x 64, all in the kernel's memory.
  function SimdKernels(product, scratchT, scratchX) {
    this.product = product;
    this.wT = scratchT;
    this.xT = scratchX;
  }
  SimdKernels.prototype.matmul = function (x, w, out, n, wOffset, accumulate) {
    this.product(x.byteOffset, w.byteOffset + 4 * wOffset, out.byteOffset, n, WIDTH, accumulate ? 1 : 0);
  };
  SimdKernels.prototype.matmulTransposed = function (g, w, out, n, wOffset, accumulate) {
    var t = this.wT;
    for (var k = 0; k < WIDTH; k++) for (var j = 0; j < WIDTH; j++) t[j * WIDTH + k] = w[wOffset + k * WIDTH + j];
    this.product(g.byteOffset, t.byteOffset, out.byteOffset, n, WIDTH, accumulate ? 1 : 0);
  };
  SimdKernels.prototype.weightGradient = function (x, g, out, n) {
    var t = this.xT;
    for (var i = 0; i < n; i++) for (var k = 0; k < WIDTH; k++) t[k * n + i] = x[i * WIDTH + k];
    this.product(t.byteOffset, g.byteOffset, out.byteOffset, WIDTH, n, 0);
  };
  var JS_KERNELS = { matmul: matmul, matmulTransposed: matmulTransposed, weightGradient: weightGradient };

  function activate(z, kind, a, slope) {  // a = f(z), slope = f'(z), all float32
    var len = z.length, i, v;
    if (kind === "relu") {
      for (i = 0; i < len; i++) { v = z[i]; a[i] = v > 0 || v !== v ? v : 0; slope[i] = v > 0 ? 1 : 0; }  // NaN stays
    } else if (kind === "tanh") {
      for (i = 0; i < len; i++) { v = fround(Math.tanh(z[i])); a[i] = v; slope[i] = 1 - fround(v * v); }
    } else {
      for (i = 0; i < len; i++) {
        v = fround(1 / fround(fround(Math.exp(-z[i])) + 1));
        a[i] = v;
        slope[i] = fround(1 - v) * v;
      }
    }
  }

  var COLUMN = new Float64Array(WIDTH), COLUMN2 = new Float64Array(WIDTH);

  function columnMeans(z, n, out) {
    for (var j = 0; j < WIDTH; j++) out[j] = 0;
    for (var i = 0; i < n; i++) for (j = 0; j < WIDTH; j++) out[j] += z[i * WIDTH + j];
    for (j = 0; j < WIDTH; j++) out[j] = fround(out[j] / n);
  }

  function batchnorm(z, n, invStd) {  // z normalised in place over the batch; invStd written
    var mean = COLUMN, j, i, v;
    columnMeans(z, n, mean);
    for (i = 0; i < n; i++) for (j = 0; j < WIDTH; j++) z[i * WIDTH + j] -= mean[j];
    for (j = 0; j < WIDTH; j++) mean[j] = 0;
    for (i = 0; i < n; i++) for (j = 0; j < WIDTH; j++) { v = z[i * WIDTH + j]; mean[j] += fround(v * v); }
    for (j = 0; j < WIDTH; j++) invStd[j] = fround(1 / fround(Math.sqrt(fround(fround(mean[j] / n) + BN_EPSILON))));
    for (i = 0; i < n; i++) for (j = 0; j < WIDTH; j++) z[i * WIDTH + j] *= invStd[j];
  }

  function batchnormBackward(g, zHat, invStd, n) {  // through (z - mean) / std, in place
    var along = COLUMN, mean = COLUMN2, i, j;
    for (j = 0; j < WIDTH; j++) along[j] = 0;
    for (i = 0; i < n; i++) for (j = 0; j < WIDTH; j++) along[j] += fround(g[i * WIDTH + j] * zHat[i * WIDTH + j]);
    for (j = 0; j < WIDTH; j++) along[j] = fround(along[j] / n);
    columnMeans(g, n, mean);
    for (i = 0; i < n; i++) {
      for (j = 0; j < WIDTH; j++) {
        var at = i * WIDTH + j;
        g[at] = fround(fround(g[at] - mean[j]) - fround(zHat[at] * along[j])) * invStd[j];
      }
    }
  }

  function spread(h) {  // gradflow._spread: the standard deviation of all entries
    var size = h.length, sum = 0, i;
    for (i = 0; i < size; i++) sum += h[i];
    var mean32 = Math.abs(sum) > FLOAT32_MAX ? sum : fround(sum / size);
    var squares = 0;
    for (i = 0; i < size; i++) { var d = fround(h[i] - mean32); squares += d * d; }
    var variance = squares / size;
    if (!(TINY < variance && variance < Infinity)) {
      var mean64 = sum / size;
      squares = 0;
      for (i = 0; i < size; i++) { var e = h[i] - mean64; squares += e * e; }
      variance = squares / size;
    }
    if (isFinite(mean32) && Math.sqrt(variance) <= RESOLUTION * Math.abs(mean32)) return 0;
    return Math.sqrt(variance);
  }

  function norm(m) {  // Frobenius norm, summed in float64
    var s = 0;
    for (var i = 0; i < m.length; i++) s += m[i] * m[i];
    return Math.sqrt(s);
  }

  // --- The engine -----------------------------------------------------------------------------
  // data: window.GRADFLOW_DATA (data.js); kernel: window.GRADFLOW_KERNEL (kernel.js), or
  // nothing for plain JavaScript loops (also where WebAssembly SIMD is missing).
  function Engine(data, kernel) {
    var n = data.batch, per = MAX_DEPTH + 1, size = n * WIDTH, layers = MAX_DEPTH * WIDTH * WIDTH;
    var floats = 3 * layers + WIDTH * CLASSES * 2 + (7 * per + 4) * size + 2 * per * WIDTH + 3 * WIDTH * WIDTH + 64;
    var memory = new WebAssembly.Memory({ initial: Math.ceil(4 * floats / 65536) + 1 });
    var used = 0;
    var alloc = function (count) {  // a float32 array in the kernel's memory, 16-byte aligned
      var view = new Float32Array(memory.buffer, used, count);
      used += 16 * Math.ceil(4 * count / 16);
      return view;
    };
    this.kernels = JS_KERNELS;
    this.simd = false;
    if (kernel) {
      try {
        var bytes = decode(kernel, Uint8Array);
        var instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: memory } });
        this.kernels = new SimdKernels(instance.exports.matmul, alloc(WIDTH * WIDTH), alloc(WIDTH * n));
        this.simd = true;
      } catch (error) {  // no WebAssembly SIMD in this browser: the loops above
        this.kernels = JS_KERNELS;
      }
    }
    this.x = alloc(size);
    this.x.set(decode(data.x, Float32Array));
    this.y = Array.prototype.slice.call(decode(data.y, Int32Array));
    this.n = n;
    var zig = { ki: decode(data.ziggurat.ki, Uint32Array), wi: decode(data.ziggurat.wi, Float32Array),
      fi: decode(data.ziggurat.fi, Float32Array), r: fround(data.ziggurat.r), inv_r: fround(data.ziggurat.inv_r) };
    var draws = standardNormals(new Pcg64(data.rng), zig, layers + WIDTH * CLASSES);
    this.normals = draws.subarray(0, layers);
    this.headNormals = draws.subarray(layers);
    var buffers = function () {
      var list = [];
      for (var i = 0; i < per; i++) list.push(alloc(size));
      return list;
    };
    this.buf = { z: buffers(), a: buffers(), slope: buffers(), h: buffers(), p: buffers(), q: buffers(),
      qSlope: buffers(), g: alloc(size), gBranch: alloc(size), gMid: alloc(size), gradW: alloc(WIDTH * WIDTH) };
    this.invStd = [];
    this.preInvStd = [];
    for (var i = 0; i < per; i++) { this.invStd.push(alloc(WIDTH)); this.preInvStd.push(alloc(WIDTH)); }
    this.hidden = alloc(layers);
    this.head = alloc(WIDTH * CLASSES);
    this.grads = alloc(layers);
  }

  // gradflow.init_weights, into this.hidden and this.head.
  Engine.prototype.initWeights = function (depth, initialization, gain) {
    var scale = fround(gain * Math.sqrt((initialization === "he" ? 2 : 1) / WIDTH));
    var count = depth * WIDTH * WIDTH, i;
    for (i = 0; i < count; i++) this.hidden[i] = this.normals[i] * scale;
    var headScale = fround(Math.sqrt(2 / (WIDTH + CLASSES)));
    for (i = 0; i < WIDTH * CLASSES; i++) this.head[i] = this.headNormals[i] * headScale;
  };

  // One forward pass (gradflow._Pass.forward); returns the spreads.
  Engine.prototype.forward = function (run) {
    var buf = this.buf, h = buf.h, n = this.n, blocks = run.blocks, spreads = new Float64Array(blocks);
    h[0].set(this.x);
    this.inputs = [];
    for (var k = 0; k < blocks; k++) {
      if (run.block === "plain") {
        h[k + 1].set(this.layer(run, k, h[k], run.batchnorm, true));
      } else if (run.block === "v1") {
        var middle = this.layer(run, 2 * k, h[k], run.batchnorm, true);
        var branch = this.layer(run, 2 * k + 1, middle, run.batchnorm, false);
        var p = buf.p[k], s = run.scales[k], hk = h[k], i;
        for (i = 0; i < p.length; i++) p[i] = fround(branch[i] * s) + hk[i];
        activate(p, run.activation, h[k + 1], buf.qSlope[k]);
      } else {
        var pre = buf.p[k];
        pre.set(h[k]);
        if (run.batchnorm) batchnorm(pre, n, this.preInvStd[k]);
        activate(pre, run.activation, buf.q[k], buf.qSlope[k]);
        var mid = this.layer(run, 2 * k, buf.q[k], run.batchnorm, true);
        var out = this.layer(run, 2 * k + 1, mid, false, false);
        var next = h[k + 1], prev = h[k], sc = run.scales[k];
        for (i = 0; i < next.length; i++) next[i] = fround(out[i] * sc) + prev[i];
      }
      spreads[k] = spread(h[k + 1]);
    }
    return spreads;
  };

  Engine.prototype.layer = function (run, index, x, norm, act) {
    var z = this.buf.z[index];
    this.inputs[index] = x;
    this.kernels.matmul(x, run.hidden, z, this.n, index * WIDTH * WIDTH, false);
    run.normed[index] = norm;
    if (norm) batchnorm(z, this.n, this.invStd[index]);
    if (!act) return z;
    activate(z, run.activation, this.buf.a[index], this.buf.slope[index]);
    return this.buf.a[index];
  };

  Engine.prototype.layerBackward = function (run, index, g, act, into, accumulate) {
    var i;
    if (act) { var slope = this.buf.slope[index]; for (i = 0; i < g.length; i++) g[i] *= slope[i]; }
    if (run.normed[index]) batchnormBackward(g, this.buf.z[index], this.invStd[index], this.n);
    var gradW = run.norms ? this.buf.gradW : this.grads.subarray(index * WIDTH * WIDTH, (index + 1) * WIDTH * WIDTH);
    this.kernels.weightGradient(this.inputs[index], g, gradW, this.n);
    if (run.norms) run.norms[index] = norm(gradW) * run.unscale;
    else if (run.unscale !== 1) for (i = 0; i < gradW.length; i++) gradW[i] *= run.unscale;
    this.kernels.matmulTransposed(g, run.hidden, into, this.n, index * WIDTH * WIDTH, accumulate);
  };

  // The backward pass (gradflow._Pass.backward): weight gradients into this.grads, or their
  // norms into run.norms; returns the scales' gradients.
  //
  // The pass is linear in the gradient it carries, so where that gradient vanishes (a sigmoid
  // network's, below 2^-64) it is carried times a power of two, exactly, and what leaves the
  // pass (norms, weight and scale gradients) is scaled back: x86 processors compute with float32
  // numbers below 1e-38 (subnormal) many times slower, which made a deep sigmoid network take
  // half a second. Where Python's gradient stays a normal float32, the results are the same,
  // rounding for rounding; below, where NumPy rounds to fewer digits, they are more precise
  // (the tests compare only values above float32's smallest normal number there).
  Engine.prototype.backward = function (run) {
    var buf = this.buf, n = this.n, blocks = run.blocks, last = buf.h[blocks], head = run.head;
    var g = buf.g, gBranch = buf.gBranch, gMid = buf.gMid, i, j, c;
    var logits = new Float32Array(CLASSES), probs = new Float32Array(CLASSES);
    for (i = 0; i < n; i++) {  // softmax cross-entropy, averaged over the batch
      var max = -Infinity;
      for (c = 0; c < CLASSES; c++) {
        var s = 0;
        for (j = 0; j < WIDTH; j++) s += last[i * WIDTH + j] * head[j * CLASSES + c];
        logits[c] = s;
        if (logits[c] > max) max = logits[c];
      }
      var total = 0;
      for (c = 0; c < CLASSES; c++) { probs[c] = Math.exp(fround(logits[c] - max)); total += probs[c]; }
      total = fround(total);
      for (c = 0; c < CLASSES; c++) probs[c] = fround(probs[c] / total);
      probs[this.y[i]] = fround(probs[this.y[i]] - 1);
      for (c = 0; c < CLASSES; c++) probs[c] = fround(probs[c] / n);
      for (j = 0; j < WIDTH; j++) {
        var v = 0;
        for (c = 0; c < CLASSES; c++) v += probs[c] * head[j * CLASSES + c];
        g[i * WIDTH + j] = v;
      }
    }
    var scaleGrads = new Float32Array(blocks), exponent = 0;
    run.unscale = 1;  // g holds the gradient times 2^exponent = 1 / run.unscale
    for (var k = blocks - 1; k >= 0; k--) {
      var largest = 0;
      for (i = 0; i < g.length; i++) { var size = Math.abs(g[i]); if (size > largest) largest = size; }
      if (largest > 0 && largest < VANISHING) {
        for (i = 0; i < g.length; i++) g[i] *= RESCALE;
        exponent += 64;
        run.unscale = Math.pow(2, -exponent);
      }
      if (run.block === "plain") {
        gBranch.set(g);
        this.layerBackward(run, k, gBranch, true, g, false);
        continue;
      }
      if (run.block === "v1") { var qs = buf.qSlope[k]; for (i = 0; i < g.length; i++) g[i] *= qs[i]; }
      var branch = buf.z[2 * k + 1], dot = 0, scale = run.scales[k];
      for (i = 0; i < g.length; i++) dot += g[i] * branch[i];
      scaleGrads[k] = dot * run.unscale;
      for (i = 0; i < g.length; i++) gBranch[i] = g[i] * scale;
      this.layerBackward(run, 2 * k + 1, gBranch, false, gMid, false);
      if (run.block === "v1") {
        this.layerBackward(run, 2 * k, gMid, true, g, true);
      } else {
        this.layerBackward(run, 2 * k, gMid, true, gBranch, false);
        var q = buf.qSlope[k];
        for (i = 0; i < gBranch.length; i++) gBranch[i] *= q[i];
        if (run.batchnorm) batchnormBackward(gBranch, buf.p[k], this.preInvStd[k], n);
        for (i = 0; i < g.length; i++) g[i] += gBranch[i];
      }
    }
    return scaleGrads;
  };

  // resnet_book.gradflow.gradient_norms on the digits batch, for the settings of its keyword
  // arguments (camelCase): {gradNorms, spreads, overflow, underflow, layersPerBlock}.
  Engine.prototype.gradientNorms = function (settings) {
    var depth = settings.depth, block = settings.block || "plain";
    var steps = settings.steps || 0, rate = fround(settings.learningRate || 0.1);
    if (!(depth >= 1 && depth <= MAX_DEPTH && depth === Math.floor(depth)) || (block !== "plain" && depth % 2)) {
      throw new Error("gradientNorms: depth must be 1 to 200, even for residual blocks. Received: depth=" + depth);
    }
    this.initWeights(depth, settings.initialization || "he", settings.gain || 1);
    var blocks = block === "plain" ? depth : depth / 2;
    var branchScale = block === "plain" ? "one" : settings.branchScale || "one";
    var start = branchScale === "inverse_sqrt" ? 1 / Math.sqrt(blocks) : branchScale === "zero" ? 0 : 1;
    var run = { block: block, blocks: blocks, activation: settings.activation || "relu",
      batchnorm: settings.normalization === "batchnorm", hidden: this.hidden, head: this.head,
      scales: new Float32Array(blocks).fill(start), normed: [], norms: null };
    var count = depth * WIDTH * WIDTH, i;
    for (var step = 0; step < steps; step++) {
      this.forward(run);
      var scaleGrads = this.backward(run);
      for (i = 0; i < count; i++) this.hidden[i] -= fround(rate * this.grads[i]);
      if (branchScale === "zero") for (i = 0; i < blocks; i++) run.scales[i] -= fround(rate * scaleGrads[i]);
    }
    var spreads = this.forward(run);
    run.norms = new Float64Array(depth);
    this.backward(run);
    var norms = run.norms, finite = true, smallest = Infinity, anyNumber = false;
    for (i = 0; i < depth; i++) {
      if (!isFinite(norms[i])) finite = false;
      if (!isNaN(norms[i])) { anyNumber = true; if (norms[i] < smallest) smallest = norms[i]; }
    }
    for (i = 0; i < blocks; i++) if (!isFinite(spreads[i])) finite = false;
    return { gradNorms: norms, spreads: spreads, overflow: !finite, underflow: anyNumber && smallest < TINY,
      layersPerBlock: block === "plain" ? 1 : 2 };
  };

  return { Engine: Engine, Pcg64: Pcg64, standardNormals: standardNormals, WIDTH: WIDTH,
    MAX_DEPTH: MAX_DEPTH, TINY: TINY };
});
