/*
 * reportgen viewer scripts, head view: the tokens twice, with a line from each token to each token it
 * attends to (opacity and width follow the weight, one colour per head), filters (sentence pairs, top
 * X% of each row), hover and pin to isolate one token, and a side panel of the exact weights.
 */
(function () {
  'use strict';

  var parts = window.ReportGenViewer.parts;
  var dom = parts.dom, Viewer = parts.viewer.Viewer;
  var el = dom.el, headColour = dom.headColour, tokenText = dom.tokenText, fixed = dom.fixed;
  var sizeCanvas = dom.sizeCanvas;
  var MIN_WEIGHT = parts.links.MIN_WEIGHT, HEAD_PIXEL_BUDGET = parts.links.HEAD_PIXEL_BUDGET;
  var selectLinks = parts.links.selectLinks, drawLinks = parts.links.drawLinks, topShareCut = parts.links.topShareCut;

  /** Build the head view's pane: token columns with a line canvas between them, and a side panel of numbers. */
  function build() {
    var self = this;
    this.leftColumn = el('div', {class: 'rgv-col rgv-from', 'data-side': 'from'});
    this.rightColumn = el('div', {class: 'rgv-col rgv-to', 'data-side': 'to'});
    this.linesCanvas = el('canvas', {class: 'rgv-lines', 'aria-label': 'Attention lines'});
    this.linesWidth = 240;
    this.panel = el('div', {class: 'rgv-panel', 'aria-live': 'polite'});
    [this.leftColumn, this.rightColumn].forEach(function (column) {
      column.addEventListener('mouseover', function (event) {
        var token = event.target.closest && event.target.closest('.rgv-tok');
        if (token && column.contains(token)) {
          self.setHover({side: column.getAttribute('data-side'), unit: +token.getAttribute('data-unit')});
        }
      });
      column.addEventListener('mouseleave', function () {
        self.setHover(null);
      });
      column.addEventListener('click', function (event) {
        var token = event.target.closest && event.target.closest('.rgv-tok');
        if (token && column.contains(token)) {
          self.pin(column.getAttribute('data-side'), +token.getAttribute('data-unit'));
        }
      });
    });
    return el('div', {class: 'rgv-pane rgv-head-pane'}, [
      el('div', {class: 'rgv-head-body'}, [
        this.graph = el('div', {class: 'rgv-head-graph'}, [
          el('div', {class: 'rgv-col-title rgv-from', text: 'from'}),
          el('div', {class: 'rgv-col-title rgv-mid'}),
          el('div', {class: 'rgv-col-title rgv-to', text: 'to'}),
          this.leftColumn, this.linesCanvas, this.rightColumn
        ]),
        this.panel
      ])
    ]);
  }

  /** Per-row cut-off weights for the top-X% option (null when everything is drawn). */
  Viewer.prototype.rowCuts = function (matrix, h, m) {
    var top = this.state.top;
    if (top >= 100) {
      return null;
    }
    var key = h + '|' + top;
    if (this.cache.cuts[key]) {
      return this.cache.cuts[key];
    }
    var cuts = new Float32Array(m), values = [];
    for (var i = 0; i < m; i++) {
      var sum = 0;
      values.length = 0;
      for (var j = 0; j < m; j++) {
        var w = matrix[i * m + j];
        if (w > 0) {
          values.push(w);
          sum += w;
        }
      }
      cuts[i] = topShareCut(values, sum, top);
    }
    this.cache.cuts[key] = cuts;
    return cuts;
  };

  Viewer.prototype.pairAllowed = function () {
    var filter = this.state.filter, list = this.units().list;
    if (filter === 'all') {
      return null;
    }
    var want = {aa: [0, 0], bb: [1, 1], ab: [0, 1], ba: [1, 0]}[filter];
    var from = new Uint8Array(list.length), to = new Uint8Array(list.length);
    list.forEach(function (unit, u) {
      from[u] = unit.segment === want[0] ? 1 : 0;
      to[u] = unit.segment === want[1] ? 1 : 0;
    });
    return {from: from, to: to};
  };

  /** The token the head view isolates: hovered, else pinned. */
  Viewer.prototype.active = function () {
    if (this.hover) {
      return this.hover;
    }
    var s = this.state, units = this.units();
    if (s.token >= 0 && s.token < this.meta.n && units.tokenUnit[s.token] >= 0) {
      return {side: s.dir, unit: units.tokenUnit[s.token]};
    }
    return null;
  };

  Viewer.prototype.rowHeight = function (m) {
    return m <= 80 ? 20 : (m <= 200 ? 16 : 13);
  };

  Viewer.prototype.drawHead = function (layerData) {
    var units = this.units(), m = units.list.length, rowHeight = this.rowHeight(m);
    this.layerData = layerData;
    this.fitHead();
    if (this.cache.columns !== units.signature) {
      this.cache.columns = units.signature;
      this.fillColumns(units, rowHeight);
    }
    if (this.markCorefTokens) {
      this.markCorefTokens();
    }
    this.linesHeight = m * rowHeight;
    this.rowPx = rowHeight;
    this.drawLines();
    this.updatePanel();
  };

  /** Sizes of the head view for the container width (Material's content column is ~640 px). */
  Viewer.prototype.fitHead = function () {
    var width = this.root.clientWidth || 900;
    var sizes = width >= 880 ? [240, 170] : (width >= 600 ? [170, 115] : [140, 100]);
    this.linesWidth = sizes[0];
    this.graph.style.gridTemplateColumns = 'auto ' + sizes[0] + 'px auto';
    this.root.style.setProperty('--rgv-colmax', sizes[1] + 'px');
    this.root.classList.toggle('rgv-narrow', width < 520);
  };

  Viewer.prototype.fillColumns = function (units, rowHeight) {
    var self = this;
    this.root.style.setProperty('--rgv-row', rowHeight + 'px');
    this.root.style.setProperty('--rgv-font', Math.max(10, rowHeight - 7) + 'px');
    [this.leftColumn, this.rightColumn].forEach(function (column) {
      var fragment = document.createDocumentFragment();
      units.list.forEach(function (unit, u) {
        fragment.appendChild(el('div', {
          class: 'rgv-tok' + (unit.special ? ' rgv-special' : '') +
            (unit.segment === 1 ? ' rgv-seg-b' : ''),
          dir: 'auto', 'data-unit': u, 'data-token': unit.first,
          title: self.unitTitle(unit),
          text: tokenText(unit.label)
        }));
      });
      column.textContent = '';
      column.appendChild(fragment);
    });
  };

  Viewer.prototype.unitTitle = function (unit) {
    var where = unit.special ? 'special token' : (unit.segment === 1 ? 'sentence B' : 'sentence A');
    var span = unit.tokens.length > 1 ? 'tokens ' + unit.tokens[0] + '\u2013' + unit.tokens[unit.tokens.length - 1]
      : 'token ' + unit.first;
    return span + ', ' + where + '. Hover to isolate its links, click to pin.';
  };

  /** Calls visit(h, i, j, w) for every link the head view's options let through. */
  Viewer.prototype.linkVisitor = function () {
    var self = this, m = this.units().list.length, active = this.active(), pairs = this.pairAllowed();
    var plan = this.selectedHeads().map(function (h) {
      var matrix = self.unitMatrix(self.layerData, h);
      return {h: h, matrix: matrix, cuts: self.rowCuts(matrix, h, m)};
    });
    return function (visit) {
      plan.forEach(function (p) {
        var matrix = p.matrix, cuts = p.cuts, h = p.h;
        function consider(i, j) {
          var w = matrix[i * m + j];
          if (w >= MIN_WEIGHT && !(cuts && w < cuts[i]) && !(pairs && !(pairs.from[i] && pairs.to[j]))) {
            visit(h, i, j, w);
          }
        }
        var i, j;
        if (active && active.side === 'from') {
          for (j = 0; j < m; j++) {
            consider(active.unit, j);
          }
        } else if (active) {
          for (i = 0; i < m; i++) {
            consider(i, active.unit);
          }
        } else {
          for (i = 0; i < m; i++) {
            for (j = 0; j < m; j++) {
              consider(i, j);
            }
          }
        }
      });
    };
  };

  Viewer.prototype.headLinks = function () {
    var width = this.linesWidth - 6, rowHeight = this.rowPx;
    return selectLinks(this.linkVisitor(), function (i, j) {
      var dy = (j - i) * rowHeight;
      return Math.sqrt(width * width + dy * dy);
    }, HEAD_PIXEL_BUDGET);
  };

  Viewer.prototype.drawLines = function () {
    var units = this.units(), m = units.list.length, rowHeight = this.rowPx;
    var height = this.linesHeight, width = this.linesWidth, layerData = this.layerData;
    var ctx = sizeCanvas(this.linesCanvas, width, height, height > 4000 ? 1 : 2);
    ctx.clearRect(0, 0, width, height);
    var active = this.active(), self = this;
    var links = this.headLinks();
    this.drawnActive = active;
    drawLinks(ctx, links, 3, width - 3, function (i) {
      return (i + 0.5) * rowHeight;
    }, active ? 0.04 : 0);
    this.edges = links.drawn;
    this.skipped = links.skipped;
    this.skippedBelow = links.minWeight;
    var heads = this.selectedHeads();

    // Highlight tokens: the isolated one, and the weight each other token gets (max over heads).
    var lit = null;
    if (active) {
      lit = new Float32Array(m);
      heads.forEach(function (h) {
        var matrix = self.unitMatrix(layerData, h);
        for (var k = 0; k < m; k++) {
          var w = active.side === 'from' ? matrix[active.unit * m + k] : matrix[k * m + active.unit];
          if (w > lit[k]) {
            lit[k] = w;
          }
        }
      });
    }
    var pinned = this.state.token >= 0 ? units.tokenUnit[this.state.token] : -1;
    [[this.leftColumn, 'from'], [this.rightColumn, 'to']].forEach(function (pair) {
      var side = pair[1], nodes = pair[0].children;
      for (var u = 0; u < nodes.length; u++) {
        var node = nodes[u], isActive = !!active && active.side === side && active.unit === u;
        node.classList.toggle('rgv-active', isActive);
        node.classList.toggle('rgv-pinned', pinned === u && self.state.dir === side);
        var weight = lit && active.side !== side ? lit[u] : 0;
        if (weight > 0.004) {
          node.style.setProperty('--rgv-w', Math.min(1, weight).toFixed(3));
          node.classList.add('rgv-lit');
        } else if (node.classList.contains('rgv-lit')) {
          node.classList.remove('rgv-lit');
        }
      }
    });
  };

  /** Hovering a token isolates its links; redraws are coalesced to one per animation frame. */
  Viewer.prototype.setHover = function (hover) {
    var self = this;
    this.pendingHover = hover;
    if (this.hoverFrame) {
      return;
    }
    var schedule = window.requestAnimationFrame || function (fn) {
      return window.setTimeout(fn, 16);
    };
    this.hoverFrame = schedule(function () {
      self.hoverFrame = null;
      self.applyHover(self.pendingHover);
    });
  };

  Viewer.prototype.applyHover = function (hover) {
    if (!this.meta || this.state.view !== 'head' || !this.layerData) {
      return;
    }
    var same = (!hover && !this.hover) ||
      (hover && this.hover && hover.side === this.hover.side && hover.unit === this.hover.unit);
    if (same) {
      return;
    }
    this.hover = hover;
    this.drawLines();
    this.updatePanel();
    this.markDrawn();
  };

  /** Side panel: the exact weights of the isolated token, per selected head. */
  Viewer.prototype.updatePanel = function () {
    var self = this, s = this.state, panel = this.panel, units = this.units();
    var list = units.list, m = list.length, active = this.drawnActive, heads = this.selectedHeads();
    panel.textContent = '';
    if (!active) {
      panel.appendChild(el('p', {class: 'rgv-hint', text: 'Hover a token to isolate its links and read the exact ' +
        'weights here; click a token to pin it.'}));
      panel.appendChild(el('p', {class: 'rgv-hint', text: 'Line opacity and width follow the attention weight. ' +
        this.edges + ' links drawn for ' + heads.length + ' head' + (heads.length === 1 ? '' : 's') + '.'}));
      this.skippedNote(panel);
      return;
    }
    var unit = list[active.unit], from = active.side === 'from';
    panel.appendChild(el('div', {class: 'rgv-panel-title'}, [
      el('span', {text: from ? 'Attention from ' : 'Attention to '}),
      el('span', {class: 'rgv-quote', dir: 'auto', text: tokenText(unit.label)}),
      el('span', {text: ' (' + (unit.tokens.length > 1 ? 'tokens ' + unit.tokens.join(', ') : 'token ' + unit.first) +
        ', layer ' + s.layer + ')'})
    ]));
    var note = 'Each weight is within \u00b1' + this.maxError.toFixed(5) + ' of the model\u2019s value (uint8 storage).';
    if (s.words) {
      note = 'Word rows average and word columns sum the stored token weights, so a word\u2019s error bound ' +
        'adds up over its pieces (\u00b1' + this.maxError.toFixed(5) + ' per piece).';
    }
    if (s.special === 'renorm') {
      note += ' Rows are renormalised after hiding special tokens.';
    }
    panel.appendChild(el('p', {class: 'rgv-hint', text: note}));
    this.skippedNote(panel);
    if (!heads.length) {
      panel.appendChild(el('p', {class: 'rgv-hint', text: 'No head selected.'}));
      return;
    }
    var pairs = this.pairAllowed();
    var table = el('table', {class: 'rgv-weights'});
    var headRow = el('tr', {}, [el('th', {text: from ? 'to' : 'from'})]);
    heads.forEach(function (h) {
      var th = el('th', {class: 'rgv-head-col', title: 'Head ' + h + (self.headLabel(s.layer, h) ? ': ' +
        self.headLabel(s.layer, h) : ''), text: 'H' + h});
      th.style.setProperty('--rgv-head', headColour(h));
      headRow.appendChild(th);
    });
    table.appendChild(el('thead', {}, [headRow]));
    var matrices = heads.map(function (h) {
      return self.unitMatrix(self.layerData, h);
    });
    var cutsList = heads.map(function (h, k) {
      return self.rowCuts(matrices[k], h, m);
    });
    var body = el('tbody');
    for (var other = 0; other < m; other++) {
      var i = from ? active.unit : other, j = from ? other : active.unit;
      var row = el('tr', {'data-unit': other}, [
        el('td', {class: 'rgv-tok-cell', dir: 'auto', text: tokenText(list[other].label)})
      ]);
      var shownAny = false;
      for (var k = 0; k < heads.length; k++) {
        var w = matrices[k][i * m + j], cuts = cutsList[k];
        var shown = w >= MIN_WEIGHT && !(cuts && w < cuts[i]) && !(pairs && !(pairs.from[i] && pairs.to[j]));
        shownAny = shownAny || shown;
        var cell = el('td', {
          class: 'rgv-num' + (shown ? '' : ' rgv-muted'), 'data-head': heads[k], 'data-from': list[i].first,
          'data-to': list[j].first, 'data-value': String(w), text: fixed(w, 3)
        });
        cell.style.setProperty('--rgv-w', Math.min(1, w).toFixed(3));
        cell.style.setProperty('--rgv-head', headColour(heads[k]));
        row.appendChild(cell);
      }
      if (!shownAny) {
        row.classList.add('rgv-muted-row');
      }
      body.appendChild(row);
    }
    table.appendChild(body);
    panel.appendChild(el('div', {class: 'rgv-table-wrap'}, [table]));
  };

  Viewer.prototype.skippedNote = function (panel) {
    if (this.skipped > 0) {
      panel.appendChild(el('p', {class: 'rgv-hint rgv-skipped', text: this.skipped + ' fainter link' +
        (this.skipped === 1 ? '' : 's') + ' (weight below ' + this.skippedBelow.toFixed(3) + ') not drawn, ' +
        'to keep redraws fast; this table lists every weight of the token you hover.'}));
    }
  };

  parts.viewer.register('head', {
    title: 'Head', build: build,
    draw: function (layerData) {
      this.drawHead(layerData);
    },
    exportCanvas: function () {
      return this.composeHead();
    }
  });
})();
