// The widget manager (html-manager 1.0.6) typesets widget labels with MathJax 2's
// MathJax.Hub.Queue; the book loads MathJax 3, which has no Hub, so every label threw
// "Cannot read properties of undefined (reading 'Queue')". This keeps a Hub on whatever
// object window.MathJax becomes (the configuration first, MathJax 3 once it has loaded)
// and forwards typesetting to MathJax 3's typesetPromise.
(function () {
  "use strict";
  function withHub(mathjax) {
    if (mathjax && typeof mathjax === "object" && !mathjax.Hub) {
      Object.defineProperty(mathjax, "Hub", {
        enumerable: false,
        value: {
          Queue: function (job) {
            var element = Array.isArray(job) ? job[2] : null;
            if (element && typeof window.MathJax.typesetPromise === "function") {
              window.MathJax.typesetPromise([element]).catch(function () {});
            }
          },
        },
      });
    }
    return mathjax;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();
