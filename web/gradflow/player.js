// The website's gradient-flow player: draws the precomputed grid of settings
// (grid.js, written by tools/gradflow_grid.py from resnet_book.gradflow) as two
// log-scale SVG panels, plain and residual, with controls that need no Python, no
// server and no other host. Chapter 6 explains what it shows. Everything it shows
// comes from Python through grid.js, as resnet_book.explorer.FlowFigure draws it:
// the words, the curves' colours and legend, the defaults, and each pair's vertical
// axis. After every draw, the player's element holds a read-only description of
// what it drew, `element.gradflowView`, which the site tests compare with FlowFigure.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var SIZE = { width: 440, height: 270, left: 62, right: 22, top: 12, bottom: 40 };
  var SUPERSCRIPT = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3",
    4: "\u2074", 5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };

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

  // The points of one series as [layer, log10 value], split where a value is missing
  // (zero or not finite). A series has a value per layer (gradients) or per block of
  // `per` layers (spreads, drawn at the block's last layer).
  function segments(values, per) {
    var parts = [], current = [];
    values.forEach(function (v, i) {
      if (v === null) { if (current.length) parts.push(current); current = []; }
      else current.push([(i + 1) * per, v]);
    });
    if (current.length) parts.push(current);
    return parts;
  }

  // Draws one panel; returns its segments per series, as drawn.
  function drawPanel(svg, record, range, grid) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var depth = record.grad.length, s = SIZE;
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
    var ticks = depth === 1 ? [1] : [1, Math.round(depth / 4), Math.round(depth / 2), Math.round(3 * depth / 4), depth];
    ticks.filter(function (t, i) { return ticks.indexOf(t) === i && t >= 1; }).forEach(function (t) {
      node("text", { x: x(t), y: s.height - s.bottom + 18, "text-anchor": "middle", "font-size": 14,
        fill: "#222", text: String(t) }, svg, SVG);
    });
    node("text", { x: s.left + innerW / 2, y: s.height - 4, "text-anchor": "middle", "font-size": 14,
      fill: "#222", text: grid.labels.layer }, svg, SVG);
    node("rect", { x: s.left, y: s.top, width: innerW, height: innerH, fill: "none", stroke: "#999" }, svg, SVG);
    var drawn = {};
    grid.series.forEach(function (series) {
      var key = series.key, per = key === "grad" ? 1 : record.grad.length / record[key].length;
      drawn[key] = segments(record[key], per);
      drawn[key].forEach(function (points) {
        var pixels = points.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); });
        node(points.length > 1 ? "polyline" : "circle", points.length > 1 ? {
          points: pixels.join(" "), fill: "none", stroke: series.color, "stroke-width": 2, "data-series": key
        } : { cx: x(points[0][0]).toFixed(1), cy: y(points[0][1]).toFixed(1), r: 3, fill: series.color,
          "data-series": key }, svg, SVG);
      });
    });
    if (record.flag) {
      var cx = s.left + innerW / 2, cy = s.top + 24;  // near the top, clear of most curves
      node("rect", { x: cx - 50, y: cy - 14, width: 100, height: 26, fill: "white", "fill-opacity": 0.85, stroke: grid.alert }, svg, SVG);
      node("text", { x: cx, y: cy + 5, "text-anchor": "middle", "font-size": 15, fill: grid.alert,
        text: grid.labels[record.flag], "class": "gradflow-flag" }, svg, SVG);
    }
    return drawn;
  }

  function frozen(value) {  // a deep copy nobody can change
    if (value === null || typeof value !== "object") return value;
    var copy = Array.isArray(value) ? value.map(frozen) : {};
    if (!Array.isArray(value)) Object.keys(value).forEach(function (key) { copy[key] = frozen(value[key]); });
    return Object.freeze(copy);
  }

  function setup(root, grid) {
    var labels = grid.labels;
    var state = {};
    Object.keys(grid.defaults).forEach(function (key) { state[key] = grid.defaults[key]; });
    state.depth = grid.depths.indexOf(grid.defaults.depth);  // the slider moves through the grid's depths
    var controls = node("div", { "class": "gradflow-controls" }, root);
    ["activation", "initialization", "gain", "normalization", "block", "branch_scale"].forEach(function (name) {
      var label = node("label", { style: "margin-right:1em;white-space:nowrap" }, controls);
      node("span", { text: labels[name] + " " }, label);
      var select = node("select", { name: name }, label);
      grid.choices[name].forEach(function (option) {  // the plain twin is always shown
        if (name !== "block" || option !== "plain") node("option", { value: option, text: labels[option] || option }, select);
      });
      select.value = state[name];
      select.addEventListener("change", function () { state[name] = select.value; draw(); });
    });
    var row = node("div", { style: "margin:0.5em 0" }, root);
    var play = node("button", { type: "button", "class": "gradflow-play", text: "\u25b6" }, row);
    var depthLabel = node("label", { style: "margin-left:1em" }, row);
    node("span", { text: labels.depth + " " }, depthLabel);
    var slider = node("input", { type: "range", min: 0, max: grid.depths.length - 1, step: 1,
      value: state.depth, name: "depth" }, depthLabel);
    var shown = node("output", { style: "margin-left:0.5em" }, depthLabel);
    var panels = node("div", { style: "display:flex;flex-wrap:wrap;gap:8px" }, root);
    var svgs = {};
    ["plain", "residual"].forEach(function (name) {
      var figure = node("figure", { style: "margin:0;flex:1 1 280px;min-width:0" }, panels);
      svgs[name] = node("svg", { viewBox: "0 0 " + SIZE.width + " " + SIZE.height, role: "img",
        style: "width:100%;height:auto" }, figure, SVG);
      node("figcaption", { text: labels[name],
        style: "text-align:center" }, figure);
    });
    var legend = node("div", { "class": "gradflow-legend", style: "margin:0.25em 0" }, root);
    grid.series.forEach(function (series) {
      node("span", { style: "display:inline-block;width:1.5em;height:3px;vertical-align:middle;background:" +
        series.color }, legend);
      node("span", { text: " " + labels[series.key], style: "margin-right:1.5em", "data-series": series.key }, legend);
    });
    var table = node("table", { "class": "gradflow-readout" }, root);
    var timer = null;

    function draw() {
      var depth = grid.depths[state.depth];
      var prefix = [state.activation, state.initialization, state.gain, state.normalization];
      var residual = prefix.concat(state.block, state.branch_scale).join("/");
      var records = {
        plain: grid.runs[prefix.concat("plain", "one").join("/")][state.depth],
        residual: grid.runs[residual][state.depth],
      };
      shown.textContent = depth;
      var range = grid.axes[residual][state.depth];  // powers of ten, shared by both panels
      var view = { settings: {}, axis: range, panels: {} };
      Object.keys(grid.defaults).forEach(function (key) { view.settings[key] = state[key]; });
      view.settings.depth = depth;
      table.innerHTML = "";
      var head = node("tr", {}, table);
      ["network", "ratio", "range"].forEach(function (key) { node("th", { text: labels[key] }, head); });
      Object.keys(records).forEach(function (name) {
        view.panels[name] = { flag: records[name].flag, segments: drawPanel(svgs[name], records[name], range, grid) };
        svgs[name].setAttribute("aria-label", labels[name] + ", " + labels.depth + " " + depth + ": " +
          labels.ratio + " " + records[name].ratio);
        var tr = node("tr", {}, table);
        node("td", { text: labels[name] }, tr);
        node("td", { text: records[name].ratio }, tr);
        node("td", { text: records[name].flag ? labels[records[name].flag] : labels.none }, tr);
      });
      root.gradflowView = frozen(view);
    }

    slider.addEventListener("input", function () { state.depth = Number(slider.value); draw(); });
    play.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; play.textContent = "\u25b6"; return; }
      play.textContent = "\u23f8";
      timer = setInterval(function () {
        state.depth = (state.depth + 1) % grid.depths.length;
        slider.value = state.depth;
        draw();
      }, 700);
    });
    draw();
  }

  function start() {
    var roots = document.querySelectorAll(".gradflow-player");
    for (var i = 0; i < roots.length; i++) {
      if (!window.GRADFLOW_GRID) throw new Error("gradflow player: grid.js did not load");
      setup(roots[i], window.GRADFLOW_GRID);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
