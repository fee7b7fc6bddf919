/*
 * reportgen viewer scripts, model view: a thumbnail of every head of every layer (line plots like
 * BertViz for short examples, max-pooled heatmaps for long ones); a click opens the head in the head view.
 */
(function () {
  'use strict';

  var parts = window.ReportGenViewer.parts;
  var core = parts.core, dom = parts.dom, Viewer = parts.viewer.Viewer;
  var el = dom.el, clamp = dom.clamp, sizeCanvas = dom.sizeCanvas, mix = dom.mix;
  var selectLinks = parts.links.selectLinks, drawLinks = parts.links.drawLinks, topShareCut = parts.links.topShareCut;
  var THUMB_PIXEL_BUDGET = parts.links.THUMB_PIXEL_BUDGET;

  /** Build the model view's pane: a grid of thumbnails. */
  function build() {
    this.grid = el('div', {class: 'rgv-model-grid'});
    this.modelFilters = el('p', {class: 'rgv-hint rgv-model-filters', 'aria-live': 'polite'});
    this.modelCoref = el('p', {class: 'rgv-hint rgv-model-coref rgv-hidden'});
    return el('div', {class: 'rgv-pane rgv-model-pane'}, [
      el('p', {class: 'rgv-hint', text: 'Every head of every layer. Click a thumbnail to open it in the head view. ' +
        'Numbers are 0-based (L0 H0 is exBERT\u2019s <1,1>).'}),
      this.modelFilters,
      this.modelCoref,
      this.grid
    ]);
  }

  /**
   * What the thumbnails draw, from the shared options: the pinned token's links only, the sentence
   * pair filter, special tokens hidden (thumbnails never renormalise), the top X% of each row.
   * Returns {ok(i, j), top}; ok is null when every cell is drawn.
   */
  Viewer.prototype.thumbFilter = function () {
    var s = this.state, meta = this.meta, n = meta.n;
    var hide = s.special !== 'show', token = s.token >= 0 && s.token < n ? s.token : -1, to = s.dir === 'to';
    var want = {aa: [0, 0], bb: [1, 1], ab: [0, 1], ba: [1, 0]}[s.filter] || null;
    var ok = null;
    if (hide || want || token >= 0) {
      ok = function (i, j) {
        return !(hide && (meta.special[i] || meta.special[j])) &&
          !(want && !(meta.segment[i] === want[0] && meta.segment[j] === want[1])) &&
          !(token >= 0 && (to ? j !== token : i !== token));
      };
    }
    return {ok: ok, top: s.top};
  };

  /** Per-row cut-offs of one head for the top-X% option over the allowed cells (null: no cut). */
  function rowCuts(layerData, base, n, ok, top) {
    if (top >= 100) {
      return null;
    }
    var cuts = new Float32Array(n), values = [];
    for (var i = 0; i < n; i++) {
      var sum = 0;
      values.length = 0;
      for (var j = 0; j < n; j++) {
        var v = layerData[base + i * n + j];
        if (v && (!ok || ok(i, j))) {
          values.push(v);
          sum += v;
        }
      }
      cuts[i] = topShareCut(values, sum, top);
    }
    return cuts;
  }

  Viewer.prototype.thumbStyle = function () {
    var style = this.state.thumbs;
    if (style === 'lines' || style === 'heatmap') {
      return style;
    }
    return this.meta.n <= 64 ? 'lines' : 'heatmap';
  };

  Viewer.prototype.renderModel = function (generation) {
    var self = this, meta = this.meta, heads = meta.heads, layers = meta.layers;
    var width = this.panes.model.clientWidth || this.root.clientWidth || 720;
    var size = clamp(Math.floor((width - 40) / heads) - 10, 40, 110);
    var style = this.thumbStyle(), signature = meta.key + '|' + size;
    if (this.cache.grid !== signature) {
      this.cache.grid = signature;
      this.grid.textContent = '';
      this.grid.style.setProperty('--rgv-thumb', size + 'px');
      this.grid.style.gridTemplateColumns = 'auto repeat(' + heads + ', ' + size + 'px)';
      this.thumbs = [];
      this.grid.appendChild(el('div', {class: 'rgv-grid-corner'}));
      for (var h = 0; h < heads; h++) {
        this.grid.appendChild(el('div', {class: 'rgv-grid-head', text: 'H' + h}));
      }
      for (var l = 0; l < layers; l++) {
        this.grid.appendChild(el('div', {class: 'rgv-grid-layer', text: 'L' + l}));
        this.thumbs.push([]);
        for (h = 0; h < heads; h++) {
          this.thumbs[l].push(this.makeThumb(l, h, size));
        }
      }
    }
    this.thumbSize = size;
    this.markCurrentThumbs();
    var filters = this.filterText ? this.filterText() : [];
    this.modelFilters.textContent = filters.length ? 'Thumbnails show: ' + filters.join('; ') + '.' : '';
    this.modelFilters.classList.toggle('rgv-hidden', !filters.length);
    this.markModelCoref();
    var next = 0;
    function step() {
      if (generation !== self.generation) {
        return;
      }
      if (next >= layers) {
        self.showMessage('');
        self.markDrawn();
        return;
      }
      var layer = next++;
      var data = core.cachedLayer(meta, layer);
      if (!data) {
        self.showMessage('Loading layer ' + layer + ' of ' + layers + '\u2026');
      }
      (data ? Promise.resolve(data) : core.load(meta, self.base, 'layer', layer)).then(function (layerData) {
        if (generation !== self.generation) {
          return;
        }
        try {
          for (var h = 0; h < heads; h++) {
            self.drawThumb(self.thumbs[layer][h].canvas, layerData, h, size, style);
          }
        } catch (err) {
          self.fail(err);
          return;
        }
        step();
      }, function (err) {
        if (generation === self.generation) {
          self.fail(err);
        }
      });
    }
    step();
  };

  /** The coreference note above the grid and the marked tokens on the grid (data-coref-marks). */
  Viewer.prototype.markModelCoref = function () {
    var marks = this.corefMarks ? this.corefMarks() : [];
    this.modelCoref.classList.toggle('rgv-hidden', !marks.length);
    this.modelCoref.textContent = marks.length ? 'Coloured ticks beside the tokens (lines: both ends; heat maps: ' +
      'left for rows, top for columns) mark the pronoun, the antecedent and the other candidates, as in the ' +
      'coreference legend above.' : '';
    this.grid.setAttribute('data-coref-marks', marks.map(function (m) {
      return m.token + ':' + m.role;
    }).join(' '));
  };

  Viewer.prototype.makeThumb = function (layer, head, size) {
    var self = this, label = this.headLabel(layer, head);
    var canvas = el('canvas', {class: 'rgv-thumb-canvas', width: size, height: size});
    var figure = el('button', {
      type: 'button', class: 'rgv-thumb', 'data-layer': layer, 'data-head': head,
      title: 'Layer ' + layer + ', head ' + head + ' (0-based; exBERT <' + (layer + 1) + ',' + (head + 1) + '>)' +
        (label ? ': ' + label : '') + '. Click to open in the head view.',
      onclick: function () {
        self.set({view: 'head', layer: layer, heads: self.solo(head)}); // the pinned token stays pinned
      }
    }, [
      canvas,
      el('span', {class: 'rgv-thumb-name', text: 'L' + layer + ' H' + head}),
      el('span', {class: 'rgv-thumb-label', text: label || '\u00a0'})
    ]);
    this.grid.appendChild(figure);
    return {canvas: canvas, node: figure};
  };

  Viewer.prototype.markCurrentThumbs = function () {
    var s = this.state, single = this.selectedHeads().length === 1;
    (this.thumbs || []).forEach(function (row, layer) {
      row.forEach(function (thumb, head) {
        thumb.node.classList.toggle('rgv-current', single && layer === s.layer && !!s.heads[head]);
      });
    });
  };

  Viewer.prototype.drawThumb = function (canvas, layerData, h, size, style) {
    var meta = this.meta, n = meta.n, theme = this.theme, base = h * n * n;
    var ctx = sizeCanvas(canvas, size, size), filter = this.thumbFilter(), ok = filter.ok;
    var cuts = rowCuts(layerData, base, n, ok, filter.top);
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, size, size);
    if (style === 'heatmap') {
      // Max-pool the n x n matrix to the thumbnail so that sparse patterns stay visible.
      var pixels = Math.min(n, canvas.width), image = ctx.createImageData(pixels, pixels);
      var pool = new Float32Array(pixels * pixels), scale = pixels / n, i, j;
      for (i = 0; i < n; i++) {
        var row = Math.floor(i * scale) * pixels, src = base + i * n;
        for (j = 0; j < n; j++) {
          var v = layerData[src + j], p = row + Math.floor(j * scale);
          if (v > pool[p] && (!ok || ok(i, j)) && !(cuts && v < cuts[i])) {
            pool[p] = v;
          }
        }
      }
      for (i = 0; i < pool.length; i++) {
        var rgb = mix(theme.bgRGB, theme.heatRGB, pool[i] / 255);
        image.data[4 * i] = rgb[0];
        image.data[4 * i + 1] = rgb[1];
        image.data[4 * i + 2] = rgb[2];
        image.data[4 * i + 3] = 255;
      }
      var off = document.createElement('canvas');
      off.width = off.height = pixels;
      off.getContext('2d').putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = pixels < canvas.width ? false : true;
      ctx.drawImage(off, 1, 1, size - 2, size - 2);
      var cellPx = (size - 2) / n, tick = Math.max(2, cellPx);
      this.drawCorefTicks(ctx, function (t) { // rows on the left edge, columns on the top edge
        return {x: 0, y: 1 + t * cellPx, w: 2, h: tick};
      }, function (t) {
        return {x: 1 + t * cellPx, y: 0, w: tick, h: 2};
      });
    } else {
      var step = (size - 4) / n, x0 = size * 0.18, x1 = size * 0.82, span = x1 - x0;
      var links = selectLinks(function (visit) {
        for (var i = 0; i < n; i++) {
          for (var j = 0; j < n; j++) {
            var v = layerData[base + i * n + j];
            if (v && (!ok || ok(i, j)) && !(cuts && v < cuts[i])) {
              visit(h, i, j, v / 255);
            }
          }
        }
      }, function (i, j) {
        var dy = (j - i) * step;
        return Math.sqrt(span * span + dy * dy);
      }, THUMB_PIXEL_BUDGET);
      drawLinks(ctx, links, x0, x1, function (i) {
        return 2 + (i + 0.5) * step;
      }, 0);
      var tall = Math.max(2, step);
      this.drawCorefTicks(ctx, function (t) { // the token's end on both sides
        return {x: x0 - 7, y: 2 + (t + 0.5) * step - tall / 2, w: 5, h: tall};
      }, function (t) {
        return {x: x1 + 2, y: 2 + (t + 0.5) * step - tall / 2, w: 5, h: tall};
      });
    }
  };

  /** Coreference ticks of one thumbnail: two rectangles per marked token (coref.js's colours). */
  Viewer.prototype.drawCorefTicks = function (ctx, first, second) {
    var marks = this.corefMarks ? this.corefMarks() : [];
    if (marks.length) {
      parts.coref.drawMarks(ctx, marks, first);
      parts.coref.drawMarks(ctx, marks, second);
    }
  };

  parts.viewer.register('model', {
    title: 'Model', build: build,
    render: function (generation) {
      this.renderModel(generation);
    },
    exportCanvas: function () {
      return this.composeModel();
    }
  });
})();
