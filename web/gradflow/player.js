// Chapter 6's gradient-flow explorer on the website: the notebook explorer's controls, its two
// log-scale panels (plain left, residual right) and its ratio table, computed in the reader's
// browser by engine.js (a port of resnet_book.gradflow) from the digits batch in data.js. No
// Python, no server, no other host. Everything it shows comes from Python through data.js, as
// resnet_book.explorer draws it: the words, the curves' colours and legend, the defaults, the
// controls' ranges, and the rule for the vertical axis (explorer.axis_decades). After every
// draw, the element holds a read-only description of what it drew, `element.gradflowView`,
// which the site tests compare with explorer.FlowFigure; `element.gradflowEngine` is the engine.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var SIZE = { width: 440, height: 270, left: 62, right: 22, top: 12, bottom: 40 };
  var SUPERSCRIPT = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3",
    4: "\u2074", 5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };
  var engine = null;  // one for every explorer on the page, made at the first

  function node(tag, attributes, parent, namespace) {
    var element = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") element.textContent = attributes[key];
      else element.setAttribute(key, attributes[key]);
    });
    if (parent) parent.appendChild(element);
    return element;
  }

  function powerOfTen(exponent) {
    return "10" + String(exponent).split("").map(function (c) { return SUPERSCRIPT[c]; }).join("");
  }

  // Python's format(value, ".3g"), as explorer.ratio_text prints a ratio.
  function threeDigits(value) {
    if (value === 0) return "0";
    var exponent = Number(value.toExponential(2).split("e")[1]);
    var strip = function (text) { return text.indexOf(".") < 0 ? text : text.replace(/\.?0+$/, ""); };
    if (exponent >= -4 && exponent < 3) return strip(value.toFixed(2 - exponent));
    var parts = value.toExponential(2).split("e");
    var power = Math.abs(exponent);
    return strip(parts[0]) + "e" + (exponent < 0 ? "-" : "+") + (power < 10 ? "0" : "") + power;
  }

  // explorer.flag and explorer.ratio_text for one network's flow.
  function flagOf(flow) { return flow.overflow ? "overflow" : flow.underflow ? "underflow" : ""; }
  function ratioOf(flow, labels) {
    var norms = flow.gradNorms, ratio = norms[0] / norms[norms.length - flow.layersPerBlock];
    return isFinite(ratio) ? threeDigits(ratio) : labels.nan;
  }

  // explorer.axis_decades: the whole decades around every finite, positive value drawn.
  function axisDecades(flows, data) {
    var low = Infinity, high = -Infinity;
    flows.forEach(function (flow) {
      [flow.gradNorms, flow.spreads].forEach(function (values) {
        for (var i = 0; i < values.length; i++) {
          var v = values[i];
          if (isFinite(v) && v > 0) { if (v < low) low = v; if (v > high) high = v; }
        }
      });
    });
    if (low === Infinity) { low = data.no_values[0]; high = data.no_values[1]; }
    var bottom = Math.floor(Math.log10(Math.max(low, data.floor)));
    return [bottom, Math.max(Math.ceil(Math.log10(high)), bottom + 1)];
  }

  // The points of one series as [layer, log10 value], split where a value is missing (zero
  // or not finite), as FlowFigure leaves such values out. A series has a value per layer
  // (gradients) or per block of `per` layers (spreads, drawn at the block's last layer).
  function segments(values, per) {
    var parts = [], current = [];
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (!(isFinite(v) && v > 0)) { if (current.length) parts.push(current); current = []; }
      else current.push([(i + 1) * per, Math.log10(v)]);
    }
    if (current.length) parts.push(current);
    return parts;
  }

  // Draws one panel; returns its segments per series, as drawn.
  function drawPanel(svg, flow, range, data) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var depth = flow.gradNorms.length, s = SIZE, labels = data.labels;
    var innerW = s.width - s.left - s.right, innerH = s.height - s.top - s.bottom;
    var x = function (layer) { return s.left + (depth === 1 ? innerW / 2 : (layer - 1) / (depth - 1) * innerW); };
    var y = function (v) { return s.top + (range[1] - v) / (range[1] - range[0]) * innerH; };
    node("rect", { x: 0, y: 0, width: s.width, height: s.height, fill: "white" }, svg, SVG);
    var step = Math.max(1, Math.ceil((range[1] - range[0]) / 7));
    for (var e = Math.ceil(range[0] / step) * step; e <= range[1]; e += step) {
      node("line", { x1: s.left, x2: s.width - s.right, y1: y(e), y2: y(e), stroke: "#ddd" }, svg, SVG);
      node("text", { x: s.left - 6, y: y(e) + 5, "text-anchor": "end", "font-size": 14, fill: "#222",
        text: powerOfTen(e) }, svg, SVG);
    }
    var ticks = [1, Math.round(depth / 4), Math.round(depth / 2), Math.round(3 * depth / 4), depth];
    ticks.filter(function (t, i) { return ticks.indexOf(t) === i && t >= 1; }).forEach(function (t) {
      node("text", { x: x(t), y: s.height - s.bottom + 18, "text-anchor": "middle", "font-size": 14,
        fill: "#222", text: String(t) }, svg, SVG);
    });
    node("text", { x: s.left + innerW / 2, y: s.height - 4, "text-anchor": "middle", "font-size": 14,
      fill: "#222", text: labels.layer }, svg, SVG);
    node("rect", { x: s.left, y: s.top, width: innerW, height: innerH, fill: "none", stroke: "#999" }, svg, SVG);
    var drawn = {};
    data.series.forEach(function (series) {
      var key = series.key, values = key === "grad" ? flow.gradNorms : flow.spreads;
      drawn[key] = segments(values, key === "grad" ? 1 : flow.layersPerBlock);
      drawn[key].forEach(function (points) {
        var pixels = points.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); });
        node(points.length > 1 ? "polyline" : "circle", points.length > 1 ? {
          points: pixels.join(" "), fill: "none", stroke: series.color, "stroke-width": 2, "data-series": key
        } : { cx: x(points[0][0]).toFixed(1), cy: y(points[0][1]).toFixed(1), r: 3, fill: series.color,
          "data-series": key }, svg, SVG);
      });
    });
    var flag = flagOf(flow);
    if (flag) {
      var cx = s.left + innerW / 2, cy = s.top + 24;  // near the top, clear of most curves
      node("rect", { x: cx - 50, y: cy - 14, width: 100, height: 26, fill: "white", "fill-opacity": 0.85,
        stroke: data.alert }, svg, SVG);
      node("text", { x: cx, y: cy + 5, "text-anchor": "middle", "font-size": 15, fill: data.alert,
        text: labels[flag], "class": "gradflow-flag" }, svg, SVG);
    }
    return drawn;
  }

  function frozen(value) {  // a deep copy nobody can change
    if (value === null || typeof value !== "object") return value;
    var copy = Array.isArray(value) ? value.map(frozen) : {};
    if (!Array.isArray(value)) Object.keys(value).forEach(function (key) { copy[key] = frozen(value[key]); });
    return Object.freeze(copy);
  }

  function setup(root, data) {
    var labels = data.labels, state = {}, uid = "gradflow-" + Math.random().toString(36).slice(2, 8);
    Object.keys(data.defaults).forEach(function (key) { state[key] = data.defaults[key]; });
    var controls = node("div", { "class": "gradflow-controls", style: "display:flex;flex-wrap:wrap;gap:0.25em 1.5em" }, root);
    var sliders = node("div", { style: "flex:1 1 16em" }, controls);
    var choices = node("div", { style: "flex:1 1 16em" }, controls);
    var inputs = {}, shown = {};

    // A slider with its label and the value it shows; `value` maps its position to the setting.
    function slider(name, min, max, step, position, value, text) {
      var row = node("div", { style: "display:flex;align-items:center;gap:0.5em;margin:0.2em 0" }, sliders);
      node("label", { "for": uid + "-" + name, text: labels[name], style: "min-width:6.5em" }, row);
      var input = node("input", { type: "range", id: uid + "-" + name, name: name, min: min, max: max,
        step: step, value: position, style: "flex:1;min-width:6em" }, row);
      shown[name] = node("output", { "for": uid + "-" + name, style: "min-width:3em" }, row);
      input.gradflowValue = value;
      input.gradflowText = text;
      inputs[name] = input;
      shown[name].textContent = text(value(position));
    }
    slider("depth", data.depth[0], data.depth[1], 2, state.depth, Number, String);
    var log2 = function (v) { return Math.log(v) / Math.LN2; };
    slider("gain", log2(data.gain[0]), log2(data.gain[1]), 0.01, log2(state.gain),
      function (position) { return Math.pow(2, Number(position)); }, threeDigits);
    slider("steps", data.steps[0], data.steps[1], 1, state.steps, Number, String);
    Object.keys(data.choices).forEach(function (name) {
      var row = node("div", { style: "display:flex;align-items:center;gap:0.5em;margin:0.2em 0" }, choices);
      node("label", { "for": uid + "-" + name, text: labels[name], style: "min-width:6.5em" }, row);
      var select = node("select", { id: uid + "-" + name, name: name }, row);
      data.choices[name].forEach(function (option) {
        node("option", { value: option, text: labels[option] || option }, select);
      });
      select.value = state[name];
      inputs[name] = select;
    });
    var panels = node("div", { style: "display:flex;flex-wrap:wrap;gap:8px" }, root);
    var svgs = {};
    ["plain", "residual"].forEach(function (name) {
      var figure = node("figure", { style: "margin:0;flex:1 1 280px;min-width:0" }, panels);
      svgs[name] = node("svg", { viewBox: "0 0 " + SIZE.width + " " + SIZE.height, role: "img",
        style: "width:100%;height:auto" }, figure, SVG);
      node("figcaption", { text: labels[name], style: "text-align:center" }, figure);
    });
    var legend = node("div", { "class": "gradflow-legend", style: "margin:0.25em 0" }, root);
    data.series.forEach(function (series) {
      node("span", { style: "display:inline-block;width:1.5em;height:3px;vertical-align:middle;background:" +
        series.color }, legend);
      node("span", { text: " " + labels[series.key], style: "margin-right:1.5em", "data-series": series.key }, legend);
    });
    var table = node("table", { "class": "gradflow-readout", "aria-live": "polite" }, root);
    // With SGD steps a redraw computes both networks once per step: up to a second at 200 layers.
    // The status line says so, and the browser paints it before the computation starts.
    var status = node("p", { "class": "gradflow-status", role: "status",
      style: "min-height:1.5em;margin:0.25em 0;font-style:italic" }, root);

    function settingsFor(name) {  // the keyword arguments of gradflow.gradient_norms
      return { depth: state.depth, block: name === "plain" ? "plain" : state.block,
        branchScale: state.branch_scale, activation: state.activation, initialization: state.initialization,
        gain: state.gain, normalization: state.normalization, steps: state.steps, learningRate: data.learning_rate };
    }

    function draw() {
      var started = performance.now();
      var flows = { plain: engine.gradientNorms(settingsFor("plain")),
        residual: engine.gradientNorms(settingsFor("residual")) };
      var range = axisDecades([flows.plain, flows.residual], data);  // both panels share it
      var view = { settings: {}, axis: range, panels: {} };
      Object.keys(data.defaults).forEach(function (key) { view.settings[key] = state[key]; });
      table.textContent = "";
      var head = node("tr", {}, table);
      ["network", "ratio", "range"].forEach(function (key) { node("th", { text: labels[key], scope: "col" }, head); });
      Object.keys(flows).forEach(function (name) {
        var flow = flows[name], flag = flagOf(flow), ratio = ratioOf(flow, labels);
        view.panels[name] = { flag: flag, ratio: ratio, segments: drawPanel(svgs[name], flow, range, data) };
        svgs[name].setAttribute("aria-label", labels[name] + ", " + labels.depth + " " + state.depth + ": " +
          labels.ratio + " " + ratio + (flag ? ", " + labels[flag] : ""));
        var tr = node("tr", {}, table);
        node("th", { text: labels[name], scope: "row" }, tr);
        node("td", { text: ratio }, tr);
        node("td", { text: flag ? labels[flag] : labels.none }, tr);
      });
      view.milliseconds = performance.now() - started;
      root.gradflowView = frozen(view);
    }

    var scheduled = false;
    function redraw() {  // now without steps; with steps, after the status line is painted
      if (state.steps === 0) { draw(); return; }
      root.gradflowPending = true;
      root.setAttribute("aria-busy", "true");
      status.textContent = labels.computing;
      if (scheduled) return;  // one computation for every change made meanwhile
      scheduled = true;
      requestAnimationFrame(function () {
        setTimeout(function () {
          scheduled = false;
          draw();
          status.textContent = "";
          root.removeAttribute("aria-busy");
          root.gradflowPending = false;
        }, 0);
      });
    }

    function read(name) {
      var input = inputs[name];
      state[name] = input.gradflowValue ? input.gradflowValue(input.value) : input.value;
      if (shown[name]) shown[name].textContent = input.gradflowText(state[name]);
    }
    // Depth and gain redraw while dragging when no steps are asked for; with steps (each a
    // forward and backward pass of both networks) they redraw when released, as in Jupyter.
    ["depth", "gain"].forEach(function (name) {
      inputs[name].addEventListener("input", function () {
        read(name);
        if (state.steps === 0) draw();
      });
      inputs[name].addEventListener("change", function () { read(name); if (state.steps !== 0) redraw(); });
    });
    inputs.steps.addEventListener("input", function () { read("steps"); });
    inputs.steps.addEventListener("change", function () { read("steps"); redraw(); });
    Object.keys(data.choices).forEach(function (name) {
      inputs[name].addEventListener("change", function () { read(name); redraw(); });
    });
    root.gradflowEngine = engine;
    draw();
  }

  function start() {
    var roots = document.querySelectorAll(".gradflow-player");
    if (!roots.length) return;
    if (!window.GRADFLOW_DATA || !window.GradflowEngine) throw new Error("gradflow explorer: data.js or engine.js did not load");
    engine = engine || new window.GradflowEngine.Engine(window.GRADFLOW_DATA, window.GRADFLOW_KERNEL);
    for (var i = 0; i < roots.length; i++) setup(roots[i], window.GRADFLOW_DATA);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
