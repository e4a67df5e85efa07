// The website's gradient-flow player: draws the precomputed grid of settings
// (grid.js, written by tools/gradflow_grid.py from resnet_book.gradflow) as two
// log-scale SVG panels, plain and residual, with controls that need no Python, no
// server and no other host. Chapter 6 explains what it shows.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = { grad: "#1f77b4", std: "#ff7f0e" };
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

  // Decades shown on the vertical axis, shared by both panels.
  function yRange(records) {
    var values = [];
    records.forEach(function (record) {
      record.grad.concat(record.std).forEach(function (v) { if (v !== null) values.push(v); });
    });
    if (!values.length) return [-3, 3];
    var low = Math.floor(Math.min.apply(null, values));
    var high = Math.ceil(Math.max.apply(null, values));
    return [low, Math.max(high, low + 1)];
  }

  // Polyline points for one series, split where a value is missing (zero or not finite).
  // A series has a value per layer (gradients) or per block of `per` layers (spreads,
  // drawn at the block's last layer).
  function segments(values, per, x, y) {
    var parts = [], current = [];
    values.forEach(function (v, i) {
      if (v === null) { if (current.length) parts.push(current); current = []; }
      else current.push(x((i + 1) * per).toFixed(1) + "," + y(v).toFixed(1));
    });
    if (current.length) parts.push(current);
    return parts;
  }

  function drawPanel(svg, record, range, labels) {
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
      "font-style": "italic", fill: "#222", text: "\u2113" }, svg, SVG);
    node("rect", { x: s.left, y: s.top, width: innerW, height: innerH, fill: "none", stroke: "#999" }, svg, SVG);
    ["grad", "std"].forEach(function (series) {
      var per = series === "grad" ? 1 : record.grad.length / record.std.length;
      segments(record[series], per, x, y).forEach(function (points) {
        var attributes = { points: points.join(" "), fill: "none", stroke: COLORS[series], "stroke-width": 2 };
        node(points.length > 1 ? "polyline" : "circle", points.length > 1 ? attributes : {
          cx: points[0].split(",")[0], cy: points[0].split(",")[1], r: 3, fill: COLORS[series] }, svg, SVG);
      });
    });
    if (record.flag) {
      var cx = s.left + innerW / 2, cy = s.top + 24;  // near the top, clear of most curves
      node("rect", { x: cx - 50, y: cy - 14, width: 100, height: 26, fill: "white", "fill-opacity": 0.85, stroke: "#b00020" }, svg, SVG);
      node("text", { x: cx, y: cy + 5, "text-anchor": "middle", "font-size": 15, fill: "#b00020",
        text: labels[record.flag], "class": "gradflow-flag" }, svg, SVG);
    }
  }

  function setup(root, grid) {
    var labels = grid.labels;
    var state = { activation: "relu", initialization: "he", gain: "1", normalization: "none", block: "v1",
      branch_scale: "one", depth: grid.depths.indexOf(50) >= 0 ? grid.depths.indexOf(50) : 0 };
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
    var legend = node("div", { style: "margin:0.25em 0" }, root);
    [["grad", "\u2016\u2202L/\u2202W\u2113\u2016"], ["std", labels.std]].forEach(function (item) {
      node("span", { style: "display:inline-block;width:1.5em;height:3px;vertical-align:middle;background:" +
        COLORS[item[0]] }, legend);
      node("span", { text: " " + item[1], style: "margin-right:1.5em" }, legend);
    });
    var table = node("table", { "class": "gradflow-readout" }, root);
    var timer = null;

    function draw() {
      var depth = grid.depths[state.depth];
      var prefix = [state.activation, state.initialization, state.gain, state.normalization];
      var records = {
        plain: grid.runs[prefix.concat("plain", "one").join("/")][state.depth],
        residual: grid.runs[prefix.concat(state.block, state.branch_scale).join("/")][state.depth],
      };
      shown.textContent = depth;
      var range = yRange([records.plain, records.residual]);
      table.innerHTML = "";
      var head = node("tr", {}, table);
      ["network", "ratio", "range"].forEach(function (key) { node("th", { text: labels[key] }, head); });
      Object.keys(records).forEach(function (name) {
        drawPanel(svgs[name], records[name], range, labels);
        svgs[name].setAttribute("aria-label", labels[name] + ", " + labels.depth + " " + depth + ": " +
          labels.ratio + " " + records[name].ratio);
        var tr = node("tr", {}, table);
        node("td", { text: labels[name] }, tr);
        node("td", { text: records[name].ratio }, tr);
        node("td", { text: records[name].flag ? labels[records[name].flag] : labels.none }, tr);
      });
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
