/*
 * reportgen viewer scripts, neuron view: how one head's attention from the query token comes about,
 * from the stored float16 query and key vectors: q, each key k, q x k elementwise, q.k / sqrt(d) and its
 * softmax, beside the stored attention (the difference is bounded and stated).
 */
(function () {
  'use strict';

  var parts = window.ReportGenViewer.parts;
  var dom = parts.dom, Viewer = parts.viewer.Viewer;
  var el = dom.el, clamp = dom.clamp, sizeCanvas = dom.sizeCanvas, rgbText = dom.rgbText;
  var tokenText = dom.tokenText, ellipsize = dom.ellipsize, fixed = dom.fixed, smallNumber = dom.smallNumber;

  /** Build the neuron view's pane: one canvas plus a hover readout. */
  function build() {
    var self = this;
    this.neuronCanvas = el('canvas', {class: 'rgv-neuron-canvas', 'aria-label': 'Query and key vectors'});
    this.neuronReadout = el('div', {class: 'rgv-readout', 'aria-live': 'polite'});
    this.neuronSummary = el('div', {class: 'rgv-summary'});
    this.neuronLegend = el('div', {class: 'rgv-legend rgv-neuron-legend', 'aria-label': 'colour scale of q, k and q \u00d7 k'});
    this.neuronCanvas.addEventListener('mousemove', function (event) {
      self.neuronHover(event);
    });
    this.neuronCanvas.addEventListener('mouseleave', function () {
      self.neuronReadout.textContent = '\u00a0';
    });
    // the coreference marks of the token rows, laid over the canvas: elements with data-coref-role
    this.neuronMarks = el('div', {class: 'rgv-neuron-marks', 'aria-label': 'coreference marks of the token rows'});
    return el('div', {class: 'rgv-pane rgv-neuron-pane'}, [
      this.neuronSummary, this.neuronLegend, this.neuronReadout,
      el('div', {class: 'rgv-scroll rgv-neuron-scroll'}, [this.neuronCanvas, this.neuronMarks])
    ]);
  }

  Viewer.prototype.drawNeuron = function (layerData, qk) {
    var meta = this.meta, s = this.state, theme = this.theme, h = this.focusHead();
    var query = s.token >= 0 ? s.token : this.defaultQuery(), n = meta.n;
    this.neuronResult = null;
    this.neuronReadout.textContent = '\u00a0';
    this.neuronMarks.textContent = '';
    if (!qk || h >= qk.heads) {
      this.neuronSummary.textContent = 'Neuron data (query and key vectors) is not stored for layer ' + s.layer +
        (qk ? ', head ' + h : '') + ' of this model. ' + (Object.keys(meta.qk_files || {}).length
        ? 'Stored layers: ' + Object.keys(meta.qk_files).sort(function (a, b) {
          return a - b;
        }).join(', ') + '.' : 'The manifest did not ask for any.');
      this.neuronSummary.classList.add('rgv-warn');
      sizeCanvas(this.neuronCanvas, 1, 1);
      this.neuronCanvas.classList.add('rgv-hidden');
      return;
    }
    this.neuronSummary.classList.remove('rgv-warn');
    this.neuronCanvas.classList.remove('rgv-hidden');
    var d = qk.d, qOffset = (h * n + query) * d, root = Math.sqrt(d);
    var q = qk.q.subarray(qOffset, qOffset + d);
    var keys = [], j, c;
    var last = meta.causal ? query : n - 1;
    for (j = 0; j <= last; j++) {
      keys.push(j);
    }
    var products = [], scores = [], maxScore = -Infinity;
    keys.forEach(function (key) {
      var kOffset = (h * n + key) * d, product = new Float64Array(d), dot = 0;
      for (c = 0; c < d; c++) {
        product[c] = q[c] * qk.k[kOffset + c];
        dot += product[c];
      }
      products.push(product);
      scores.push(dot / root);
      maxScore = Math.max(maxScore, dot / root);
    });
    var exps = scores.map(function (score) {
      return Math.exp(score - maxScore);
    });
    var total = exps.reduce(function (a, b) {
      return a + b;
    }, 0);
    var softmax = exps.map(function (e) {
      return e / total;
    });
    var stored = keys.map(function (key) {
      return layerData[(h * n + query) * n + key] / 255;
    });
    var maxDiff = 0;
    softmax.forEach(function (p, k) {
      maxDiff = Math.max(maxDiff, Math.abs(p - stored[k]));
    });
    // |softmax - stored| <= storage error of the attention + error of softmax from float16 q and k
    var bound = this.qkError === null ? null : this.maxError + this.qkError;
    this.neuronResult = {
      layer: s.layer, head: h, token: query, d: d, keys: keys, q: Array.from(q), scores: scores,
      softmax: softmax, stored: stored, maxDiff: maxDiff, bound: bound
    };

    this.neuronSummary.textContent = 'Layer ' + s.layer + ', head ' + h + ', query ' + query + ' \u201c' +
      tokenText(meta.tokens[query]) + '\u201d: softmax(q\u00b7k/\u221a' + d + ') over ' + keys.length + ' key' +
      (keys.length === 1 ? '' : 's') + (meta.causal ? ' (causal: keys up to the query)' : '') +
      '. Largest difference from the stored attention: ' + maxDiff.toFixed(5) + ' (bound: ' +
      this.maxError.toFixed(5) + ' for uint8 attention + ' + (this.qkError === null ? 'float16 rounding of q and k'
        : smallNumber(this.qkError) + ' measured for float16 q and k') + '). Hover for numbers.';

    // Geometry.
    // Two strips of d cells share what the fixed columns leave of the pane's width.
    var available = Math.min(1000, this.panes.neuron.clientWidth || this.root.clientWidth || 800);
    var labelWidth = 110, gap = 12, scoreWidth = 72, probWidth = 104, storedWidth = 52, rowHeight = 16;
    var fixedWidth = labelWidth + 8 + 4 * gap + scoreWidth + probWidth + storedWidth + 10;
    var cell = clamp(Math.floor((available - fixedWidth) / 2 / d), 2, 10), strip = cell * d;
    var xK = labelWidth + 8, xP = xK + strip + gap, xS = xP + strip + gap, xM = xS + scoreWidth + gap;
    var xT = xM + probWidth + gap, width = xT + storedWidth;
    var top = 22, qRow = top + 2, keysTop = qRow + rowHeight + 18;
    var height = keysTop + keys.length * rowHeight + 6;
    var ctx = sizeCanvas(this.neuronCanvas, width, height);
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);
    ctx.font = '12px ' + theme.font;
    ctx.textBaseline = 'middle';

    var maxQ = 1e-12, maxK = 1e-12, maxP = 1e-12;
    for (c = 0; c < d; c++) {
      maxQ = Math.max(maxQ, Math.abs(q[c]));
    }
    keys.forEach(function (key, k) {
      var kOffset = (h * n + key) * d;
      for (c = 0; c < d; c++) {
        maxK = Math.max(maxK, Math.abs(qk.k[kOffset + c]));
        maxP = Math.max(maxP, Math.abs(products[k][c]));
      }
    });
    this.neuronLegendDraw(maxQ, maxK, maxP);
    function diverging(value, max) {
      return rgbText(dom.divergingColour(theme.bgRGB, theme.posRGB, theme.negRGB, value, max));
    }
    function stripAt(x, y, values, offset, max) {
      for (var c = 0; c < d; c++) {
        ctx.fillStyle = diverging(values[offset + c], max);
        ctx.fillRect(x + c * cell, y + 2, cell, rowHeight - 4);
      }
    }

    // Column titles.
    ctx.fillStyle = theme.mutedSolid;
    ctx.textAlign = 'left';
    ctx.fillText('key k (' + d + ' dims)', xK, 10);
    ctx.fillText('q \u00d7 k (elementwise)', xP, 10);
    ctx.fillText('q\u00b7k / \u221a' + d, xS, 10);
    ctx.fillText('softmax', xM, 10);
    ctx.fillText('stored', xT, 10);

    // Query row.
    ctx.fillStyle = theme.fgSolid;
    ctx.textAlign = 'right';
    ctx.font = 'bold 12px ' + theme.font;
    ctx.fillText(ellipsize(ctx, 'q: ' + tokenText(meta.tokens[query]), labelWidth), labelWidth, qRow + rowHeight / 2);
    ctx.font = '12px ' + theme.font;
    stripAt(xK, qRow, q, 0, maxQ);
    ctx.fillStyle = theme.mutedSolid;
    ctx.textAlign = 'left';
    ctx.fillText('\u2190 query vector q', xK + strip + 6, qRow + rowHeight / 2);
    ctx.strokeStyle = theme.faintSolid;
    ctx.beginPath();
    ctx.moveTo(0, keysTop - 9);
    ctx.lineTo(width, keysTop - 9);
    ctx.stroke();

    var minScore = Math.min.apply(null, scores), spread = Math.max(1e-9, maxScore - minScore);
    keys.forEach(function (key, k) {
      var y = keysTop + k * rowHeight, mid = y + rowHeight / 2;
      ctx.textAlign = 'right';
      ctx.fillStyle = key === query ? theme.fgSolid : theme.mutedSolid;
      ctx.font = (key === query ? 'bold ' : '') + '12px ' + theme.font;
      ctx.fillText(ellipsize(ctx, tokenText(meta.tokens[key]), labelWidth - 4), labelWidth, mid);
      ctx.font = '12px ' + theme.font;
      stripAt(xK, y, qk.k, (h * n + key) * d, maxK);
      stripAt(xP, y, products[k], 0, maxP);
      // score: a bar from the smallest score, and the number
      ctx.fillStyle = theme.faintSolid;
      ctx.fillRect(xS, y + 3, (scoreWidth - 40) * (scores[k] - minScore) / spread, rowHeight - 6);
      ctx.fillStyle = theme.fgSolid;
      ctx.textAlign = 'right';
      ctx.fillText(scores[k].toFixed(2), xS + scoreWidth, mid);
      ctx.fillStyle = rgbText(theme.heatRGB);
      ctx.fillRect(xM, y + 3, (probWidth - 44) * softmax[k], rowHeight - 6);
      ctx.fillStyle = theme.fgSolid;
      ctx.fillText(fixed(softmax[k], 3), xM + probWidth, mid);
      ctx.fillStyle = theme.mutedSolid;
      ctx.fillText(fixed(stored[k], 3), xT + storedWidth, mid);
    });
    this.markNeuronCoref(query, keys, labelWidth, qRow, keysTop, rowHeight, ctx);
    this.neuronGeometry = {
      cell: cell, d: d, xK: xK, xP: xP, xS: xS, xM: xM, xT: xT, width: width, qRow: qRow,
      keysTop: keysTop, rowHeight: rowHeight, strip: strip, q: q, qk: qk, products: products
    };
  };

  /**
   * Coreference marks of the query row and the key rows: a bar in the role's colour just right of the
   * token label, drawn on the canvas (exports keep it) and as an element with data-coref-role on top.
   */
  Viewer.prototype.markNeuronCoref = function (query, keys, labelWidth, qRow, keysTop, rowHeight, ctx) {
    var marks = this.corefMarks ? this.corefMarks() : [], role = {}, rows = [], overlay = this.neuronMarks;
    marks.forEach(function (m) {
      role[m.token] = m.role;
    });
    if (role[query]) {
      rows.push({token: query, y: qRow, query: true});
    }
    keys.forEach(function (key, k) {
      if (role[key]) {
        rows.push({token: key, y: keysTop + k * rowHeight, query: false});
      }
    });
    rows.forEach(function (row) {
      var box = {x: labelWidth + 2, y: row.y + 1, w: 4, h: rowHeight - 2};
      parts.coref.drawMarks(ctx, [{token: row.token, role: role[row.token]}], function () {
        return box;
      });
      var mark = el('span', {class: 'rgv-neuron-mark', 'data-coref-role': role[row.token], 'data-token': row.token,
        'data-row': row.query ? 'query' : 'key', title: role[row.token] + ': \u201c' +
          tokenText(this.meta.tokens[row.token]) + '\u201d'});
      mark.style.left = box.x + 'px';
      mark.style.top = box.y + 'px';
      mark.style.height = box.h + 'px';
      overlay.appendChild(mark);
    }, this);
  };

  /** Legend of the strips: the theme's own negative and positive colours, each strip's own scale. */
  Viewer.prototype.neuronLegendDraw = function (maxQ, maxK, maxP) {
    var theme = this.theme, legend = this.neuronLegend;
    legend.textContent = '';
    var ramp = el('span', {class: 'rgv-legend-ramp'});
    ramp.style.background = 'linear-gradient(to right, ' + rgbText(theme.negRGB) + ', ' + theme.bgSolid + ', ' +
      rgbText(theme.posRGB) + ')';
    legend.appendChild(el('span', {class: 'rgv-legend-neg', text: 'negative'}));
    legend.appendChild(ramp);
    legend.appendChild(el('span', {class: 'rgv-legend-pos', text: 'positive'}));
    legend.appendChild(el('span', {class: 'rgv-legend-note', text: '(0 is the background; full colour at \u00b1' +
      'the largest |value| of each strip: q ' + maxQ.toFixed(3) + ', k ' + maxK.toFixed(3) + ', q \u00d7 k ' +
      maxP.toFixed(3) + ')'}));
    legend.querySelector('.rgv-legend-neg').style.color = rgbText(theme.negRGB);
    legend.querySelector('.rgv-legend-pos').style.color = rgbText(theme.posRGB);
  };

  Viewer.prototype.neuronHover = function (event) {
    var g = this.neuronGeometry, r = this.neuronResult, meta = this.meta;
    if (!g || !r) {
      return;
    }
    var rect = this.neuronCanvas.getBoundingClientRect();
    var x = event.clientX - rect.left, y = event.clientY - rect.top, n = meta.n, h = r.head;
    var dim, text = '';
    function dimAt(x0) {
      return x >= x0 && x < x0 + g.strip ? Math.floor((x - x0) / g.cell) : -1;
    }
    if (y >= g.qRow && y < g.qRow + g.rowHeight) {
      dim = dimAt(g.xK);
      if (dim >= 0) {
        text = 'q[' + dim + '] = ' + g.q[dim].toFixed(4) + ' (query \u201c' + tokenText(meta.tokens[r.token]) + '\u201d)';
      }
    } else if (y >= g.keysTop) {
      var k = Math.floor((y - g.keysTop) / g.rowHeight);
      if (k >= 0 && k < r.keys.length) {
        var key = r.keys[k], kValue, label = 'key ' + key + ' \u201c' + tokenText(meta.tokens[key]) + '\u201d';
        if ((dim = dimAt(g.xK)) >= 0) {
          kValue = g.qk.k[(h * n + key) * g.d + dim];
          text = label + ': k[' + dim + '] = ' + kValue.toFixed(4);
        } else if ((dim = dimAt(g.xP)) >= 0) {
          kValue = g.qk.k[(h * n + key) * g.d + dim];
          text = label + ': q[' + dim + '] \u00d7 k[' + dim + '] = ' + g.q[dim].toFixed(4) + ' \u00d7 ' +
            kValue.toFixed(4) + ' = ' + g.products[k][dim].toFixed(4);
        } else {
          text = label + ': q\u00b7k/\u221a' + g.d + ' = ' + r.scores[k].toFixed(4) + ', softmax = ' +
            r.softmax[k].toFixed(4) + ', stored attention = ' + r.stored[k].toFixed(4) + ' (\u00b1' +
            this.maxError.toFixed(5) + ')';
        }
      }
    }
    this.neuronReadout.textContent = text || '\u00a0';
  };

  parts.viewer.register('neuron', {
    title: 'Neuron', build: build, wantsQK: true, singleHead: true,
    draw: function (layerData, qk) {
      this.drawNeuron(layerData, qk);
    },
    exportCanvas: function () {
      return this.neuronResult ? this.neuronCanvas : null;
    }
  });
})();
