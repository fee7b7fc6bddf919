/*
 * reportgen: heads across the checkpoints of a training run (run pages only).
 *
 * Data: classic scripts push {kind: 'run-heads', key, layers, heads, steps, models, viewer, best,
 * scores: [{key, title, what, values: [layer][head][checkpoint], low, high, moved: [[layer, head], ...]}]}
 * (moved: the heads drawn in colour, largest range over the checkpoints first)
 * onto window.RG_RUN_HEADS; each <div class="rg-run-heads" data-run="KEY"> gets one chart per score: every
 * head's score over the checkpoints (faint), the heads that moved most in colour with a legend, the best
 * step as a dashed line, the values at the hovered checkpoint below, and a link to the viewer at each
 * checkpoint. Works from file:// (no fetch, no modules). Sets data-rg-ready="1" when drawn.
 */
(function () {
  'use strict';

  var COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

  // dom.js (el) and runs.js (markBestStep) load before this script on run pages
  var parts = window.ReportGenViewer.parts;
  var el = parts.dom.el;

  function num(value, digits) {
    return value === null || value === undefined ? '–' : (+value).toFixed(digits);
  }

  function colours(root) {
    var style = window.getComputedStyle(root);
    return {fg: style.color || '#222', faint: 'rgba(128, 128, 128, 0.25)', grid: 'rgba(128, 128, 128, 0.3)'};
  }

  function Chart(root, data, score) {
    this.data = data;
    this.score = score;
    this.hover = null;
    this.canvas = el('canvas', {class: 'rgh-canvas', 'data-score': score.key, 'aria-label': score.title});
    this.readout = el('div', {class: 'rgr-readout', 'aria-live': 'polite', text: '\u00a0'});
    var legend = el('div', {class: 'rgr-legend'});
    score.moved.forEach(function (lh, k) {
      var key = el('span', {class: 'rgr-key'}, [el('span', {class: 'rgr-swatch'}),
        el('span', {text: 'head ' + lh[0] + '-' + lh[1]})]);
      key.style.marginRight = '0.9em';
      key.style.whiteSpace = 'nowrap';
      var swatch = key.firstChild;
      swatch.style.cssText = 'display:inline-block;width:0.8em;height:0.8em;margin-right:0.3em;border-radius:2px';
      swatch.style.background = COLOURS[k % COLOURS.length];
      legend.appendChild(key);
    });
    legend.appendChild(el('span', {class: 'rgr-key', text: 'grey: the other heads'}));
    var self = this;
    this.canvas.addEventListener('mousemove', function (event) {
      self.hover = event.clientX - self.canvas.getBoundingClientRect().left;
      self.draw();
    });
    this.canvas.addEventListener('mouseleave', function () {
      self.hover = null;
      self.draw();
    });
    root.appendChild(el('section', {class: 'rgr-chart', 'data-score': score.key}, [
      el('h4', {text: score.title}), el('p', {class: 'rgr-what', text: score.what}), legend, this.canvas,
      this.readout]));
  }

  Chart.prototype.draw = function () {
    var data = this.data, score = this.score, steps = data.steps, canvas = this.canvas;
    var width = Math.max(320, Math.min(900, (canvas.parentNode.clientWidth || 720) - 4)), height = 240;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    var theme = colours(canvas.parentNode);
    var left = 56, right = 14, top = 10, bottom = 32, plotW = width - left - right, plotH = height - top - bottom;
    var lo = Infinity, hi = -Infinity;
    score.values.forEach(function (row) {
      row.forEach(function (track) {
        track.forEach(function (v) {
          if (v !== null) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        });
      });
    });
    if (!isFinite(lo)) {
      lo = 0;
      hi = 1;
    }
    if (hi === lo) {
      hi = lo + 1e-6;
    }
    var pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    var xmin = steps[0], xmax = steps[steps.length - 1] === xmin ? xmin + 1 : steps[steps.length - 1];
    var X = function (x) {
      return left + (x - xmin) / (xmax - xmin) * plotW;
    };
    var Y = function (v) {
      return top + (1 - (v - lo) / (hi - lo)) * plotH;
    };
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px sans-serif';
    ctx.strokeStyle = theme.grid;
    ctx.fillStyle = theme.fg;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (var t = 0; t <= 4; t++) {
      var value = lo + (hi - lo) * t / 4, y = Y(value);
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y) + 0.5);
      ctx.lineTo(left + plotW, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.fillText(num(value, 3), left - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    steps.forEach(function (step) {
      ctx.fillText(String(step), X(step), top + plotH + 4);
    });
    ctx.fillText('step', left + plotW / 2, top + plotH + 17);
    ctx.strokeRect(left + 0.5, top + 0.5, plotW, plotH);
    if (data.best) {
      parts.runs.markBestStep(ctx, data.best.step, X, {left: left, top: top, width: plotW, height: plotH}, xmin, xmax,
        theme.fg, 'best step ' + data.best.step);
    }
    var moved = {};
    score.moved.forEach(function (lh, k) {
      moved[lh[0] + '-' + lh[1]] = k;
    });
    var line = function (track, colour, widthPx) {
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = widthPx;
      ctx.beginPath();
      var started = false;
      track.forEach(function (v, c) {
        if (v === null) {
          started = false;
          return;
        }
        if (started) {
          ctx.lineTo(X(steps[c]), Y(v));
        } else {
          ctx.moveTo(X(steps[c]), Y(v));
          started = true;
        }
      });
      ctx.stroke();
      track.forEach(function (v, c) {
        if (v !== null) {
          ctx.beginPath();
          ctx.arc(X(steps[c]), Y(v), widthPx > 1 ? 2.5 : 1.2, 0, 2 * Math.PI);
          ctx.fill();
        }
      });
    };
    score.values.forEach(function (row, l) {
      row.forEach(function (track, h) {
        if (!((l + '-' + h) in moved)) {
          line(track, theme.faint, 1);
        }
      });
    });
    score.moved.forEach(function (lh, k) {
      line(score.values[lh[0]][lh[1]], COLOURS[k % COLOURS.length], 2);
    });
    this.readout.textContent = '';
    if (this.hover !== null) {
      var nearest = 0;
      steps.forEach(function (step, c) {
        if (Math.abs(X(step) - this.hover) < Math.abs(X(steps[nearest]) - this.hover)) {
          nearest = c;
        }
      }, this);
      this.readout.appendChild(el('span', {class: 'rgr-key', text: 'step ' + steps[nearest] + ':'}));
      score.moved.forEach(function (lh, k) {
        var c = nearest, v = score.values[lh[0]][lh[1]][c], a = score.low[lh[0]][lh[1]][c];
        var b = score.high[lh[0]][lh[1]][c];
        var item = el('span', {class: 'rgr-key rgr-value', text: ' ' + lh[0] + '-' + lh[1] + ' ' + num(v, 3) +
          (a !== null && b !== null ? ' [' + num(a, 3) + ', ' + num(b, 3) + ']' : '')});
        item.style.color = COLOURS[k % COLOURS.length];
        this.readout.appendChild(item);
      }, this);
      if (data.viewer[nearest]) {
        this.readout.appendChild(document.createTextNode(' '));
        this.readout.appendChild(el('a', {href: data.viewer[nearest], text: 'viewer at step ' + steps[nearest]}));
      }
    } else {
      this.readout.textContent = '\u00a0';
    }
  };

  function start(root, data) {
    root.textContent = '';
    var links = el('p', {class: 'rgr-what'}, [el('span', {text: 'Viewer at step: '})]);
    data.steps.forEach(function (step, c) {
      if (data.viewer[c]) {
        links.appendChild(el('a', {href: data.viewer[c], 'data-step': String(step), text: String(step)}));
        links.appendChild(document.createTextNode(' '));
      }
    });
    root.appendChild(links);
    var charts = data.scores.map(function (score) {
      return new Chart(root, data, score);
    });
    charts.forEach(function (chart) {
      chart.draw();
    });
    window.addEventListener('resize', function () {
      charts.forEach(function (chart) {
        chart.draw();
      });
    });
    root.setAttribute('data-rg-ready', '1');
  }

  function init() {
    var byKey = {};
    (window.RG_RUN_HEADS || []).forEach(function (item) {
      if (item && item.kind === 'run-heads') {
        byKey[item.key] = item;
      }
    });
    Array.prototype.forEach.call(document.querySelectorAll('.rg-run-heads[data-run]'), function (root) {
      var data = byKey[root.getAttribute('data-run')];
      if (!data) {
        root.textContent = 'No checkpoint data was loaded.';
        root.setAttribute('data-rg-error', 'no data');
        root.setAttribute('data-rg-ready', '1');
        return;
      }
      try {
        start(root, data);
      } catch (err) {
        root.setAttribute('data-rg-error', err && err.message ? err.message : String(err));
        root.setAttribute('data-rg-ready', '1');
      }
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
