/*
 * reportgen viewer scripts, the viewer: one per <div class="rg-viewer" data-example="SLUG"
 * data-base="../data/">. This file builds the frame (tabs, model choice, shared controls, message,
 * precision note), keeps the registry of views, dispatches drawing to the current view and holds what
 * several views share: the units (tokens or words) shown, the attention between them, and the
 * heatmap painter of the matrix and rollout views.
 *
 * Each view lives in its own file (views/*.js) and registers itself with
 * ReportGenViewer.parts.viewer.register(name, {title, build, render | draw, wantsQK, singleHead,
 * exportCanvas}); the tabs follow the order the views register in. state.js adds the state and URL
 * hash methods, export.js the PNG/SVG export, boot.js wires the page.
 */
(function (root) {
  'use strict';

  var RG = root.ReportGenViewer = root.ReportGenViewer || {};
  var parts = RG.parts = RG.parts || {};
  if (parts.viewer) {
    return;
  }
  var core = parts.core, dom = parts.dom;
  var el = dom.el, clamp = dom.clamp, tokenText = dom.tokenText, readTheme = dom.readTheme;
  var sizeCanvas = dom.sizeCanvas, ellipsize = dom.ellipsize, rgbText = dom.rgbText;

  var FILTERS = [
    ['all', 'All pairs'], ['aa', 'A \u2192 A'], ['bb', 'B \u2192 B'], ['ab', 'A \u2192 B'], ['ba', 'B \u2192 A']
  ];
  var SPECIAL_MODES = [
    ['show', 'Show special tokens'], ['hide', 'Hide special tokens'],
    ['renorm', 'Hide special tokens, renormalise rows']
  ];
  var TOP_HELP = 'Top X% of attention: for each source token, only its strongest links that ' +
    'together hold X% of that token\'s attention are drawn (100% draws every link). ' +
    'Computed after the special-token and word options.';
  var HEAD_HELP = 'Click a colour block to show or hide that head; double-click to show it alone.';

  var VIEWS = [];          // view names in the order they registered (the tabs' order)
  var registry = {};       // name -> {title, build, render | draw, wantsQK, singleHead, exportCanvas}
  var viewers = [];        // the viewers on this page, in page order

  /** Add a view: its tab, its pane (built by view.build, called on the viewer) and how it draws. */
  function register(name, view) {
    if (!registry[name]) {
      VIEWS.push(name);
    }
    registry[name] = view;
  }

  function Viewer(root) {
    this.root = root;
    this.example = root.getAttribute('data-example') || '';
    this.base = root.getAttribute('data-base') || '';
    this.meta = null;
    this.state = {
      view: 'head', layer: 0, heads: [], token: -1, dir: 'from',
      filter: 'all', special: 'show', words: false, top: 100, thumbs: 'auto', zoom: 'fit'
    };
    this.hover = null;          // {side: 'from'|'to', unit} while the mouse is on a head-view token
    this.drawn = 0;
    this.generation = 0;
    this.edges = 0;             // edges drawn by the last head-view draw
    this.neuronResult = null;   // numbers of the last neuron-view draw
    this.error = null;
    this.readyPromise = new Promise(function (resolve) {
      this.resolveReady = resolve;
    }.bind(this));
    this.cache = {};
    root.classList.add('rgv-root');
    root.setAttribute('data-rg-drawn', '0');
    this.build();
    this.metasChanged();
  }

  // ----- building the DOM ------------------------------------------------------------------------

  Viewer.prototype.build = function () {
    var self = this, root = this.root;
    root.textContent = '';

    function control(views, label, input, title) {
      return el('label', {class: 'rgv-control', 'data-views': views, title: title}, [
        el('span', {class: 'rgv-control-label', text: label}), input
      ]);
    }

    this.modelSelect = el('select', {'aria-label': 'Model', onchange: function () {
      self.set({key: self.modelSelect.value});
    }});
    this.modelControl = control('head model neuron matrix rollout predictions', 'Model', this.modelSelect);

    this.tabs = {};
    var tabBar = el('div', {class: 'rgv-tabs', role: 'tablist'});
    VIEWS.forEach(function (view) {
      var tab = el('button', {
        type: 'button', class: 'rgv-tab', role: 'tab', 'data-view': view, text: registry[view].title,
        onclick: function () {
          self.set({view: view});
        }
      });
      self.tabs[view] = tab;
      tabBar.appendChild(tab);
    });

    this.pngButton = el('button', {type: 'button', class: 'rgv-button', text: 'PNG',
      title: 'Save the current view as a PNG image', onclick: function () {
        self.exportPNG();
      }});
    this.svgButton = el('button', {type: 'button', class: 'rgv-button', text: 'SVG', 'data-views': 'head',
      title: 'Save the head view as an SVG drawing', onclick: function () {
        self.exportSVG();
      }});

    root.appendChild(el('div', {class: 'rgv-bar'}, [
      tabBar, this.modelControl, el('span', {class: 'rgv-spacer'}), this.pngButton, this.svgButton
    ]));

    this.layerSelect = el('select', {'aria-label': 'Layer', onchange: function () {
      self.set({layer: +self.layerSelect.value});
    }});
    this.headSelect = el('select', {'aria-label': 'Head', onchange: function () {
      self.set({heads: self.solo(+self.headSelect.value)});
    }});
    this.tokenSelect = el('select', {'aria-label': 'Query token', class: 'rgv-token-select', onchange: function () {
      self.set({token: +self.tokenSelect.value, dir: 'from'});
    }});
    this.filterSelect = el('select', {'aria-label': 'Sentence pairs', onchange: function () {
      self.set({filter: self.filterSelect.value});
    }});
    FILTERS.forEach(function (f) {
      self.filterSelect.appendChild(el('option', {value: f[0], text: f[1]}));
    });
    this.specialSelect = el('select', {'aria-label': 'Special tokens', onchange: function () {
      self.set({special: self.specialSelect.value, token: -1});
    }});
    SPECIAL_MODES.forEach(function (f) {
      self.specialSelect.appendChild(el('option', {value: f[0], text: f[1]}));
    });
    this.wordsBox = el('input', {type: 'checkbox', onchange: function () {
      self.set({words: self.wordsBox.checked});
    }});
    this.topRange = el('input', {type: 'range', min: 1, max: 100, step: 1, value: 100, title: TOP_HELP,
      'aria-label': 'Top percent of attention', oninput: function () {
        self.set({top: +self.topRange.value});
      }});
    this.topValue = el('output', {class: 'rgv-top-value', text: '100%'});
    this.thumbSelect = el('select', {'aria-label': 'Thumbnails', onchange: function () {
      self.set({thumbs: self.thumbSelect.value});
    }}, [
      el('option', {value: 'auto', text: 'Automatic'}), el('option', {value: 'lines', text: 'Lines'}),
      el('option', {value: 'heatmap', text: 'Heatmaps'})
    ]);
    this.zoomSelect = el('select', {'aria-label': 'Cell size', onchange: function () {
      self.set({zoom: self.zoomSelect.value});
    }}, ['fit', '2', '4', '8', '16', '24'].map(function (z) {
      return el('option', {value: z, text: z === 'fit' ? 'Fit width' : z + ' px per cell'});
    }));

    root.appendChild(el('div', {class: 'rgv-controls'}, [
      control('head neuron matrix rollout', 'Layer', this.layerSelect, 'Layers are numbered from 0 (exBERT counts from 1).'),
      control('neuron matrix', 'Head', this.headSelect, 'Heads are numbered from 0 (exBERT counts from 1).'),
      control('neuron', 'Query', this.tokenSelect, 'The token whose attention is explained'),
      control('head model', 'Pairs', this.filterSelect, 'Only links between the chosen sentences'),
      control('head model matrix rollout', 'Special', this.specialSelect,
        'Hide [CLS]/[SEP]-like tokens; "renormalise" rescales each row to sum to 1 without them'),
      control('head matrix rollout', 'Words', this.wordsBox,
        'Merge word pieces into words (Clark et al. 2019): attention from a word is the mean over its ' +
        'pieces, attention to a word is the sum over its pieces. Special tokens stay as they are.'),
      el('label', {class: 'rgv-control', 'data-views': 'head model', title: TOP_HELP}, [
        el('span', {class: 'rgv-control-label', text: 'Top'}), this.topRange, this.topValue
      ]),
      control('model', 'Thumbnails', this.thumbSelect, 'Line plots like BertViz, or heatmaps'),
      control('matrix rollout', 'Zoom', this.zoomSelect, 'Size of one matrix cell')
    ]));

    this.headBar = el('div', {class: 'rgv-heads', 'data-views': 'head', title: HEAD_HELP});
    root.appendChild(this.headBar);

    this.message = el('div', {class: 'rgv-message', role: 'status'});
    root.appendChild(this.message);

    this.panes = {};
    VIEWS.forEach(function (view) {
      self.panes[view] = registry[view].build.call(self);
    });
    VIEWS.forEach(function (view) {
      root.appendChild(self.panes[view]);
    });
    this.note = el('div', {class: 'rgv-precision'});
    root.appendChild(this.note);
  };

  // ----- drawing: dispatch ------------------------------------------------------------------------

  Viewer.prototype.showMessage = function (text, isError) {
    this.message.textContent = text || '';
    this.message.classList.toggle('rgv-error', !!isError);
    this.message.classList.toggle('rgv-hidden', !text);
  };

  Viewer.prototype.markDrawn = function () {
    this.drawn += 1;
    this.root.setAttribute('data-rg-drawn', String(this.drawn));
    if (!this.root.hasAttribute('data-rg-ready')) {
      this.root.setAttribute('data-rg-ready', '1');
      if (window.performance && window.performance.mark) {
        window.performance.mark('rg-first-draw'); // first-draw time of the page (browser tests measure it)
      }
      this.resolveReady();
    }
  };

  Viewer.prototype.fail = function (err) {
    this.error = err && err.message ? err.message : String(err);
    this.root.setAttribute('data-rg-error', this.error);
    this.showMessage(this.error, true);
    this.markDrawn();
  };

  /**
   * Redraw the current view. A view with its own ``render(generation)`` loads what it needs itself;
   * the others get the current layer (and, with ``wantsQK``, its query/key vectors) loaded first and
   * drawn by ``draw(layerData, qk)``.
   */
  Viewer.prototype.render = function () {
    var self = this, meta = this.meta, s = this.state, generation = ++this.generation;
    if (!meta) {
      return;
    }
    this.theme = readTheme(this.root);
    this.renderedWidth = this.root.clientWidth;
    this.error = null;
    this.root.removeAttribute('data-rg-error');
    if (this.renderCoref) {
      this.renderCoref(); // coref.js: legend and weights of the annotated pair
    }
    var view = registry[s.view];
    if (view.render) {
      view.render.call(this, generation);
      return;
    }
    var layer = s.layer, data = core.cachedLayer(meta, layer);
    var wantQK = view.wantsQK && core.dataFile(meta, 'qk', layer);
    function draw(layerData, qk) {
      if (generation !== self.generation) {
        return;
      }
      self.showMessage('');
      try {
        view.draw.call(self, layerData, qk);
      } catch (err) {
        self.fail(err);
        return;
      }
      self.markDrawn();
    }
    if (data && !wantQK) {
      draw(data, null); // cached: draw at once (keeps hover and clicks instant)
      return;
    }
    this.showMessage('Loading layer ' + layer + '\u2026');
    Promise.all([
      core.load(meta, this.base, 'layer', layer),
      wantQK ? core.load(meta, this.base, 'qk', layer) : Promise.resolve(null)
    ]).then(function (loaded) {
      draw(loaded[0], loaded[1]);
    }, function (err) {
      if (generation === self.generation) {
        self.fail(err);
      }
    });
  };

  /** Load one whole-example data file (kind 'rollout' or 'predictions') and draw it with draw(data). */
  Viewer.prototype.loadAndDraw = function (generation, kind, draw) {
    var self = this;
    this.showMessage('Loading ' + core.DATA_KINDS[kind] + '\u2026');
    core.load(this.meta, this.base, kind, 0).then(function (data) {
      if (generation !== self.generation) {
        return;
      }
      self.showMessage('');
      try {
        draw.call(self, data);
      } catch (err) {
        self.fail(err);
        return;
      }
      self.markDrawn();
    }, function (err) {
      if (generation === self.generation) {
        self.fail(err);
      }
    });
  };

  // ----- units: tokens or words, with special tokens shown or hidden --------------------------------

  /**
   * The rows/columns shown by the head and matrix views: tokens, or words (Clark's rule) when the
   * word option is on; special tokens are dropped when hidden. Each unit lists its token positions.
   */
  Viewer.prototype.units = function () {
    var meta = this.meta, s = this.state, hide = s.special !== 'show', words = !!s.words;
    var signature = meta.key + '|' + hide + '|' + words;
    if (this.cache.units && this.cache.units.signature === signature) {
      return this.cache.units;
    }
    var list = [], tokenUnit = new Int32Array(meta.n), wordUnit = {};
    for (var i = 0; i < meta.n; i++) {
      tokenUnit[i] = -1;
      var special = !!meta.special[i], word = meta.word ? meta.word[i] : -1;
      if (special && hide) {
        continue;
      }
      if (words && !special && word >= 0) {
        if (wordUnit[word] !== undefined) {
          var unit = list[wordUnit[word]];
          unit.tokens.push(i);
          if (!unit.fromWords) {
            unit.label += meta.tokens[i];
          }
          tokenUnit[i] = wordUnit[word];
          continue;
        }
        var known = meta.words && meta.words[word];
        wordUnit[word] = list.length;
        list.push({
          label: known ? String(known.text) : String(meta.tokens[i]), fromWords: !!known,
          segment: meta.segment ? meta.segment[i] : 0, special: false, tokens: [i], first: i
        });
      } else {
        list.push({
          label: String(meta.tokens[i]), segment: meta.segment ? meta.segment[i] : 0,
          special: special, tokens: [i], first: i
        });
      }
      tokenUnit[i] = list.length - 1;
    }
    this.cache.units = {
      signature: signature, list: list, tokenUnit: tokenUnit,
      identity: list.length === meta.n && !words
    };
    return this.cache.units;
  };

  /** Float32 [m, m] attention of head h between units (renormalised rows if asked). */
  Viewer.prototype.unitMatrix = function (layerData, h) {
    var meta = this.meta, s = this.state, units = this.units(), n = meta.n, m = units.list.length;
    var renorm = s.special === 'renorm';
    var signature = units.signature + '|' + s.layer + '|' + renorm;
    if (this.cache.matrixSignature !== signature || this.cache.layerData !== layerData) {
      this.cache.matrixSignature = signature;
      this.cache.layerData = layerData;
      this.cache.matrices = {};
      this.cache.cuts = {};
    }
    if (this.cache.matrices[h]) {
      return this.cache.matrices[h];
    }
    var out = new Float32Array(m * m), base = h * n * n, i, j;
    if (units.identity) {
      for (i = 0; i < n * n; i++) {
        out[i] = layerData[base + i] / 255;
      }
    } else {
      var share = units.list.map(function (unit) {
        return 1 / (255 * unit.tokens.length); // mean over the source unit's pieces
      });
      var tokenUnit = units.tokenUnit;
      for (i = 0; i < n; i++) {
        var ui = tokenUnit[i];
        if (ui < 0) {
          continue;
        }
        var row = base + i * n, o = ui * m, f = share[ui];
        for (j = 0; j < n; j++) {
          var uj = tokenUnit[j], v = layerData[row + j];
          if (uj >= 0 && v) {
            out[o + uj] += v * f; // sum over the target unit's pieces
          }
        }
      }
    }
    if (renorm) {
      for (i = 0; i < m; i++) {
        var sum = 0;
        for (j = 0; j < m; j++) {
          sum += out[i * m + j];
        }
        if (sum > 0) {
          for (j = 0; j < m; j++) {
            out[i * m + j] /= sum;
          }
        }
      }
    }
    this.cache.matrices[h] = out;
    return out;
  };

  /** Click on a token (head view) or a cell (matrix view): pin it (its links stay isolated), or unpin it. */
  Viewer.prototype.pin = function (side, unit) {
    var list = this.units().list;
    if (!list[unit]) {
      return;
    }
    var token = list[unit].first, s = this.state;
    this.hover = this.pendingHover = null;
    if (s.token === token && s.dir === side) {
      this.set({token: -1, dir: 'from'});
    } else {
      this.set({token: token, dir: side});
    }
  };

  // ----- heatmaps of the matrix and rollout views ---------------------------------------------------

  /**
   * Draw a [m, m] matrix of the current units as a heatmap with axis labels into target t
   * ({canvas, cursor, readout, legend, pane}); the matrix and rollout views share it.
   */
  Viewer.prototype.paintMatrix = function (t, matrix, caption) {
    var units = this.units(), list = units.list, m = list.length, theme = this.theme, s = this.state;
    var available = Math.max(240, (t.pane.clientWidth || this.root.clientWidth || 720) - 8);
    var measure = sizeCanvas(t.canvas, 1, 1);
    measure.font = '11px ' + theme.font;
    var labelWidth = 0;
    list.forEach(function (unit) {
      labelWidth = Math.max(labelWidth, measure.measureText(tokenText(unit.label)).width);
    });
    labelWidth = Math.min(110, Math.ceil(labelWidth)) + 8;
    var cellSize, labelled;
    if (s.zoom === 'fit') {
      cellSize = clamp(Math.floor((available - labelWidth - 24) / m), 1, 26);
      labelled = cellSize >= 8;
      if (!labelled) {
        // Too many rows for labels: fill the width, with fractional cells if need be.
        cellSize = clamp((available - 40) / m, 1, 26);
        cellSize = cellSize >= 4 ? Math.floor(cellSize) : Math.floor(cellSize * 8) / 8;
      }
    } else {
      cellSize = +s.zoom;
      labelled = cellSize >= 8;
    }
    var left = labelled ? labelWidth + 18 : 26, top = labelled ? labelWidth + 18 : 26;
    var side = Math.round(m * cellSize);
    cellSize = side / m;
    var width = left + side + 8, height = top + side + 8;
    var ctx = sizeCanvas(t.canvas, width, height);
    ctx.fillStyle = theme.bgSolid;
    ctx.fillRect(0, 0, width, height);

    var image = ctx.createImageData(m, m), data = image.data;
    var scale = t.scale > 0 ? t.scale : 1; // full colour at this value (the rollout fits it to its values)
    for (var i = 0; i < m * m; i++) {
      var rgb = dom.heatColour(theme.bgRGB, theme.heatRGB, Math.min(1, matrix[i] / scale));
      data[4 * i] = rgb[0];
      data[4 * i + 1] = rgb[1];
      data[4 * i + 2] = rgb[2];
      data[4 * i + 3] = 255;
    }
    var off = document.createElement('canvas');
    off.width = off.height = m;
    off.getContext('2d').putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, left, top, side, side);
    ctx.strokeStyle = theme.faintSolid;
    ctx.lineWidth = 1;
    ctx.strokeRect(left - 0.5, top - 0.5, side + 1, side + 1);

    ctx.fillStyle = theme.mutedSolid;
    ctx.font = '11px ' + theme.font;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillText('to \u2192', left, 9);
    ctx.save();
    ctx.translate(9, top);
    ctx.rotate(Math.PI / 2);
    ctx.fillText('from \u2192', 0, 0);
    ctx.restore();
    var roles = this.corefRoles ? this.corefRoles() : {};
    if (labelled) {
      ctx.fillStyle = theme.fgSolid;
      list.forEach(function (unit, u) {
        var role = parts.coref ? parts.coref.unitRole(roles, unit.tokens) : '';
        if (role) { // coreference marks: a bar beside the row label and under the column label
          ctx.fillStyle = parts.coref.COLOURS[role];
          ctx.fillRect(left - 4, top + u * cellSize, 3, cellSize);
          ctx.fillRect(left + u * cellSize, top - 4, cellSize, 3);
          ctx.fillStyle = theme.fgSolid;
        }
        var text = ellipsize(ctx, tokenText(unit.label), labelWidth - 8), centre = (u + 0.5) * cellSize;
        ctx.textAlign = 'right';
        ctx.fillText(text, left - 5, top + centre);
        ctx.save();
        ctx.translate(left + centre, top - 5);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.fillText(text, 0, 0);
        ctx.restore();
      });
    }
    t.geometry = {left: left, top: top, cell: cellSize, m: m, matrix: matrix};
    t.cursor.classList.add('rgv-hidden');
    t.readout.textContent = caption;
    var ends = t.legend.querySelectorAll('span');
    ends[ends.length - 1].textContent = scale === 1 ? '1' : '\u2265 ' + scale.toFixed(3);
    t.legend.querySelector('.rgv-legend-ramp').style.background =
      'linear-gradient(to right, ' + theme.bgSolid + ', ' + rgbText(theme.heatRGB) + ')';
  };

  Viewer.prototype.matrixCell = function (event, t) {
    t = t || this.matrixTarget;
    var g = t.geometry;
    if (!g) {
      return null;
    }
    var rect = t.canvas.getBoundingClientRect();
    var x = event.clientX - rect.left - g.left, y = event.clientY - rect.top - g.top;
    var i = Math.floor(y / g.cell), j = Math.floor(x / g.cell);
    if (x < 0 || y < 0 || i >= g.m || j >= g.m) {
      return null;
    }
    return {i: i, j: j};
  };

  Viewer.prototype.matrixHover = function (event, t) {
    t = t || this.matrixTarget;
    var g = t.geometry, cell = this.matrixCell(event, t), list = this.units().list;
    if (!cell) {
      t.cursor.classList.add('rgv-hidden');
      return;
    }
    var w = g.matrix[cell.i * g.m + cell.j], box = t.cursor;
    box.classList.remove('rgv-hidden');
    box.style.left = (g.left + cell.j * g.cell - 1) + 'px';
    box.style.top = (g.top + cell.i * g.cell - 1) + 'px';
    box.style.width = box.style.height = (g.cell + 2) + 'px';
    var readout = t.readout;
    readout.textContent = '';
    readout.setAttribute('data-from', list[cell.i].first);
    readout.setAttribute('data-to', list[cell.j].first);
    readout.setAttribute('data-value', String(w));
    readout.appendChild(el('span', {text: 'from ' + cell.i + ' '}));
    readout.appendChild(el('span', {class: 'rgv-quote', dir: 'auto', text: tokenText(list[cell.i].label)}));
    readout.appendChild(el('span', {text: ' \u2192 to ' + cell.j + ' '}));
    readout.appendChild(el('span', {class: 'rgv-quote', dir: 'auto', text: tokenText(list[cell.j].label)}));
    readout.appendChild(el('span', {text: ': '}));
    readout.appendChild(el('strong', {text: w.toFixed(4)}));
    readout.appendChild(el('span', {text: ' (\u00b1' + this.maxError.toFixed(5) + ')'}));
  };

  // ----- snapshot for tests and other scripts ---------------------------------------------------------

  Viewer.prototype.snapshot = function () {
    var s = this.state, meta = this.meta, heads = this.selectedHeads();
    return {
      model: meta ? meta.model : null, example: this.example, key: meta ? meta.key : null,
      view: s.view, layer: s.layer, heads: heads, head: heads.length === 1 ? heads[0] : null,
      token: s.token, dir: s.dir, filter: s.filter, special: s.special, words: !!s.words, top: s.top,
      units: meta ? this.units().list.length : 0, edges: this.edges, skipped: this.skipped || 0, drawn: this.drawn, error: this.error,
      maxError: this.maxError, predictions: this.predWord ? JSON.parse(JSON.stringify(this.predWord)) : null,
      predictionsText: this.predMessage ? this.predMessage.textContent : '',
      rolloutMatrix: s.view === 'rollout' && this.rolloutTarget.geometry ? Array.prototype.slice.call(this.rolloutTarget.geometry.matrix) : null
    };
  };

  // A meta object that arrives late (its script after this one) updates the viewers of its example.
  core.subscribe('meta', function (item) {
    viewers.forEach(function (viewer) {
      if (viewer.example === item.example) {
        viewer.metasChanged();
      }
    });
  });

  parts.viewer = {
    Viewer: Viewer, VIEWS: VIEWS, registry: registry, register: register, viewers: viewers,
    HEAD_HELP: HEAD_HELP
  };
})(window);
