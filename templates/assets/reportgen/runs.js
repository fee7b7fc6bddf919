/*
 * reportgen training-run charts, loaded only on training-run pages (after core.js and dom.js): each
 * <div class="rg-run" data-run="KEY"> draws the pushed {kind: 'run', key: KEY, charts: [...], best}
 * object as line charts with a smoothing slider (TensorBoard's debiased exponential moving average),
 * series toggles, a hover readout and the best step marked. smooth, niceTicks and tickText are pure.
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.runs) {
    return;
  }

  /** TensorBoard's smoothing: debiased exponential moving average with weight w in [0, 1). */
  function smooth(values, weight) {
    var out = [], last = 0, debias = 0;
    for (var i = 0; i < values.length; i++) {
      last = last * weight + (1 - weight) * values[i];
      debias = debias * weight + (1 - weight);
      out.push(debias > 0 ? last / debias : values[i]);
    }
    return out;
  }

  /** About `count` round tick values between lo and hi. */
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) {
      return [lo];
    }
    var raw = (hi - lo) / Math.max(1, count), power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (f) {
      return f * power;
    }).filter(function (v) {
      return v >= raw;
    })[0] || 10 * power;
    var ticks = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return ticks;
  }

  function tickText(value) {
    var a = Math.abs(value);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) {
      return value.toExponential(1);
    }
    return String(+value.toPrecision(4));
  }

  /**
   * The best step's dashed vertical line and its label, in `colour`, on a plot box {left, top, width,
   * height}; `X` maps a step to x. The label sits right of the line, or left of it near the right edge.
   * Draws nothing when the step lies outside [xmin, xmax].
   */
  function markBestStep(ctx, step, X, box, xmin, xmax, colour, label) {
    if (!(step >= xmin && step <= xmax)) {
      return;
    }
    var x = X(step);
    ctx.save();
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = colour;
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, box.top);
    ctx.lineTo(Math.round(x) + 0.5, box.top + box.height);
    ctx.stroke();
    ctx.restore();
    ctx.fillStyle = colour;
    var onLeft = x > box.left + box.width * 0.8;
    ctx.textAlign = onLeft ? 'right' : 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(label, x + (onLeft ? -4 : 4), box.top + 3);
  }

  parts.runs = {smooth: smooth, niceTicks: niceTicks, tickText: tickText, markBestStep: markBestStep};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = parts.runs;
    return; // node: the pure helpers only
  }

  var core = parts.core, dom = parts.dom;
  var el = dom.el, headColour = dom.headColour, readTheme = dom.readTheme, sizeCanvas = dom.sizeCanvas;
  var runCharts = [];      // RunCharts instances on this page

  function RunCharts(root) {
    this.root = root;
    this.key = root.getAttribute('data-run') || '';
    this.weight = 0.6;
    this.charts = [];
    this.drawn = 0;
    root.setAttribute('data-rg-drawn', '0');
  }

  RunCharts.prototype.start = function () {
    var data = core.runData[this.key];
    if (!data) {
      this.root.textContent = '';
      this.root.appendChild(el('p', {class: 'rgr-error', text: 'No data for training run ' + this.key + ' was loaded.'}));
      this.root.setAttribute('data-rg-error', 'no data');
      this.mark();
      return;
    }
    this.data = data;
    this.build();
    this.draw();
  };

  RunCharts.prototype.mark = function () {
    this.drawn += 1;
    this.root.setAttribute('data-rg-drawn', String(this.drawn));
    this.root.setAttribute('data-rg-ready', '1');
  };

  RunCharts.prototype.build = function () {
    var self = this, root = this.root, data = this.data;
    root.textContent = '';
    this.range = el('input', {type: 'range', min: 0, max: 0.99, step: 0.01, value: this.weight,
      'aria-label': 'Smoothing', oninput: function () {
        self.weight = +self.range.value;
        self.rangeValue.textContent = self.weight.toFixed(2);
        self.draw();
      }});
    this.rangeValue = el('output', {text: this.weight.toFixed(2)});
    root.appendChild(el('div', {class: 'rgr-controls'}, [
      el('label', {title: 'TensorBoard-style exponential moving average; 0 = raw values'}, [
        el('span', {text: 'Smoothing '}), this.range, el('span', {text: ' '}), this.rangeValue
      ])
    ]));
    this.charts = (data.charts || []).map(function (chart) {
      var c = {chart: chart, hidden: {}, hover: null};
      c.canvas = el('canvas', {class: 'rgr-canvas', 'aria-label': String(chart.title), 'data-chart': chart.key});
      c.readout = el('div', {class: 'rgr-readout', 'aria-live': 'polite', text: '\u00a0'});
      c.legend = el('div', {class: 'rgr-legend'});
      chart.series.forEach(function (series, k) {
        var key = el('span', {class: 'rgr-key', title: 'Click to show or hide', onclick: function () {
          c.hidden[k] = !c.hidden[k];
          key.classList.toggle('rgr-off', !!c.hidden[k]);
          self.drawChart(c);
        }}, [el('span', {class: 'rgr-swatch'}), el('span', {text: String(series.name)})]);
        key.firstChild.style.background = headColour(k);
        c.legend.appendChild(key);
      });
      c.canvas.addEventListener('mousemove', function (event) {
        var rect = c.canvas.getBoundingClientRect();
        c.hover = event.clientX - rect.left;
        self.drawChart(c);
      });
      c.canvas.addEventListener('mouseleave', function () {
        c.hover = null;
        c.readout.textContent = '\u00a0';
        self.drawChart(c);
      });
      root.appendChild(el('section', {class: 'rgr-chart', 'data-chart': chart.key}, [
        el('h3', {text: String(chart.title)}), el('p', {class: 'rgr-what', text: String(chart.what || '')}),
        c.legend, c.canvas, c.readout
      ]));
      return c;
    });
    if (!this.charts.length) {
      root.appendChild(el('p', {text: 'This run logged no numeric series.'}));
    }
  };

  RunCharts.prototype.draw = function () {
    var self = this;
    this.theme = readTheme(this.root);
    this.charts.forEach(function (c) {
      self.drawChart(c);
    });
    this.mark();
  };

  RunCharts.prototype.drawChart = function (c) {
    var chart = c.chart, theme = this.theme || readTheme(this.root), weight = this.weight, best = this.data.best;
    var width = Math.max(320, Math.min(900, (this.root.clientWidth || 720) - 4)), height = 260;
    var left = 62, right = 14, top = 10, bottom = 34, plotW = width - left - right, plotH = height - top - bottom;
    var ctx = sizeCanvas(c.canvas, width, height), log = !!chart.log;
    var ty = function (v) {
      return log ? Math.log10(v) : v;
    };
    var lines = [], xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
    chart.series.forEach(function (series, k) {
      if (c.hidden[k]) {
        return;
      }
      var xs = series.points.map(function (p) {
        return p[0];
      });
      var ys = series.points.map(function (p) {
        return p[1];
      });
      // evaluation series and the learning rate are drawn as logged (series.smooth false, runs.py)
      var smoothed = weight > 0 && series.smooth !== false;
      var sm = smoothed ? smooth(ys, weight) : ys;
      xs.forEach(function (x, i) {
        xmin = Math.min(xmin, x);
        xmax = Math.max(xmax, x);
        [ys[i], sm[i]].forEach(function (y) {
          if (!log || y > 0) {
            ymin = Math.min(ymin, ty(y));
            ymax = Math.max(ymax, ty(y));
          }
        });
      });
      lines.push({k: k, name: series.name, xs: xs, ys: ys, sm: sm, smoothed: smoothed});
    });
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);
    ctx.font = '11px ' + theme.font;
    if (!lines.length || !isFinite(xmin)) {
      ctx.fillStyle = theme.mutedSolid;
      ctx.fillText('No series shown.', left, top + 20);
      return;
    }
    if (xmax === xmin) {
      xmax = xmin + 1;
    }
    if (ymax === ymin) {
      ymax = ymin + (log ? 1 : Math.max(1e-9, Math.abs(ymin) * 0.1 || 1));
    }
    var pad = (ymax - ymin) * 0.05;
    ymin -= pad;
    ymax += pad;
    var X = function (x) {
      return left + (x - xmin) / (xmax - xmin) * plotW;
    };
    var Y = function (v) {
      return top + (1 - (ty(v) - ymin) / (ymax - ymin)) * plotH;
    };
    // grid and axes
    ctx.strokeStyle = theme.faintSolid;
    ctx.lineWidth = 1;
    ctx.fillStyle = theme.mutedSolid;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    var yTicks = log ? niceTicks(Math.ceil(ymin), Math.floor(ymax), Math.max(1, Math.floor(ymax) - Math.ceil(ymin)))
      : niceTicks(ymin, ymax, 5);
    yTicks.forEach(function (t) {
      var y = top + (1 - (t - ymin) / (ymax - ymin)) * plotH;
      if (y < top - 1 || y > top + plotH + 1) {
        return;
      }
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y) + 0.5);
      ctx.lineTo(left + plotW, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.fillText(log ? tickText(Math.pow(10, t)) : tickText(t), left - 6, y);
    });
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    niceTicks(xmin, xmax, 6).forEach(function (t) {
      var x = X(t);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, top);
      ctx.lineTo(Math.round(x) + 0.5, top + plotH);
      ctx.stroke();
      ctx.fillText(tickText(t), x, top + plotH + 5);
    });
    ctx.fillText('step', left + plotW / 2, top + plotH + 19);
    ctx.strokeStyle = theme.mutedSolid;
    ctx.strokeRect(left + 0.5, top + 0.5, plotW, plotH);
    // best step, on every chart (the same step as the page's banner)
    if (best) {
      markBestStep(ctx, best.step, X, {left: left, top: top, width: plotW, height: plotH}, xmin, xmax, theme.fgSolid,
        'best step ' + tickText(best.step));
    }
    // lines: raw faint when smoothing, smoothed solid
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, plotW, plotH);
    ctx.clip();
    lines.forEach(function (line) {
      var colour = headColour(line.k);
      var passes = line.smoothed ? [[line.ys, 0.25, 1], [line.sm, 1, 1.8]] : [[line.ys, 1, 1.8]];
      passes.forEach(function (pass) {
        ctx.globalAlpha = pass[1];
        ctx.strokeStyle = colour;
        ctx.fillStyle = colour;
        ctx.lineWidth = pass[2];
        ctx.beginPath();
        var started = false;
        line.xs.forEach(function (x, i) {
          var v = pass[0][i];
          if (log && !(v > 0)) {
            started = false;
            return;
          }
          if (started) {
            ctx.lineTo(X(x), Y(v));
          } else {
            ctx.moveTo(X(x), Y(v));
            started = true;
          }
        });
        ctx.stroke();
        if (line.xs.length === 1) {
          ctx.beginPath();
          ctx.arc(X(line.xs[0]), Y(pass[0][0]), 3, 0, 2 * Math.PI);
          ctx.fill();
        }
      });
    });
    ctx.restore();
    ctx.globalAlpha = 1;
    // hover readout: nearest logged step of each shown series
    if (c.hover !== null && c.hover >= left && c.hover <= left + plotW) {
      var step = xmin + (c.hover - left) / plotW * (xmax - xmin);
      ctx.strokeStyle = theme.fgSolid;
      ctx.beginPath();
      ctx.moveTo(Math.round(c.hover) + 0.5, top);
      ctx.lineTo(Math.round(c.hover) + 0.5, top + plotH);
      ctx.stroke();
      c.readout.textContent = '';
      lines.forEach(function (line) {
        var best = 0;
        for (var i = 1; i < line.xs.length; i++) {
          if (Math.abs(line.xs[i] - step) < Math.abs(line.xs[best] - step)) {
            best = i;
          }
        }
        var text = line.name + ' @ ' + tickText(line.xs[best]) + ': ' + tickText(line.ys[best]) +
          (line.smoothed ? ' (smoothed ' + tickText(line.sm[best]) + ')' : '');
        var item = el('span', {class: 'rgr-key rgr-value', text: text});
        item.style.color = headColour(line.k);
        c.readout.appendChild(item);
        ctx.fillStyle = headColour(line.k);
        ctx.beginPath();
        ctx.arc(X(line.xs[best]), Y(line.sm[best]), 3, 0, 2 * Math.PI);
        ctx.fill();
      });
    }
  };

  function initRuns() {
    Array.prototype.forEach.call(document.querySelectorAll('.rg-run[data-run]'), function (root) {
      for (var i = 0; i < runCharts.length; i++) {
        if (runCharts[i].root === root) {
          return;
        }
      }
      var chart = new RunCharts(root);
      runCharts.push(chart);
      try {
        chart.start();
      } catch (err) {
        root.setAttribute('data-rg-error', err && err.message ? err.message : String(err));
        chart.mark();
      }
    });
  }

  // A run object that arrives after its container was set up starts that container's charts.
  core.subscribe('run', function (item) {
    runCharts.forEach(function (chart) {
      if (chart.key === item.key) {
        chart.start();
      }
    });
  });

  function redraw() {
    runCharts.forEach(function (chart) {
      if (chart.data) {
        chart.draw();
      }
    });
  }

  var resizeTimer = null;
  root.addEventListener('resize', function () {
    root.clearTimeout(resizeTimer);
    resizeTimer = root.setTimeout(redraw, 200);
  });

  function watchPalette() {
    if (!root.MutationObserver || !root.document.body) {
      return;
    }
    var observer = new MutationObserver(redraw);
    observer.observe(root.document.body, {attributes: true, attributeFilter: ['data-md-color-scheme']});
  }

  function boot() {
    watchPalette();
    initRuns();
  }

  if (root.document.readyState === 'loading') {
    root.document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }

  /** TensorBoard-style debiased EMA, as the training-run charts draw it. */
  RG.smooth = smooth;
  /** Training-run chart containers on this page and their data keys. */
  RG.runs = function () {
    return runCharts.map(function (chart) {
      return {key: chart.key, drawn: chart.drawn, charts: chart.charts.length};
    });
  };
})(typeof window !== 'undefined' ? window : globalThis);
